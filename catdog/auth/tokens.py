"""Bearer tokens for the local backend's API: signed with the secret key, expiring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from catdog.clock import Clock, utc_now
from catdog.errors import InvalidToken

TOKEN_LIFETIME = timedelta(hours=12)
_SALT = "catdog.api-token.v1"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    username: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenClaims:
    """Who a valid token names, and the account's token version when it was issued."""

    username: str
    version: int


class ApiTokens:
    """HMAC-signed ``{"sub", "exp", "tv"}`` tokens; any change to a token breaks its
    signature. ``tv`` is the account's token version: the caller compares it with the
    current one on every request, so signing out or a new password revokes the token."""

    def __init__(
        self, secret_key: str, lifetime: timedelta = TOKEN_LIFETIME, clock: Clock = utc_now
    ) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=_SALT)
        self._lifetime = lifetime
        self._clock = clock

    def issue(self, username: str, version: int = 0) -> IssuedToken:
        expires_at = self._clock() + self._lifetime
        claims = {"sub": username, "exp": int(expires_at.timestamp()), "tv": version}
        return IssuedToken(str(self._serializer.dumps(claims)), username, expires_at)

    def verify(self, token: str) -> TokenClaims:
        """The user name and token version the token was issued with; raises InvalidToken."""
        try:
            claims = self._serializer.loads(token)
        except BadSignature:
            raise InvalidToken("the token is not valid") from None
        if not isinstance(claims, dict):
            raise InvalidToken("the token is not valid")
        subject, expires, version = claims.get("sub"), claims.get("exp"), claims.get("tv", 0)
        if not isinstance(subject, str) or not isinstance(expires, int):
            raise InvalidToken("the token is not valid")
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidToken("the token is not valid")
        if self._clock().timestamp() >= expires:
            raise InvalidToken("the token has expired; ask for a new one")
        return TokenClaims(subject, version)
