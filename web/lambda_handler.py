"""AWS Lambda entry point: the same Flask app behind API Gateway, through apig-wsgi.

The app is built on the first invocation (not at import), then reused by the
warm Lambda instance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from apig_wsgi import make_lambda_handler

from catdog import observability
from catdog.settings import Settings

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_handler: LambdaHandler | None = None


def with_stage_prefix(app: WsgiApp) -> WsgiApp:
    """Set SCRIPT_NAME to the API Gateway stage, so ``url_for`` links keep it.

    apig-wsgi leaves SCRIPT_NAME empty; a REST API stage (e.g. ``/app``) would
    otherwise be missing from every generated link and from the Cognito callback.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        stage = environ.get("apig_wsgi.request_context", {}).get("stage")
        if stage and stage != "$default":
            environ["SCRIPT_NAME"] = f"/{stage}"
        return app(environ, start_response)

    return wrapped


def with_source_address(app: WsgiApp) -> WsgiApp:
    """REMOTE_ADDR is the address API Gateway saw the request come from.

    apig-wsgi takes the first X-Forwarded-For entry, which the client writes itself:
    a client sending a new one on every request would get a fresh bucket in every
    per-address limit (uploads, logins). ``sourceIp`` is set by API Gateway.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        context = environ.get("apig_wsgi.request_context") or {}
        source = (context.get("identity") or {}).get("sourceIp") or (context.get("http") or {}).get(
            "sourceIp"
        )
        if isinstance(source, str) and source:
            environ["REMOTE_ADDR"] = source
        return app(environ, start_response)

    return wrapped


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _handler
    if _handler is None:
        from web.server import build_app

        settings = Settings.from_env()
        observability.setup_process(settings, "web")
        app = build_app(settings)
        observability.instrument_flask(app, settings)
        wsgi_app = with_source_address(with_stage_prefix(app.wsgi_app))
        _handler = make_lambda_handler(wsgi_app, binary_support=True)
    with observability.log_context(request_id=request_id_of(event, context)):
        return _handler(event, context)


def request_id_of(event: dict[str, Any], context: Any) -> str | None:
    """API Gateway's id of the request (what its access log and the client see), else
    the Lambda invocation's."""
    request_context = event.get("requestContext") or {}
    request_id = request_context.get("requestId") if isinstance(request_context, dict) else None
    return str(request_id) if request_id else getattr(context, "aws_request_id", None)
