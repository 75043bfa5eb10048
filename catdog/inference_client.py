"""Client of the inference server, for the web app and the pipeline (stdlib HTTP only).

Server errors come back as the domain errors the server raised (by their
``code``), so callers handle ``InvalidImage`` the same whether it was raised
locally or by the server. Anything that keeps the server from answering, and
any 503, is ``ServiceUnavailable``.
"""

from __future__ import annotations

import http.client
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from catdog.domain import Label, parse_label
from catdog.errors import (
    CatdogError,
    ModelNotLoaded,
    ServiceUnavailable,
    error_type_for,
)
from catdog.observability import current_ids

# The caller's request id (API Gateway's, or the Lambda invocation's), for log lines.
REQUEST_ID_HEADER = "X-Request-Id"


@dataclass(frozen=True)
class PredictionResult:
    label: Label
    confidence: float
    probabilities: dict[str, float]
    unsure: bool
    model_version: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PredictionResult:
        return cls(
            label=parse_label(data["label"]),
            confidence=float(data["confidence"]),
            probabilities={k: float(v) for k, v in data["probabilities"].items()},
            unsure=bool(data["unsure"]),
            model_version=str(data["model_version"]),
        )


class InferenceClient:
    """One HTTP connection per call, so one client is safe to share between threads."""

    def __init__(
        self, base_url: str, admin_token: str | None = None, timeout: float = 10.0
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._admin_token = admin_token
        self._timeout = timeout

    def predict(self, data: bytes, content_type: str) -> PredictionResult:
        """Classify an image. Raises InvalidImage, ImageTooLarge, InvalidInput,
        UnsupportedMediaType, or ServiceUnavailable."""
        headers = {"Content-Type": content_type, **self._trusted()}
        status, body = self._request("POST", "/v1/predict", data, headers)
        return PredictionResult.from_dict(self._json_or_raise(status, body))

    def predict_multipart(self, data: bytes, filename: str = "upload") -> PredictionResult:
        """Classify an image sent as multipart field ``file`` (as a browser form would)."""
        boundary = uuid.uuid4().hex
        safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "")
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{safe_name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", **self._trusted()}
        status, raw = self._request("POST", "/v1/predict", body, headers)
        return PredictionResult.from_dict(self._json_or_raise(status, raw))

    def _trusted(self) -> dict[str, str]:
        """The admin token marks our own calls, which the server's anonymous rate limit
        (per client address) does not count: the web app speaks for many users. The
        caller's request id, when it has one, goes along for the server's log lines."""
        headers = {"Authorization": f"Bearer {self._admin_token}"} if self._admin_token else {}
        request_id = current_ids().get("request_id")
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        return headers

    def model_info(self) -> dict[str, Any]:
        """The served model: version, loaded_at, input_size, validation_accuracy."""
        return self._json_or_raise(*self._request("GET", "/v1/model"))

    def reload(self, version: str | None = None) -> dict[str, Any]:
        """Ask the server to serve ``version`` (default: the champion). Raises Unauthorized,
        NotFound, ModelRejected (CanaryMismatch, ModelLoadFailed) or ServiceUnavailable."""
        headers = {"Content-Type": "application/json"}
        if self._admin_token:
            headers["Authorization"] = f"Bearer {self._admin_token}"
        body = json.dumps({} if version is None else {"version": version}).encode()
        return self._json_or_raise(*self._request("POST", "/v1/admin/reload", body, headers))

    def is_ready(self) -> bool:
        """True when the server answers and has a model loaded."""
        try:
            status, _ = self._request("GET", "/readyz")
        except ServiceUnavailable:
            return False
        return status == 200

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        connection_type = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = connection_type(self._host, self._port, timeout=self._timeout)
        try:
            connection.request(method, self._prefix + path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ServiceUnavailable(f"the inference server cannot be reached: {exc}") from exc
        finally:
            connection.close()

    @staticmethod
    def _json_or_raise(status: int, body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            payload = {}
        if 200 <= status < 300 and isinstance(payload, dict):
            return payload
        raise _error_from(status, payload)


def _error_from(status: int, payload: Any) -> CatdogError:
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    text = str(message or f"the inference server answered HTTP {status}")
    if status >= 500:
        # A server-side failure is the server being unavailable to us, whatever it said.
        kind = ModelNotLoaded if code == ModelNotLoaded.code else ServiceUnavailable
        return kind(text)
    return error_type_for(code, status)(text)
