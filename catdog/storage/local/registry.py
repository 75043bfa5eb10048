"""Model registry on SQLite: the champion pointer changes only by compare-and-set."""

from __future__ import annotations

import builtins
import json
import sqlite3
from dataclasses import replace
from datetime import datetime

from catdog.clock import from_iso
from catdog.domain import ChampionChange, ModelStatus, ModelVersion, champion_change
from catdog.errors import Conflict, InvalidInput, NotFound
from catdog.storage.local.database import Database


class SqliteModelRegistry:
    def __init__(self, db: Database) -> None:
        self._db = db

    def register(self, model: ModelVersion) -> ModelVersion:
        with self._db.write() as conn:
            existing = _load(conn, model.version)
            if existing is not None:
                return existing
            conn.execute(
                "INSERT INTO model_versions (version, created_at, body) VALUES (?,?,?)",
                (model.version, model.to_dict()["created_at"], json.dumps(model.to_dict())),
            )
        return model

    def get(self, version: str) -> ModelVersion:
        model = _load(self._db.connection(), version)
        if model is None:
            raise NotFound(f"no model version {version!r}")
        return model

    def list(self) -> list[ModelVersion]:
        rows = (
            self._db.connection()
            .execute("SELECT body FROM model_versions ORDER BY created_at DESC, version DESC")
            .fetchall()
        )
        return [ModelVersion.from_dict(json.loads(r[0])) for r in rows]

    def champion(self) -> ModelVersion | None:
        conn = self._db.connection()
        version = _champion_version(conn)
        return None if version is None else _load(conn, version)

    def promote(
        self,
        version: str,
        expected_champion: str | None,
        by: str,
        reason: str,
        at: datetime,
        override: bool = False,
    ) -> ChampionChange:
        with self._db.write() as conn:
            model = _load(conn, version)
            if model is None:
                raise NotFound(f"no model version {version!r}")
            current = _champion_version(conn)
            change = champion_change(
                model, current, expected_champion, by, reason, at, override=override
            )
            if current is not None:
                old = _load(conn, current)
                if old is not None:
                    _store(conn, replace(old, status=ModelStatus.RETIRED))
            _store(conn, replace(model, status=ModelStatus.CHAMPION))
            conn.execute(
                "INSERT INTO champion (id, version) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                (version,),
            )
            conn.execute(
                "INSERT INTO champion_changes (body) VALUES (?)", (json.dumps(change.to_dict()),)
            )
        return change

    def set_status(self, version: str, status: ModelStatus) -> ModelVersion:
        if status == ModelStatus.CHAMPION:
            raise InvalidInput("use promote to make a model champion")
        with self._db.write() as conn:
            model = _load(conn, version)
            if model is None:
                raise NotFound(f"no model version {version!r}")
            if model.status == ModelStatus.CHAMPION:
                raise Conflict(f"model {version} is the champion; promote another model first")
            updated = replace(model, status=status)
            _store(conn, updated)
        return updated

    def history(self) -> builtins.list[ChampionChange]:
        rows = (
            self._db.connection()
            .execute("SELECT body FROM champion_changes ORDER BY id DESC")
            .fetchall()
        )
        changes = []
        for row in rows:
            data = json.loads(row[0])
            changes.append(ChampionChange(**{**data, "at": from_iso(data["at"])}))
        return changes


def _champion_version(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT version FROM champion WHERE id = 1").fetchone()
    return None if row is None else str(row[0])


def _load(conn: sqlite3.Connection, version: str) -> ModelVersion | None:
    row = conn.execute("SELECT body FROM model_versions WHERE version = ?", (version,)).fetchone()
    return None if row is None else ModelVersion.from_dict(json.loads(row[0]))


def _store(conn: sqlite3.Connection, model: ModelVersion) -> None:
    conn.execute(
        "UPDATE model_versions SET body = ? WHERE version = ?",
        (json.dumps(model.to_dict()), model.version),
    )
