"""Training runs on SQLite. A partial unique index makes "one active run" a database fact."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from catdog.clock import to_iso
from catdog.domain import Page, RetrainMode, RunProgress, RunStatus, TrainingRun, Trigger
from catdog.errors import InvalidInput, NotFound, RunAlreadyActive
from catdog.storage.cursor import check_limit, decode_cursor, encode_cursor
from catdog.storage.local.database import Database


class SqliteTrainingRuns:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        run_id: str,
        trigger: Trigger,
        at: datetime,
        execution_id: str | None = None,
        retrain_mode: RetrainMode = RetrainMode.INCREMENTAL,
    ) -> TrainingRun:
        run = TrainingRun.new(run_id, trigger, at, execution_id, retrain_mode)
        with self._db.write() as conn:
            existing = _load(conn, run_id)
            if existing is not None:
                return existing
            active = conn.execute("SELECT body FROM training_runs WHERE active = 1").fetchone()
            if active is not None:
                other = TrainingRun.from_dict(json.loads(active[0]))
                raise RunAlreadyActive(f"training run {other.run_id} is still {other.status.value}")
            try:
                conn.execute(
                    "INSERT INTO training_runs (run_id, created_at, active, body) VALUES (?,?,1,?)",
                    (run_id, to_iso(at), json.dumps(run.to_dict())),
                )
            except sqlite3.IntegrityError:
                raise RunAlreadyActive("another training run is active") from None
        return run

    def get(self, run_id: str) -> TrainingRun:
        run = _load(self._db.connection(), run_id)
        if run is None:
            raise NotFound(f"no training run {run_id!r}")
        return run

    def active(self) -> TrainingRun | None:
        row = (
            self._db.connection()
            .execute("SELECT body FROM training_runs WHERE active = 1")
            .fetchone()
        )
        return None if row is None else TrainingRun.from_dict(json.loads(row[0]))

    def list(self, cursor: str | None = None, limit: int = 50) -> Page[TrainingRun]:
        check_limit(limit)
        where, params = "", tuple[str, ...]()
        if cursor is not None:
            position = decode_cursor(cursor)
            if not (
                isinstance(position, list)
                and len(position) == 2
                and all(isinstance(part, str) for part in position)
            ):
                raise InvalidInput("the cursor is not valid; start again without it")
            where = "WHERE created_at < ? OR (created_at = ? AND run_id < ?)"
            params = (position[0], position[0], position[1])
        rows = (
            self._db.connection()
            .execute(
                f"SELECT created_at, run_id, body FROM training_runs {where}"
                " ORDER BY created_at DESC, run_id DESC LIMIT ?",
                (*params, limit + 1),
            )
            .fetchall()
        )
        items = [TrainingRun.from_dict(json.loads(r["body"])) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor([last["created_at"], last["run_id"]])
        return Page(items, next_cursor)

    def record_progress(self, run_id: str, progress: RunProgress) -> None:
        with self._db.write() as conn:
            run = _require(conn, run_id)
            _store(conn, run.with_progress(progress))

    def record_serving(self, run_id: str, serving: Sequence[dict[str, Any]]) -> None:
        with self._db.write() as conn:
            run = _require(conn, run_id)
            _store(conn, replace(run, serving=list(serving)))

    def transition(
        self,
        run_id: str,
        to: RunStatus,
        at: datetime,
        *,
        allowed_from: frozenset[RunStatus],
        model_version: str | None = None,
        metrics: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> TrainingRun:
        with self._db.write() as conn:
            run = _require(conn, run_id)
            if run.status == to:
                return run
            updated = run.transitioned(to, at, allowed_from, model_version, metrics, error)
            if to.is_active and not run.status.is_active:
                holder = conn.execute(
                    "SELECT run_id FROM training_runs WHERE active = 1"
                ).fetchone()
                if holder is not None:
                    raise RunAlreadyActive(f"training run {holder[0]} is active")
            _store(conn, updated)
        return updated


def _load(conn: sqlite3.Connection, run_id: str) -> TrainingRun | None:
    row = conn.execute("SELECT body FROM training_runs WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else TrainingRun.from_dict(json.loads(row[0]))


def _require(conn: sqlite3.Connection, run_id: str) -> TrainingRun:
    run = _load(conn, run_id)
    if run is None:
        raise NotFound(f"no training run {run_id!r}")
    return run


def _store(conn: sqlite3.Connection, run: TrainingRun) -> None:
    conn.execute(
        "UPDATE training_runs SET active = ?, body = ? WHERE run_id = ?",
        (1 if run.status.is_active else None, json.dumps(run.to_dict()), run.run_id),
    )
