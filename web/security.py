"""Browser-facing protections: CSRF tokens, security headers, session cookie flags."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, request, session
from flask.sessions import SecureCookieSessionInterface

from catdog.errors import CsrfFailed

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# User content must never run as a document, whatever its bytes look like.
CONTENT_CSP = "default-src 'none'; sandbox"


def csrf_token() -> str:
    """The session's CSRF token, created on first use (rendered into every form)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def verify_csrf() -> None:
    """Raises CsrfFailed unless an unsafe request carries the session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get("csrf")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    # compare_digest refuses non-ASCII str, so compare the UTF-8 bytes.
    if not isinstance(expected, str) or not hmac.compare_digest(
        expected.encode(), sent.encode("utf-8", "replace")
    ):
        raise CsrfFailed("the form has expired or did not come from this site; reload the page")


def rotate_csrf() -> None:
    """A new token after login, so a token seen before login is worth nothing after."""
    session["csrf"] = secrets.token_urlsafe(32)


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    return response


class SessionCookies(SecureCookieSessionInterface):
    """Signed cookie sessions, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)
