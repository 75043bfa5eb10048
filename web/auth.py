"""Who the manager is: a session (pages) or a bearer token (API), local or Cognito."""

from __future__ import annotations

from flask import Blueprint, g, request, session

from catdog.auth.accounts import validate_username
from catdog.auth.tokens import IssuedToken
from catdog.errors import InvalidInput, InvalidToken, Unauthorized
from catdog.rate_limits import address_key
from web.deps import deps
from web.security import rotate_csrf

SESSION_USER = "manager"
SESSION_VERSION = "token_version"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_manager() -> str | None:
    """The manager logged in to this browser session, if any: the account still exists
    and has not signed out or changed its password since (its token version)."""
    username = session.get(SESSION_USER)
    if not isinstance(username, str):
        return None
    local = deps().local_auth
    if local is not None and local.accounts.token_version(username) != session.get(SESSION_VERSION):
        session.pop(SESSION_USER, None)
        return None
    return username


def bearer_manager() -> str | None:
    """The manager named by a valid ``Authorization: Bearer`` token; raises InvalidToken
    for a token that is present but not valid."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("use 'Authorization: Bearer <token>'")
    current = deps()
    if current.cognito is not None:
        return current.cognito.verifier.verify(token.strip()).username
    claims = current.tokens.verify(token.strip())
    if current.local_auth is not None:
        version = current.local_auth.accounts.token_version(claims.username)
        if version is None:
            raise InvalidToken("the token's user no longer exists")
        if version != claims.version:
            raise InvalidToken("the token was revoked (signed out or password changed)")
    return claims.username


def require_page_manager() -> str:
    username = session_manager()
    if username is None:
        raise Unauthorized("log in as a manager to see this page")
    g.manager = username
    return username


def require_api_manager() -> str:
    """Bearer token; or, for reads only, the session of a logged-in manager page
    (so the pages' progress polling can use the API without a token)."""
    username = bearer_manager()
    if username is None and request.method in SAFE_METHODS:
        username = session_manager()
    if username is None:
        raise Unauthorized("this endpoint needs a manager's bearer token (POST /api/v1/tokens)")
    g.manager = username
    return username


def current_manager() -> str:
    return str(g.manager)


def protect_pages(blueprint: Blueprint) -> None:
    """Every route of ``blueprint`` needs a logged-in manager."""

    def check() -> None:  # a before_request hook must return None to let the view run
        require_page_manager()

    blueprint.before_request(check)


def protect_api(blueprint: Blueprint) -> None:
    """Every route of ``blueprint`` needs a manager's bearer token (or session, to read)."""

    def check() -> None:
        require_api_manager()

    blueprint.before_request(check)


def password_login(username: str, password: str, address: str) -> str:
    """Check a local manager's password, with rate limiting; raises Unauthorized,
    TooManyAttempts. The session is rotated by ``start_session``."""
    local = deps().local_auth
    if local is None:
        raise Unauthorized("password logins are for the local backend; use Cognito")
    if not username or not password:
        raise InvalidInput("enter a user name and a password")
    # Before anything is stored: a name no account can have is refused outright.
    validate_username(username)
    local.throttle.check_and_record(username, address)
    if not local.accounts.verify(username, password):
        raise Unauthorized("wrong user name or password")
    local.throttle.clear(username, address)
    return username


def issue_api_token(username: str, password: str, address: str) -> IssuedToken:
    username = password_login(username, password, address)
    return deps().tokens.issue(username, _token_version(username))


def start_session(username: str) -> None:
    session.clear()
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME, not "never"
    session[SESSION_USER] = username
    session[SESSION_VERSION] = _token_version(username)
    rotate_csrf()


def end_session() -> None:
    """Sign out: this session ends, and every other session and API token of the
    manager is revoked with it (the account's token version moves on)."""
    username = session_manager()
    local = deps().local_auth
    if username is not None and local is not None:
        local.accounts.revoke_tokens(username)
    session.clear()


def revoke_all(username: str) -> None:
    """Revoke every session and API token of ``username`` (local accounts)."""
    local = deps().local_auth
    if local is None:
        raise Unauthorized("token revocation is for local accounts; sign out in Cognito")
    local.accounts.revoke_tokens(username)


def change_password(username: str, current: str, new: str, address: str) -> None:
    """Check the current password (throttled like a login), store the new one and
    revoke every session and API token issued before."""
    password_login(username, current, address)
    local = deps().local_auth
    assert local is not None  # password_login refuses the Cognito backend
    local.accounts.change_password(username, new)


def _token_version(username: str) -> int:
    local = deps().local_auth
    version = None if local is None else local.accounts.token_version(username)
    return version or 0


def client_address() -> str:
    """Who per-address limits count: the peer address (an IPv6 /64 as one)."""
    return address_key(request.remote_addr or "unknown")
