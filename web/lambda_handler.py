"""AWS Lambda entry point: the same Flask app behind API Gateway, through apig-wsgi.

The app is built on the first invocation (not at import), then reused by the
warm Lambda instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apig_wsgi import make_lambda_handler

from catdog.settings import Settings

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
_handler: LambdaHandler | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _handler
    if _handler is None:
        from web.server import build_app

        _handler = make_lambda_handler(build_app(Settings.from_env()), binary_support=True)
    return _handler(event, context)
