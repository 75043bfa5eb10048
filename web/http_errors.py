"""Domain errors to HTTP statuses: the one mapping the web edge uses (by type)."""

from __future__ import annotations

import math
from typing import Any

from flask import Response, jsonify

from catdog.errors import (
    CatdogError,
    Conflict,
    Forbidden,
    ImageTooLarge,
    InvalidImage,
    InvalidInput,
    InvalidSettings,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    UrlFetchFailed,
)

# Most specific first: the first matching type decides.
_STATUSES: tuple[tuple[type[CatdogError], int], ...] = (
    (ImageTooLarge, 413),
    (UnsupportedMediaType, 415),
    (InvalidImage, 422),
    (InvalidSettings, 422),
    (UrlFetchFailed, 422),
    (InvalidInput, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (TooManyRequests, 429),
    (ServiceUnavailable, 503),
)

# Errors raised by Flask/Werkzeug itself (routing, body limit) by status.
HTTP_CODES: dict[int, str] = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "image_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}


def status_for(error: CatdogError) -> int:
    for kind, status in _STATUSES:
        if isinstance(error, kind):
            return status
    return 500


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
