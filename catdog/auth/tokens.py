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


class ApiTokens:
    """HMAC-signed ``{"sub", "exp"}`` tokens; any change to a token breaks its signature."""

    def __init__(
        self, secret_key: str, lifetime: timedelta = TOKEN_LIFETIME, clock: Clock = utc_now
    ) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=_SALT)
        self._lifetime = lifetime
        self._clock = clock

    def issue(self, username: str) -> IssuedToken:
        expires_at = self._clock() + self._lifetime
        token = self._serializer.dumps({"sub": username, "exp": int(expires_at.timestamp())})
        return IssuedToken(str(token), username, expires_at)

    def verify(self, token: str) -> str:
        """The user name the token was issued to; raises InvalidToken."""
        try:
            claims = self._serializer.loads(token)
        except BadSignature:
            raise InvalidToken("the token is not valid") from None
        if not isinstance(claims, dict):
            raise InvalidToken("the token is not valid")
        subject, expires = claims.get("sub"), claims.get("exp")
        if not isinstance(subject, str) or not isinstance(expires, int):
            raise InvalidToken("the token is not valid")
        if self._clock().timestamp() >= expires:
            raise InvalidToken("the token has expired; ask for a new one")
        return subject
