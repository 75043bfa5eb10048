"""The web edge's error responses; statuses come from the error classes (catdog.errors)."""

from __future__ import annotations

import math
from typing import Any

from flask import Response, jsonify

from catdog.errors import CatdogError, TooManyRequests, code_for_status

# Errors Flask/Werkzeug raise themselves (routing, body limit) that no domain error names.
FRAMEWORK_CODES: dict[int, str] = {405: "method_not_allowed", 500: "internal_error"}


def code_for_http_status(status: int) -> str:
    """The error code of a response Flask/Werkzeug produced with ``status``."""
    return FRAMEWORK_CODES.get(status) or code_for_status(status) or "http_error"


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def json_error(code: str, message: str, status: int) -> Response:
    response = jsonify(error_body(code, message))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="catdog"'
    return response


def error_headers(error: CatdogError) -> dict[str, str]:
    """Headers an error adds to any response (JSON or page): Retry-After on 429s."""
    if isinstance(error, TooManyRequests):
        return {"Retry-After": str(math.ceil(error.retry_after_s))}
    return {}
