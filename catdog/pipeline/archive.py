"""The local archive of finished executions (moto keeps executions only in memory).

Its own SQLite file, ``<data_dir>/pipeline/executions.sqlite3``, so it survives
restarts of ``catdog up`` without touching the catalog database's schema.

Every execution that did something is kept in full (input, output, events).
Skipped checks are kept in full for a retention period, then ``compact`` folds
them into one count per hour and outcome, so the archive grows with the work
done, not with time.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from catdog.clock import from_iso, to_iso
from catdog.pipeline.executions import ExecutionDetail, ExecutionSummary
from catdog.pipeline.history import ROLLUP_PREFIX, ExecutionEntry, ExecutionQuery, Position
from catdog.pipeline.outcome import SKIPPED, Outcome, outcome_of
from catdog.sqlite_files import connect

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
# Added later: existing archives get these columns, and their outcomes, on open.
_COLUMNS = {
    "outcome": "TEXT",
    "count": "INTEGER NOT NULL DEFAULT 1",
    "first_start": "TEXT",
    "rollup": "INTEGER NOT NULL DEFAULT 0",  # 1: skipped checks of one hour, as a count
}
_SKIPPED_SQL = ", ".join(f"'{outcome.value}'" for outcome in sorted(SKIPPED))
_INDEXES = f"""
CREATE INDEX IF NOT EXISTS executions_newest ON executions (start_date DESC, execution_arn DESC);
CREATE INDEX IF NOT EXISTS executions_by_outcome
    ON executions (outcome, start_date DESC, execution_arn DESC);
CREATE INDEX IF NOT EXISTS executions_to_compact ON executions (start_date)
    WHERE rollup = 0 AND outcome IN ({_SKIPPED_SQL});
"""
_ENTRY_COLUMNS = (
    "execution_arn, name, status, outcome, start_date, stop_date, count, first_start, rollup"
)
_BATCH = 200


def archive_path(data_dir: Path) -> Path:
    return data_dir / "pipeline" / "executions.sqlite3"


class ExecutionArchive:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        with self._lock:
            db = self._connect()
            try:
                # One writer at a time: catdog up, the web app and the CLI may all open
                # the archive at once, and only one of them may add the new columns.
                db.isolation_level = None
                db.execute("BEGIN IMMEDIATE")
                _run_script(db, _SCHEMA)
                _upgrade(db)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            finally:
                db.close()

    def _connect(self) -> sqlite3.Connection:
        return connect(self._path)

    @property
    def path(self) -> Path:
        return self._path

    def save(self, detail: ExecutionDetail) -> None:
        """Store a finished execution; saving it again replaces the earlier copy."""
        data = detail.to_dict()
        outcome = outcome_of(detail.summary.status, detail.output, detail.state_names)
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO executions (execution_arn, name, status, start_date,"
                " stop_date, detail, outcome, count, first_start) VALUES (?,?,?,?,?,?,?,1,?)",
                (
                    detail.summary.execution_arn,
                    detail.summary.name,
                    detail.summary.status,
                    data["start_date"],
                    data["stop_date"],
                    json.dumps(data),
                    outcome.value,
                    data["start_date"],
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
                "SELECT detail FROM executions WHERE (execution_arn = ? OR name = ?) AND rollup = 0"
                " ORDER BY start_date DESC LIMIT 1",
                (arn_or_name, arn_or_name),
            ).fetchone()
        return None if row is None else ExecutionDetail.from_dict(json.loads(row[0]))

    def list(self, limit: int = 50) -> list[ExecutionSummary]:
        """Single executions, newest first (compacted skipped checks are not listed)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT execution_arn, name, status, start_date, stop_date FROM executions "
                "WHERE rollup = 0 ORDER BY start_date DESC, execution_arn DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            ExecutionSummary(
                execution_arn=arn,
                name=name,
                status=status,
                start_date=_moment(start),
                stop_date=_moment(stop),
                archived=True,
            )
            for arn, name, status, start, stop in rows
        ]

    def entries(self, query: ExecutionQuery, after: Position | None) -> Iterator[ExecutionEntry]:
        """Entries matching ``query``, newest first, strictly after ``after``; read in
        batches along an index, so the cost of a page does not grow with the archive."""
        clauses, params = _where(query)
        position = after
        while True:
            where = list(clauses)
            values: list[Any] = list(params)
            if position is not None:
                # A row value, so SQLite seeks the index instead of scanning up to the cursor.
                where.append("(start_date, execution_arn) < (?, ?)")
                values.extend(position)
            sql = (
                f"SELECT {_ENTRY_COLUMNS} FROM executions"
                f"{' WHERE ' + ' AND '.join(where) if where else ''}"
                " ORDER BY start_date DESC, execution_arn DESC LIMIT ?"
            )
            with self._connect() as db:
                rows = db.execute(sql, (*values, _BATCH)).fetchall()
            for row in rows:
                entry = _entry(row)
                position = entry.position
                yield entry
            if len(rows) < _BATCH:
                return

    def compact(self, before: datetime) -> int:
        """Fold skipped checks that started before ``before`` into counts per hour and
        outcome; returns how many executions were folded."""
        cutoff = to_iso(before)
        with self._lock, self._connect() as db:
            groups = db.execute(
                "SELECT outcome, substr(start_date, 1, 13) AS hour, COUNT(*), MIN(start_date),"
                " MAX(start_date), MAX(stop_date) FROM executions"
                f" WHERE rollup = 0 AND outcome IN ({_SKIPPED_SQL}) AND start_date < ?"
                " GROUP BY outcome, hour",
                (cutoff,),
            ).fetchall()
            for outcome, hour, count, first, newest, stopped in groups:
                _add_to_rollup(db, outcome, hour, count, first, newest, stopped)
            db.execute(
                f"DELETE FROM executions WHERE rollup = 0 AND outcome IN ({_SKIPPED_SQL})"
                " AND start_date < ?",
                (cutoff,),
            )
        return sum(group[2] for group in groups)

    def size(self) -> dict[str, int]:
        """Rows kept: single executions and hourly counts (for ops and the benchmark)."""
        with self._connect() as db:
            singles, rollups, folded = db.execute(
                "SELECT SUM(rollup = 0), SUM(rollup), SUM(CASE WHEN rollup THEN count END)"
                " FROM executions"
            ).fetchone()
        return {"executions": singles or 0, "hourly_counts": rollups or 0, "folded": folded or 0}


