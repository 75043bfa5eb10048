"""Manager login and logout: a password form locally, the Cognito hosted UI on AWS."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, session, url_for

from catdog.errors import CatdogError, InvalidToken
from web.auth import client_address, end_session, password_login, start_session
from web.deps import deps
from web.http_errors import error_headers, status_for
from web.security import verify_csrf

login = Blueprint("login", __name__, url_prefix="/manager")
login.before_request(verify_csrf)

_PENDING = "cognito_login"


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a full URL) is followed after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("manager.dashboard")


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
            page, status=status_for(error), mimetype="text/html", headers=error_headers(error)
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
