"""The application factory: one Flask app with the user, manager and API blueprints."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any, Unpack

from flask import Flask, Response, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers.response import Response as BaseResponse

from catdog.errors import CatdogError, ConfigurationError, Unauthorized
from catdog.gunicorn_app import MALFORMED_BODY_ERRORS, MALFORMED_BODY_MESSAGE
from catdog.settings import Settings
from web import filters
from web.deps import EXTENSION, WebOverrides, build_deps
from web.http_errors import code_for_http_status, error_headers, json_error
from web.json_bodies import SafeJSONProvider
from web.security import SessionCookies, add_security_headers, csrf_token
from web.static_files import register_static

log = logging.getLogger(__name__)

# Multipart framing and the key field come on top of the image itself.
FORM_OVERHEAD_BYTES = 64 * 1024


def create_app(settings: Settings | None = None, **overrides: Unpack[WebOverrides]) -> Flask:
    """Build the web app. Without arguments it reads the environment (``Settings.from_env``);
    tests pass their own storage, inference fake, orchestrator and clock."""
    settings = _with_secret_key(settings or Settings.from_env())
    app = Flask(__name__, static_folder=None)
    app.json = SafeJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + FORM_OVERHEAD_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,  # SessionCookies adds Secure on HTTPS requests
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        JSON_SORT_KEYS=False,
    )
    app.session_interface = SessionCookies()
    app.extensions[EXTENSION] = build_deps(settings, **overrides)
    register_static(app, settings)
    _register_blueprints(app)
    _register_error_handlers(app)
    app.after_request(add_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    filters.register(app)
    return app


def _with_secret_key(settings: Settings) -> Settings:
    if settings.secret_key:
        return settings
    if settings.backend == "aws":
        raise ConfigurationError("the AWS backend needs CATDOG_SECRET_KEY (shared by instances)")
    # Only for a bare test or dev app: sessions last as long as this process.
    return settings.with_changes(secret_key=secrets.token_urlsafe(32))


def _register_blueprints(app: Flask) -> None:
    from web.api import api
    from web.api_manager import api_manager
    from web.login import login
    from web.manager import manager
    from web.manager_alerts import manager_alerts
    from web.manager_pipeline import manager_pipeline
    from web.user import user

    blueprints = (user, login, manager, manager_pipeline, manager_alerts, api, api_manager)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.add_url_rule("/healthz", "healthz", _healthz)


def _healthz() -> tuple[dict[str, str], int]:
    """The process is up and serving (for load balancers and supervisors)."""
    return {"status": "ok"}, 200


def _wants_json() -> bool:
    return request.path.startswith("/api/")


# Blueprints of manager pages: a logged-out visitor is sent to the login form.
MANAGER_PAGES = ("manager", "manager_pipeline", "manager_alerts")


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CatdogError)
    def domain_error(error: CatdogError) -> Any:
        status = error.http_status
        if status == 500:
            log.exception("unexpected domain error", exc_info=error)
        manager_page = request.blueprint in MANAGER_PAGES and not _wants_json()
        if isinstance(error, Unauthorized) and manager_page:
            return redirect(url_for("login.form", next=request.full_path.rstrip("?")))
        response = (
            json_error(error.code, str(error), status)
            if _wants_json()
            else _error_page(status, str(error))
        )
        response.headers.update(error_headers(error))
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        if status == 413:
            message = f"the upload is larger than {app.config['MAX_CONTENT_LENGTH']:,} bytes"
        else:
            message = error.description or error.name
        if _wants_json():
            return json_error(code_for_http_status(status), message, status)
        return _error_page(status, message)

    def malformed_body(error: Exception) -> Any:
        if _wants_json():
            return json_error("invalid_input", MALFORMED_BODY_MESSAGE, 400)
        return _error_page(400, MALFORMED_BODY_MESSAGE)

    for kind in MALFORMED_BODY_ERRORS:
        app.register_error_handler(kind, malformed_body)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = "something went wrong on our side; the error was logged"
        if _wants_json():
            return json_error("internal_error", message, 500)
        return _error_page(500, message)


def _error_page(status: int, message: str) -> BaseResponse:
    body = render_template("error.html", status=status, message=message)
    return Response(body, status=status, mimetype="text/html")
