"""Manager login and logout: a password form locally, the Cognito hosted UI on AWS."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, Response, redirect, render_template, request, session, url_for

from catdog.errors import CatdogError, InvalidToken
from web.auth import client_address, end_session, password_login, start_session
from web.deps import deps
from web.http_errors import error_headers
from web.security import verify_csrf

login = Blueprint("login", __name__, url_prefix="/manager")
login.before_request(verify_csrf)

_PENDING = "cognito_login"
MAX_NEXT_LENGTH = 2048


def safe_next(target: str | None) -> str:
    """Only a path on this site is followed after login, judged as a browser reads it.

    Browsers drop tabs and newlines from URLs and treat a backslash like ``/``, so
    ``/%09/evil.example`` (a tab, once decoded) is ``//evil.example``: another site.
    Control characters, spaces, backslashes, a scheme, a host, or anything but a single
    leading ``/`` send the manager to the dashboard instead.
    """
    fallback = url_for("manager.dashboard")
    if not target or len(target) > MAX_NEXT_LENGTH:
        return fallback
    if any(ord(char) < 0x21 or char in "\\\x7f" for char in target):
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:
        return fallback
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return fallback
    if parts.path.startswith("//"):
        return fallback
    return urlunsplit(("", "", parts.path, parts.query, ""))


@login.get("/login")
def form() -> Any:
    cognito = deps().cognito
    if cognito is not None:
        started = cognito.hosted_ui.begin(url_for("login.callback", _external=True))
        session[_PENDING] = {
            "state": started.state,
            "verifier": started.code_verifier,
            "next": safe_next(request.args.get("next")),
        }
        return redirect(started.url)
    return render_template("manager/login.html", next=request.args.get("next", ""), error=None)


@login.post("/login")
def submit() -> Any:
    username = request.form.get("username", "").strip()
    target = request.form.get("next", "")
    try:
        password_login(username, request.form.get("password", ""), client_address())
    except CatdogError as error:
        page = render_template("manager/login.html", next=target, error=str(error), user=username)
        return Response(
            page, status=error.http_status, mimetype="text/html", headers=error_headers(error)
        )
    start_session(username)
    return redirect(safe_next(target), code=303)


@login.get("/auth/callback")
def callback() -> Any:
    cognito = deps().cognito
    pending = session.pop(_PENDING, None)
    state = request.args.get("state", "")
    if cognito is None or not isinstance(pending, dict):
        raise InvalidToken("no login is in progress; start again")
    if not hmac.compare_digest(str(pending.get("state")).encode(), state.encode()):
        raise InvalidToken("the login answer does not match the login that was started")
    identity = cognito.hosted_ui.finish(
        request.args.get("code", ""), url_for("login.callback", _external=True), pending["verifier"]
    )
    start_session(identity.username)
    return redirect(safe_next(pending.get("next")), code=303)


@login.post("/logout")
def logout() -> Any:
    end_session()
    cognito = deps().cognito
    if cognito is not None:
        return redirect(cognito.hosted_ui.logout_url(url_for("user.index", _external=True)))
    return redirect(url_for("user.index"), code=303)
