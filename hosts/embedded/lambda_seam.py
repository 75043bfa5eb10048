"""The seam between moto's Step Functions interpreter and our Lambda handlers.

With ``lambda: use_docker False`` moto routes every Lambda invocation to
``moto.awslambda_simple.models.LambdaSimpleBackend.invoke``. We replace that
one method with a dispatcher that calls the handler registered for the
function name in this process and, like AWS, reports an exception as a
function error whose ``errorType`` is the exception's class name, so the
state machine's Retry and Catch match catdog's error classes. The method is
internal to moto (pinned ``==5.2.5``): ``check_seam`` fails loudly if it moves.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from catdog.errors import CatdogError, ConfigurationError

log = logging.getLogger("hosts.embedded.lambda_seam")

Route = Callable[[dict[str, Any]], dict[str, Any]]
EXPECTED_PARAMETERS = ("self", "function_name", "qualifier", "body", "headers", "response_headers")

_routes: dict[str, Route] = {}
_lock = threading.Lock()
_original: Callable[..., Any] | None = None


def _backend_class() -> type:
    try:
        from moto.awslambda_simple.models import LambdaSimpleBackend
    except ImportError as exc:  # pragma: no cover - only when moto is changed under us
        raise ConfigurationError(f"moto's Docker-free Lambda backend is gone: {exc}") from exc
    return LambdaSimpleBackend


def check_seam() -> None:
    """Raise ConfigurationError unless moto still has the seam we replace."""
    method = _original or getattr(_backend_class(), "invoke", None)
    if method is None:
        raise ConfigurationError("LambdaSimpleBackend.invoke no longer exists in moto")
    parameters = tuple(inspect.signature(method).parameters)
    if parameters != EXPECTED_PARAMETERS:
        raise ConfigurationError(
            f"LambdaSimpleBackend.invoke{parameters} changed; expected {EXPECTED_PARAMETERS}"
        )


def install() -> None:
    """Replace the method (once per process; idempotent)."""
    global _original
    with _lock:
        if _original is not None:
            return
        check_seam()
        backend = _backend_class()
        # Patching a third-party class on purpose (the seam above); ``backend`` is a plain
        # ``type`` because the class is imported lazily, so its attributes are unknown.
        _original = backend.invoke  # type: ignore[attr-defined]  # see above
        backend.invoke = _invoke  # type: ignore[attr-defined]  # see above


def register(function_name: str, route: Route) -> None:
    with _lock:
        _routes[function_name] = route


def unregister(function_name: str) -> None:
    with _lock:
        _routes.pop(function_name, None)


def function_name_of(name_or_arn: str) -> str:
    """``arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`` -> ``<name>``."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn


def _invoke(
    self: Any,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes | None:
    route = _routes.get(function_name_of(function_name))
    if route is None:
        assert _original is not None
        result: bytes | None = _original(
            self, function_name, qualifier, body, headers, response_headers
        )
        return result
    try:
        event = json.loads(body or "{}")
        return json.dumps(route(event)).encode()
    except Exception as exc:  # every error must reach the state machine, as on AWS
        if not isinstance(exc, CatdogError):
            log.exception("Lambda %s failed", function_name)
        response_headers["x-amz-function-error"] = "Unhandled"
        error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        return json.dumps(error).encode()
