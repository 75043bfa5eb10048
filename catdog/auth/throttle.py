"""Login rate limiting: at most N failures per user name and address in a window.

Failures are persisted in SQLite, so the limit holds across the web server's
worker processes and restarts. A successful login clears that pair's failures.
"""

from __future__ import annotations

from datetime import timedelta

from catdog.clock import Clock, to_iso, utc_now
from catdog.errors import TooManyAttempts
from catdog.storage.local.database import Database

MAX_FAILURES = 5
WINDOW = timedelta(minutes=5)


class LoginThrottle:
    def __init__(
        self,
        db: Database,
        max_failures: int = MAX_FAILURES,
        window: timedelta = WINDOW,
        clock: Clock = utc_now,
    ) -> None:
        self._db = db
        self._max_failures = max_failures
        self._window = window
        self._clock = clock

    def check(self, username: str, address: str) -> None:
        """Raises TooManyAttempts while this pair is locked out."""
        since = to_iso(self._clock() - self._window)
        row = (
            self._db.connection()
            .execute(
                "SELECT COUNT(*) FROM login_failures"
                " WHERE username = ? AND address = ? AND failed_at > ?",
                (username, address, since),
            )
            .fetchone()
        )
        if int(row[0]) >= self._max_failures:
            minutes = int(self._window.total_seconds() // 60)
            raise TooManyAttempts(
                f"too many failed logins; wait {minutes} minutes before trying again"
            )

    def record_failure(self, username: str, address: str) -> None:
        now = self._clock()
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO login_failures (username, address, failed_at) VALUES (?,?,?)",
                (username, address, to_iso(now)),
            )
            # Old rows are useless: keep the table small.
            conn.execute(
                "DELETE FROM login_failures WHERE failed_at <= ?",
                (to_iso(now - self._window),),
            )

    def clear(self, username: str, address: str) -> None:
        with self._db.write() as conn:
            conn.execute(
                "DELETE FROM login_failures WHERE username = ? AND address = ?",
                (username, address),
            )
