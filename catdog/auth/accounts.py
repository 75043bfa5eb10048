"""Local manager accounts (the embedded backend; Cognito replaces them on AWS).

Passwords are stored as argon2id hashes; a login for an unknown name still
spends one hash verification, so timing does not reveal which names exist.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from catdog.clock import Clock, to_iso, utc_now
from catdog.errors import Conflict, InvalidInput
from catdog.storage.local.database import Database

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def validate_username(name: object) -> str:
    if not isinstance(name, str) or not _USERNAME.fullmatch(name):
        raise InvalidInput(
            "a user name is 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter"
            " or digit"
        )
    return name


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    return password


class ManagerAccounts:
    """Manager names and password hashes in the local SQLite database."""

    def __init__(
        self, db: Database, hasher: PasswordHasher | None = None, clock: Clock = utc_now
    ) -> None:
        self._db = db
        self._hasher = hasher or PasswordHasher()
        self._clock = clock
        self._dummy_hash: str | None = None

    def add_user(self, username: str, password: str) -> None:
        """Raises InvalidInput for a bad name or password, Conflict if the name exists."""
        username = validate_username(username)
        password_hash = self._hasher.hash(validate_password(password))
        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT INTO manager_accounts (username, password_hash, created_at)"
                    " VALUES (?,?,?)",
                    (username, password_hash, to_iso(self._clock())),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"a manager named {username!r} already exists") from None

    def change_password(self, username: str, password: str) -> None:
        """A new password; every session and API token issued before stops working."""
        password_hash = self._hasher.hash(validate_password(password))
        with self._db.write() as conn:
            conn.execute(
                "UPDATE manager_accounts SET password_hash = ?, token_version = token_version + 1"
                " WHERE username = ?",
                (password_hash, username),
            )

    def token_version(self, username: str) -> int | None:
        """The version sessions and tokens must carry; None when there is no such manager."""
        row = (
            self._db.connection()
            .execute("SELECT token_version FROM manager_accounts WHERE username = ?", (username,))
            .fetchone()
        )
        return None if row is None else int(row[0])

    def revoke_tokens(self, username: str) -> None:
        """Every session and API token of ``username`` issued so far stops working."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE manager_accounts SET token_version = token_version + 1 WHERE username = ?",
                (username,),
            )

    def exists(self, username: str) -> bool:
        return self.token_version(username) is not None

    def usernames(self) -> list[str]:
        rows = self._db.connection().execute(
            "SELECT username FROM manager_accounts ORDER BY username"
        )
        return [row[0] for row in rows.fetchall()]

    def verify(self, username: str, password: str) -> bool:
        """True when ``password`` is this manager's password."""
        stored = self._stored_hash(username) if _USERNAME.fullmatch(username) else None
        if stored is None:
            self._spend_one_verification(password)
            return False
        try:
            self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        if self._hasher.check_needs_rehash(stored):
            self._rehash(username, password)
        return True

    def _rehash(self, username: str, password: str) -> None:
        """Same password, stronger parameters: tokens stay valid."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE manager_accounts SET password_hash = ? WHERE username = ?",
                (self._hasher.hash(password), username),
            )

    def _stored_hash(self, username: str) -> str | None:
        row = (
            self._db.connection()
            .execute("SELECT password_hash FROM manager_accounts WHERE username = ?", (username,))
            .fetchone()
        )
        return None if row is None else str(row[0])

    def _spend_one_verification(self, password: str) -> None:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("catdog-no-such-user")
        with contextlib.suppress(VerificationError):
            self._hasher.verify(self._dummy_hash, password)
