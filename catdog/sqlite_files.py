"""Opening the embedded default's SQLite files: one way, for the catalog and the archive.

Several processes open the same files at once (gunicorn's workers, ``catdog up``, the
CLI). Switching a new file to WAL takes its exclusive lock; when two connections make
the switch at once, each holds a shared lock the other waits on, and SQLite answers
"database is locked" at once rather than call its busy handler into a deadlock. So a
second process starting at the same moment failed however long the busy timeout was.
``connect`` retries that one step until the busy timeout has passed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

BUSY_TIMEOUT_MS = 15_000
_RETRY_PAUSE_S = 0.02

IsolationLevel = Literal["DEFERRED", "EXCLUSIVE", "IMMEDIATE"] | None


def connect(
    path: Path,
    *,
    isolation_level: IsolationLevel = "DEFERRED",
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> sqlite3.Connection:
    """A connection to ``path`` in WAL mode with a busy timeout; creates the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=isolation_level, timeout=busy_timeout_ms / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        _use_wal(conn, clock() + busy_timeout_ms / 1000, clock, sleep)
    except BaseException:
        conn.close()
        raise
    return conn


def _use_wal(
    conn: sqlite3.Connection,
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or clock() >= deadline:
                raise
        sleep(_RETRY_PAUSE_S)


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)