def _upgrade(db: sqlite3.Connection) -> None:
    present = {row[1] for row in db.execute("PRAGMA table_info(executions)")}
    for name, kind in _COLUMNS.items():
        if name not in present:
            db.execute(f"ALTER TABLE executions ADD COLUMN {name} {kind}")
    _run_script(db, _INDEXES)
    missing = db.execute("SELECT execution_arn, detail FROM executions WHERE outcome IS NULL")
    for arn, text in missing.fetchall():
        detail = ExecutionDetail.from_dict(json.loads(text))
        outcome = outcome_of(detail.summary.status, detail.output, detail.state_names)
        db.execute(
            "UPDATE executions SET outcome = ?, first_start = start_date WHERE execution_arn = ?",
            (outcome.value, arn),
        )


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Statement by statement (``executescript`` would commit the open transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _add_to_rollup(
    db: sqlite3.Connection,
    outcome: str,
    hour: str,
    count: int,
    first: str,
    newest: str,
    stopped: str | None,
) -> None:
    arn = f"{ROLLUP_PREFIX}{outcome}:{hour}"
    row = db.execute(
        "SELECT count, first_start, start_date, stop_date FROM executions WHERE execution_arn = ?",
        (arn,),
    ).fetchone()
    if row is not None:
        count += row[0]
        first = min(first, row[1])
        newest = max(newest, row[2])
        stopped = max(filter(None, (stopped, row[3])), default=None)
    db.execute(
        "INSERT OR REPLACE INTO executions (execution_arn, name, status, start_date, stop_date,"
        " detail, outcome, count, first_start, rollup) VALUES (?,?,?,?,?,?,?,?,?,1)",
        (arn, f"{count} skipped checks", "SUCCEEDED", newest, stopped, "{}", outcome, count, first),
    )


def _where(query: ExecutionQuery) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.outcomes is not None:
        clauses.append(f"outcome IN ({', '.join('?' for _ in query.outcomes)})")
        params.extend(sorted(outcome.value for outcome in query.outcomes))
    if query.since is not None:
        clauses.append("start_date >= ?")
        params.append(to_iso(query.since))
    if query.until is not None:
        clauses.append("start_date < ?")
        params.append(to_iso(query.until))
    return clauses, params


def _moment(text: str | None) -> datetime | None:
    return None if text is None else from_iso(text)


def _entry(row: tuple[Any, ...]) -> ExecutionEntry:
    arn, name, status, outcome, start, stop, count, first, rollup = row
    return ExecutionEntry(
        execution_arn=arn,
        name=name,
        status=status,
        outcome=Outcome(outcome),
        start_date=_moment(start),
        stop_date=_moment(stop),
        count=int(count),
        first_start=_moment(first),
        archived=True,
        rollup=bool(rollup),
    )
