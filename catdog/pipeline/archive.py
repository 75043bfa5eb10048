"""The local archive of finished executions (moto keeps executions only in memory).

Its own SQLite file, ``<data_dir>/pipeline/executions.sqlite3``, so it survives
restarts of ``catdog up`` without touching the catalog database's schema.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from catdog.clock import from_iso
from catdog.pipeline.executions import ExecutionDetail, ExecutionSummary

_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    execution_arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date TEXT,
    stop_date TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_by_start ON executions (start_date DESC);
CREATE INDEX IF NOT EXISTS executions_by_name ON executions (name);
"""


def archive_path(data_dir: Path) -> Path:
    return data_dir / "pipeline" / "executions.sqlite3"


class ExecutionArchive:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, timeout=10.0)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def save(self, detail: ExecutionDetail) -> None:
        """Store a finished execution; saving it again replaces the earlier copy."""
        data = detail.to_dict()
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO executions VALUES (?, ?, ?, ?, ?, ?)",
                (
                    detail.summary.execution_arn,
                    detail.summary.name,
                    detail.summary.status,
                    data["start_date"],
                    data["stop_date"],
                    json.dumps(data),
                ),
            )

    def has(self, execution_arn: str) -> bool:
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM executions WHERE execution_arn = ?", (execution_arn,)
            ).fetchone()
        return row is not None

    def get(self, arn_or_name: str) -> ExecutionDetail | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT detail FROM executions WHERE execution_arn = ? OR name = ? "
                "ORDER BY start_date DESC LIMIT 1",
                (arn_or_name, arn_or_name),
            ).fetchone()
        return None if row is None else ExecutionDetail.from_dict(json.loads(row[0]))

    def list(self, limit: int = 50) -> list[ExecutionSummary]:
        """Newest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT execution_arn, name, status, start_date, stop_date FROM executions "
                "ORDER BY start_date DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            ExecutionSummary(
                execution_arn=arn,
                name=name,
                status=status,
                start_date=None if start is None else from_iso(start),
                stop_date=None if stop is None else from_iso(stop),
                archived=True,
            )
            for arn, name, status, start, stop in rows
        ]
