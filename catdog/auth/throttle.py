"""Login rate limiting: failures per (user name, address) and per user name, in a window.

Checking and recording is one SQLite ``BEGIN IMMEDIATE`` transaction: an attempt
first takes a slot (a failure row, written before the password is checked) and
gives it back only when the password was right. Parallel attempts therefore
count one by one: with a limit of 5, at most 5 passwords are ever evaluated,
whatever the concurrency, across threads, worker processes and restarts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from catdog.clock import Clock, from_iso, to_iso, utc_now
from catdog.errors import TooManyAttempts
from catdog.storage.local.database import Database

MAX_FAILURES = 5
MAX_ACCOUNT_FAILURES = 20
WINDOW = timedelta(minutes=5)


class LoginThrottle:
    def __init__(
        self,
        db: Database,
        max_failures: int = MAX_FAILURES,
        window: timedelta = WINDOW,
        clock: Clock = utc_now,
        max_account_failures: int = MAX_ACCOUNT_FAILURES,
    ) -> None:
        self._db = db
        self._max_failures = max_failures
        self._max_account_failures = max_account_failures
        self._window = window
        self._clock = clock

    def clear(self, username: str, address: str) -> None:
        """A correct password: this pair's failures (the slot just taken too) are forgiven."""
        with self._db.write() as conn:
            conn.execute(
                "DELETE FROM login_failures WHERE username = ? AND address = ?",
                (username, address),
            )

    def check_and_record(self, username: str, address: str) -> None:
        """Raise TooManyAttempts while the pair or the account is locked out; otherwise
        record this attempt as a failure (``clear`` forgives it when the password is right).
        """
        now = self._clock()
        since = to_iso(now - self._window)
        with self._db.write() as conn:
            # Old rows are useless: keep the table small.
            conn.execute("DELETE FROM login_failures WHERE failed_at <= ?", (since,))
            pair = conn.execute(
                "SELECT COUNT(*), MIN(failed_at) FROM login_failures"
                " WHERE username = ? AND address = ? AND failed_at > ?",
                (username, address, since),
            ).fetchone()
            account = conn.execute(
                "SELECT COUNT(*), MIN(failed_at) FROM login_failures"
                " WHERE username = ? AND failed_at > ?",
                (username, since),
            ).fetchone()
            if int(pair[0]) >= self._max_failures:
                raise self._refusal(now, str(pair[1]), "from this address")
            if int(account[0]) >= self._max_account_failures:
                raise self._refusal(now, str(account[1]), "for this account")
            conn.execute(
                "INSERT INTO login_failures (username, address, failed_at) VALUES (?,?,?)",
                (username, address, to_iso(now)),
            )

    def _refusal(self, now: datetime, oldest: str, scope: str) -> TooManyAttempts:
        retry = (from_iso(oldest) + self._window - now).total_seconds()
        minutes = int(self._window.total_seconds() // 60)
        return TooManyAttempts(
            f"too many failed logins {scope}; wait up to {minutes} minutes before trying again",
            retry_after_s=max(1.0, retry),
        )
