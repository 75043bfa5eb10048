"""HTTP endpoints over the data plane. Views parse, call the service, format; errors map here."""

from __future__ import annotations

import hmac
import io
import ipaddress
import json
import logging
import math
from typing import IO, Any, Protocol

from flask import Blueprint, Flask, Request, Response, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from catdog.errors import (
    CatdogError,
    ImageTooLarge,
    InvalidInput,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from catdog.gunicorn_app import MALFORMED_BODY_ERRORS, MALFORMED_BODY_MESSAGE
from catdog.inference_client import REQUEST_ID_HEADER
from catdog.rate_limits import MemoryBuckets, RateLimiter, anonymous_rules
from catdog.settings import Settings

log = logging.getLogger(__name__)

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
MAX_RELOAD_BODY = 64 * 1024

api = Blueprint("api", __name__)


class InMemoryRequest(Request):
    """Multipart files stay in memory (Werkzeug spools large ones to temp files);
    their size is bounded by the request's max_content_length."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()


class PredictionService(Protocol):
    """What the endpoints ask of the data plane (``inference_server.service.InferenceService``);
    each raises catdog's typed errors, which the app maps to statuses."""

    def predict(self, data: bytes) -> dict[str, Any]: ...

    def model_info(self) -> dict[str, Any]: ...

    def reload(self, version: str | None = None) -> dict[str, Any]: ...


class _InOrderJSON(DefaultJSONProvider):
    """Responses keep the order the service built them in."""

    sort_keys = False


def create_app(
    service: PredictionService, settings: Settings, limiter: RateLimiter | None = None
) -> Flask:
    """The inference server's WSGI app, built around an existing service.

    Predictions from other hosts without the admin token are rate limited per
    address (in this process's memory: the server runs one worker)."""
    app = Flask(__name__)
    app.request_class = InMemoryRequest
    app.extensions["inference_service"] = service
    app.extensions["inference_settings"] = settings
    app.extensions["inference_limiter"] = limiter or RateLimiter(
        MemoryBuckets(), anonymous_rules(settings.rate_limit_burst, settings.rate_limit_per_minute)
    )
    app.json = _InOrderJSON(app)
    app.register_blueprint(api)
    app.register_error_handler(CatdogError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    for kind in MALFORMED_BODY_ERRORS:
        app.register_error_handler(kind, _malformed_body)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _service() -> PredictionService:
    service: PredictionService = current_app.extensions["inference_service"]
    return service


def _settings() -> Settings:
    settings: Settings = current_app.extensions["inference_settings"]
    return settings


@api.post("/v1/predict")
def predict() -> Response:
    _limit_anonymous()
    return jsonify(_service().predict(_uploaded_image(_settings().max_upload_bytes)))


def _limit_anonymous() -> None:
    """Our own callers (the admin token: the web app, the pipeline) and this machine
    (loopback: tools and benchmarks) are trusted; every other address has a bucket."""
    address = request.remote_addr or "unknown"
    if _is_loopback(address) or _has_admin_token(_settings().inference_admin_token):
        return
    limiter: RateLimiter = current_app.extensions["inference_limiter"]
    limiter.check("predict", address)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _has_admin_token(token: str | None) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


@api.get("/v1/model")
def model_info() -> Response:
    return jsonify(_service().model_info())


@api.post("/v1/admin/reload")
def reload() -> Response:
    _authorize(_settings().inference_admin_token)
    return jsonify(_service().reload(_requested_version()))


@api.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@api.get("/readyz")
def readyz() -> Response:
    return jsonify({"status": "ready", "version": _service().model_info()["version"]})


def _uploaded_image(max_bytes: int) -> bytes:
    """The image bytes of a predict request: the raw body, or the multipart field ``file``."""
    mimetype = request.mimetype
    if mimetype.startswith("image/"):
        _check_length(max_bytes)
        data = _read_limited(request.stream, max_bytes)
    elif mimetype == "multipart/form-data":
        data = _multipart_file(max_bytes)
    else:
        shown = mimetype or "none"
        raise UnsupportedMediaType(
            f"send the image as the body with Content-Type image/*, or as multipart field "
            f"'file' (got Content-Type {shown})"
        )
    if not data:
        raise InvalidInput("the request has no image data")
    return data


def _check_length(max_bytes: int, overhead: int = 0) -> None:
    length = request.content_length
    if length is not None and length > max_bytes + overhead:
        raise ImageTooLarge(f"the upload is {length:,} bytes; the limit is {max_bytes:,} bytes")


def _read_limited(stream: IO[bytes], max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` (a body with no declared length is cut off, not buffered)."""
    chunks: list[bytes] = []
    total = 0
    while total <= max_bytes:
        chunk = stream.read(min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        raise ImageTooLarge(f"the upload is larger than the limit of {max_bytes:,} bytes")
    return b"".join(chunks)


def _multipart_file(max_bytes: int) -> bytes:
    _check_length(max_bytes, MULTIPART_OVERHEAD)
    request.max_content_length = max_bytes + MULTIPART_OVERHEAD
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise ImageTooLarge(f"the upload is larger than the limit of {max_bytes:,} bytes") from None
    if upload is None:
        raise InvalidInput("the multipart body is malformed or has no 'file' field")
    return _read_limited(upload.stream, max_bytes)


def _authorize(token: str | None) -> None:
    """Bearer token check in constant time; without a configured token nobody is admitted."""
    scheme, _, _given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        raise Unauthorized("this endpoint needs 'Authorization: Bearer <admin token>'")
    if not _has_admin_token(token):
        raise Unauthorized("the admin token is wrong")


def _requested_version() -> str | None:
    body = request.get_data(cache=False)[:MAX_RELOAD_BODY]
    if not body.strip():
        return None
    try:
        payload: Any = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays
        raise InvalidInput('the body must be JSON: {"version": "..."} or empty') from None
    if not isinstance(payload, dict) or set(payload) - {"version"}:
        raise InvalidInput('the body must be JSON: {"version": "..."} or empty')
    version = payload.get("version")
    if version is not None and (not isinstance(version, str) or not version):
        raise InvalidInput("version must be a non-empty string")
    return version


def _error_body(code: str, message: str, status: int) -> tuple[Response, int]:
    response = jsonify({"error": {"code": code, "message": message}})
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="catdog-inference"'
    return response, status


def _domain_error(error: CatdogError) -> tuple[Response, int]:
    status = error.http_status
    if status >= 500 and not isinstance(error, ServiceUnavailable):
        log.error(
            "event=request_failed path=%s code=%s",
            request.path,
            error.code,
            extra={"request_id": request.headers.get(REQUEST_ID_HEADER)},
        )
    response, status = _error_body(error.code, str(error), status)
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(math.ceil(error.retry_after_s))
    return response, status


def _http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    if isinstance(error, RequestEntityTooLarge):
        return _error_body(ImageTooLarge.code, "the upload is too large", 413)
    code = (error.name or "http_error").lower().replace(" ", "_")
    return _error_body(code, error.description or code, status)


def _malformed_body(error: Exception) -> tuple[Response, int]:
    return _error_body("invalid_input", MALFORMED_BODY_MESSAGE, 400)


def _unexpected_error(error: Exception) -> tuple[Response, int]:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception(
        "event=request_failed path=%s",
        request.path,
        extra={"request_id": request.headers.get(REQUEST_ID_HEADER)},
    )
    return _error_body("internal_error", "the inference server failed to answer", 500)
