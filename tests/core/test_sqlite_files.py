"""Opening one new SQLite file from many processes at once (gunicorn's workers do)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from catdog.pipeline.archive import ExecutionArchive
from catdog.sqlite_files import connect
from catdog.storage.local.database import Database

PROCESSES = 6
ROUNDS = 8


def _open_catalog(path: str, barrier: Barrier, results: multiprocessing.Queue[str]) -> None:
    barrier.wait()
    try:
        Database(Path(path)).connection()
        results.put("ok")
    except sqlite3.Error as exc:
        results.put(repr(exc))


def _open_archive(path: str, barrier: Barrier, results: multiprocessing.Queue[str]) -> None:
    barrier.wait()
    try:
        ExecutionArchive(Path(path))
        results.put("ok")
    except sqlite3.Error as exc:
        results.put(repr(exc))


@pytest.mark.parametrize("opener", [_open_catalog, _open_archive], ids=["catalog", "archive"])
def test_processes_opening_a_new_file_at_once_all_succeed(
    tmp_path: Path, opener: Callable[..., None]
) -> None:
    # Before the WAL switch was retried, about 4 rounds in 10 had a process fail
    # with "database is locked", and gunicorn refused to boot.
    context = multiprocessing.get_context("fork")
    failures: list[str] = []
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"round-{round_}.sqlite3")
        barrier = context.Barrier(PROCESSES)
        results: multiprocessing.Queue[str] = context.Queue()
        workers = [
            context.Process(target=opener, args=(path, barrier, results)) for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        failures += [outcome for outcome in outcomes if outcome != "ok"]
        assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert failures == []


def test_a_file_locked_past_the_busy_timeout_still_fails(tmp_path: Path) -> None:
    path = tmp_path / "held.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        connect(path, busy_timeout_ms=200)
    holder.execute("ROLLBACK")
    conn = connect(path, busy_timeout_ms=200)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 200


def test_connect_creates_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c.sqlite3"
    connect(path).execute("CREATE TABLE t (x)")
    assert path.is_file()
