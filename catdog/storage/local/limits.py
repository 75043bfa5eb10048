"""Rate-limit buckets and the daily byte ledger in the local SQLite database.

Each call is one ``BEGIN IMMEDIATE`` transaction, so every thread and worker
process of the web app shares the same buckets and counts each request once.
"""

from __future__ import annotations

import itertools
import sqlite3

from catdog.rate_limits import BucketRule, BucketState, take_token
from catdog.storage.local.database import Database

# Every this many calls, rows that no longer matter are deleted.
_SWEEP_EVERY = 500
_IDLE_BUCKET_S = 3600.0


class SqliteBuckets:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._calls = itertools.count(1)

    def take(self, key: str, rule: BucketRule, now: float) -> float:
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT tokens, updated FROM rate_buckets WHERE key = ?", (key,)
            ).fetchone()
            state = None if row is None else BucketState(float(row[0]), float(row[1]))
            state, wait = take_token(state, rule, now)
            conn.execute(
                "INSERT INTO rate_buckets (key, tokens, updated) VALUES (?,?,?)"
                " ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens,"
                " updated = excluded.updated",
                (key, state.tokens, state.updated),
            )
            if next(self._calls) % _SWEEP_EVERY == 0:
                _sweep_buckets(conn, now)
            return wait


class SqliteByteLedger:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._calls = itertools.count(1)

    def reserve(self, key: str, day: str, amount: int, cap: int) -> bool:
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT bytes FROM stored_bytes WHERE address = ? AND day = ?", (key, day)
            ).fetchone()
            used = 0 if row is None else int(row[0])
            if used + amount > cap:
                return False
            conn.execute(
                "INSERT INTO stored_bytes (address, day, bytes) VALUES (?,?,?)"
                " ON CONFLICT (address, day) DO UPDATE SET bytes = bytes + excluded.bytes",
                (key, day, amount),
            )
            if next(self._calls) % _SWEEP_EVERY == 0:
                conn.execute("DELETE FROM stored_bytes WHERE day < ?", (day,))
            return True

    def release(self, key: str, day: str, amount: int) -> None:
        with self._db.write() as conn:
            conn.execute(
                "UPDATE stored_bytes SET bytes = MAX(0, bytes - ?) WHERE address = ? AND day = ?",
                (amount, key, day),
            )


def _sweep_buckets(conn: sqlite3.Connection, now: float) -> None:
    conn.execute("DELETE FROM rate_buckets WHERE updated < ?", (now - _IDLE_BUCKET_S,))
