from __future__ import annotations

from pathlib import Path

from catdog.storage.local.database import Database
from catdog.storage.local.migrations import MIGRATIONS


def test_database_uses_wal_and_busy_timeout(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.sqlite3")
    conn = db.connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_migrations_are_versioned_and_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    db = Database(path)
    assert db.schema_version() == len(MIGRATIONS)
    db.connection().execute("INSERT INTO manager_settings (id, body) VALUES (1, '{}')")
    db.close()
    again = Database(path)
    assert again.schema_version() == len(MIGRATIONS)
    assert again.connection().execute("SELECT COUNT(*) FROM manager_settings").fetchone()[0] == 1


def test_failed_write_rolls_back(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.sqlite3")
    try:
        with db.write() as conn:
            conn.execute("INSERT INTO manager_settings (id, body) VALUES (1, '{}')")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert db.connection().execute("SELECT COUNT(*) FROM manager_settings").fetchone()[0] == 0
