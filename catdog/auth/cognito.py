"""Cognito on AWS: JWT validation for the API and the hosted UI's authorization-code flow.

A token is accepted only when its RS256 signature verifies against a key of the
pool's JWKS, its issuer is the pool, it has not expired, and it was issued to
our app client (``aud`` for ID tokens, ``client_id`` for access tokens).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from catdog.errors import ConfigurationError, InvalidToken, ServiceUnavailable
from catdog.settings import Settings

TOKEN_USES = frozenset({"access", "id"})
HTTP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class CognitoConfig:
    region: str
    user_pool_id: str
    client_id: str
    domain: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> CognitoConfig:
        aws = settings.aws
        if not aws.cognito_user_pool_id or not aws.cognito_client_id:
            raise ConfigurationError(
                "the AWS backend needs CATDOG_AWS_COGNITO_USER_POOL_ID and"
                " CATDOG_AWS_COGNITO_CLIENT_ID"
            )
        return cls(aws.region, aws.cognito_user_pool_id, aws.cognito_client_id, aws.cognito_domain)

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    @property
    def hosted_ui(self) -> str:
        if not self.domain:
            raise ConfigurationError("the hosted UI needs CATDOG_AWS_COGNITO_DOMAIN")
        if self.domain.startswith("https://"):
            return self.domain.rstrip("/")
        return f"https://{self.domain}.auth.{self.region}.amazoncognito.com"


class SigningKeys(Protocol):
    def key_for(self, token: str) -> Any:
        """The public key named by the token's ``kid``; raises InvalidToken."""
        ...


class JwksKeys:
    """The pool's published keys, fetched once and cached (refetched for an unknown kid)."""

    def __init__(self, jwks_url: str) -> None:
        self._client = jwt.PyJWKClient(jwks_url, cache_keys=True, timeout=int(HTTP_TIMEOUT_S))

    def key_for(self, token: str) -> Any:
        try:
            return self._client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise ServiceUnavailable("the Cognito key set cannot be fetched") from exc
        except jwt.PyJWKClientError as exc:
            raise InvalidToken(f"the token's signing key is unknown: {exc}") from None


@dataclass(frozen=True)
class Identity:
    username: str
    token_use: str
    claims: dict[str, Any]


class CognitoVerifier:
    def __init__(self, config: CognitoConfig, keys: SigningKeys) -> None:
        self._config = config
        self._keys = keys

    def verify(self, token: str, uses: frozenset[str] = TOKEN_USES) -> Identity:
        """The identity in a valid token; raises InvalidToken saying what is wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("the token is not a JWT") from None
        if header.get("alg") != "RS256":
            raise InvalidToken("the token must be signed with RS256")
        key = self._keys.key_for(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self._config.issuer,
                options={"verify_aud": False, "require": ["exp", "iss", "token_use"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token is not valid: {exc}") from None
        token_use = claims.get("token_use")
        if token_use not in uses:
            raise InvalidToken(f"a token with token_use {token_use!r} is not accepted here")
        audience = claims.get("aud") if token_use == "id" else claims.get("client_id")
        if audience != self._config.client_id:
            raise InvalidToken("the token was issued to another app client")
        username = claims.get("cognito:username") or claims.get("username") or claims.get("sub")
        if not isinstance(username, str) or not username:
            raise InvalidToken("the token names no user")
        return Identity(username, str(token_use), claims)


TokenPoster = Callable[[str, dict[str, str]], dict[str, Any]]


def post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    """POST a form to Cognito's token endpoint and return the JSON answer."""
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as exc:
        raise InvalidToken("Cognito refused the authorization code") from exc
    except (OSError, ValueError) as exc:
        raise ServiceUnavailable("Cognito cannot be reached") from exc


@dataclass(frozen=True)
class LoginRequest:
    url: str
    state: str
    code_verifier: str


class HostedUi:
    """The authorization-code flow with PKCE (a public app client needs no secret)."""

    def __init__(
        self, config: CognitoConfig, verifier: CognitoVerifier, post: TokenPoster = post_form
    ) -> None:
        self._config = config
        self._verifier = verifier
        self._post = post

    def begin(self, redirect_uri: str) -> LoginRequest:
        state = secrets.token_urlsafe(24)
        code_verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
            .decode()
            .rstrip("=")
        )
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self._config.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid email profile",
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return LoginRequest(
            f"{self._config.hosted_ui}/oauth2/authorize?{query}", state, code_verifier
        )

    def finish(self, code: str, redirect_uri: str, code_verifier: str) -> Identity:
        """Exchange the code for tokens and return the ID token's verified identity."""
        tokens = self._post(
            f"{self._config.hosted_ui}/oauth2/token",
            {
                "grant_type": "authorization_code",
                "client_id": self._config.client_id,
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
        )
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise InvalidToken("Cognito returned no ID token")
        return self._verifier.verify(id_token, frozenset({"id"}))

    def logout_url(self, redirect_uri: str) -> str:
        query = urllib.parse.urlencode(
            {"client_id": self._config.client_id, "logout_uri": redirect_uri}
        )
        return f"{self._config.hosted_ui}/logout?{query}"
