"""HTTP contract of the inference server (Flask test client over the real service)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image

from catdog.settings import Settings
from inference_server.app import create_app
from inference_server.service import InferenceService
from tests.inference_server.conftest import ADMIN_TOKEN
from tests.inference_server.model_dirs import image_bytes

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def client(service: InferenceService, settings: Settings) -> Iterator[FlaskClient]:
    with create_app(service, settings).test_client() as client:
        yield client


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return str(body["error"]["message"])


def test_predict_raw_body(client: FlaskClient, service: InferenceService) -> None:
    data = image_bytes(8)
    response = client.post("/v1/predict", data=data, content_type="image/jpeg")
    assert response.status_code == 200
    body = response.get_json()
    assert body == service.predict(data)
    assert body["model_version"] == "v1"
    assert body["probabilities"]["cat"] + body["probabilities"]["dog"] == pytest.approx(1.0)


def test_predict_multipart_field_file(client: FlaskClient, service: InferenceService) -> None:
    data = image_bytes(9, fmt="PNG")
    response = client.post(
        "/v1/predict",
        data={"file": (io.BytesIO(data), "photo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.get_json() == service.predict(data)


def test_the_declared_image_type_does_not_matter(client: FlaskClient) -> None:
    response = client.post("/v1/predict", data=image_bytes(8, fmt="PNG"), content_type="image/gif")
    assert response.status_code == 200


def test_empty_body(client: FlaskClient) -> None:
    _error(client.post("/v1/predict", data=b"", content_type="image/jpeg"), 400, "invalid_input")


def test_not_an_image(client: FlaskClient) -> None:
    response = client.post("/v1/predict", data=b"hello, not a picture", content_type="image/png")
    _error(response, 422, "invalid_image")


def test_truncated_jpeg(client: FlaskClient) -> None:
    data = image_bytes(4, size=128)
    response = client.post("/v1/predict", data=data[: len(data) // 2], content_type="image/jpeg")
    assert "truncated" in _error(response, 422, "invalid_image")


def test_too_many_bytes(client: FlaskClient, settings: Settings) -> None:
    data = b"\xff" * (settings.max_upload_bytes + 1)
    _error(client.post("/v1/predict", data=data, content_type="image/jpeg"), 413, "image_too_large")
    multipart = client.post(
        "/v1/predict",
        data={"file": (io.BytesIO(data), "big.jpg")},
        content_type="multipart/form-data",
    )
    _error(multipart, 413, "image_too_large")


def test_too_many_pixels(client: FlaskClient, settings: Settings) -> None:
    side = int(settings.max_image_pixels**0.5) + 10  # a few hundred KB of pixels, small as PNG
    out = io.BytesIO()
    Image.fromarray(np.zeros((side, side, 3), dtype=np.uint8)).save(out, format="PNG")
    assert len(out.getvalue()) < settings.max_upload_bytes
    response = client.post("/v1/predict", data=out.getvalue(), content_type="image/png")
    assert "pixels" in _error(response, 413, "image_too_large")


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None])
def test_wrong_content_type(client: FlaskClient, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = client.post("/v1/predict", data=image_bytes(1), headers=headers)
    _error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "body",
    [
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
        b"this is not multipart at all",
        b'--xyz\r\nContent-Disposition: form-data; name="other"\r\n\r\nabc\r\n--xyz--\r\n',
    ],
    ids=["unterminated", "garbage", "no-file-field"],
)
def test_malformed_multipart(client: FlaskClient, body: bytes) -> None:
    response = client.post(
        "/v1/predict", data=body, content_type="multipart/form-data; boundary=xyz"
    )
    _error(response, 400, "invalid_input")


def test_the_server_stays_healthy_after_bad_input(client: FlaskClient) -> None:
    client.post("/v1/predict", data=b"junk", content_type="image/jpeg")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    response = client.post("/v1/predict", data=image_bytes(2), content_type="image/jpeg")
    assert response.status_code == 200


def test_model_info(client: FlaskClient) -> None:
    body = client.get("/v1/model").get_json()
    assert (body["version"], body["input_size"], body["validation_accuracy"]) == ("v1", 32, 0.9)
    assert body["loaded_at"].endswith("Z")


def test_readyz_is_503_until_a_model_is_loaded(
    idle_service: InferenceService, settings: Settings
) -> None:
    client = create_app(idle_service, settings).test_client()
    assert client.get("/healthz").status_code == 200
    _error(client.get("/readyz"), 503, "model_not_loaded")
    predict = client.post("/v1/predict", data=image_bytes(1), content_type="image/jpeg")
    _error(predict, 503, "model_not_loaded")
    idle_service.reload()
    assert client.get("/readyz").get_json() == {"status": "ready", "version": "v1"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {ADMIN_TOKEN}"}],
    ids=["none", "wrong", "not-bearer"],
)
def test_reload_needs_the_admin_token(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.post("/v1/admin/reload", json={"version": "v2"}, headers=headers)
    _error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/v1/model").get_json()["version"] == "v1"


def test_reload_is_refused_when_no_token_is_configured(
    service: InferenceService, settings: Settings
) -> None:
    client = create_app(service, settings.with_changes(inference_admin_token=None)).test_client()
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
        _error(client.post("/v1/admin/reload", headers=headers), 401, "unauthorized")


def test_reload_with_the_token_swaps_and_model_info_follows(client: FlaskClient) -> None:
    response = client.post("/v1/admin/reload", json={"version": "v3"}, headers=AUTH)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["version"], body["previous_version"], body["swapped"]) == ("v3", "v1", True)
    assert client.get("/v1/model").get_json()["input_size"] == 48
    predict = client.post("/v1/predict", data=image_bytes(2), content_type="image/jpeg")
    assert predict.get_json()["model_version"] == "v3"


def test_reload_with_an_empty_body_loads_the_champion(client: FlaskClient) -> None:
    client.post("/v1/admin/reload", json={"version": "v2"}, headers=AUTH)
    response = client.post("/v1/admin/reload", headers=AUTH)
    assert response.get_json()["version"] == "v1"


@pytest.mark.parametrize(
    ("version", "status", "code"),
    [
        ("bad-canary", 409, "canary_mismatch"),
        ("corrupt", 422, "model_load_failed"),
        ("nope", 404, "not_found"),
    ],
)
def test_a_refused_reload_keeps_the_old_model_serving(
    client: FlaskClient, version: str, status: int, code: str
) -> None:
    response = client.post("/v1/admin/reload", json={"version": version}, headers=AUTH)
    _error(response, status, code)
    assert client.get("/v1/model").get_json()["version"] == "v1"
    predict = client.post("/v1/predict", data=image_bytes(2), content_type="image/jpeg")
    assert predict.get_json()["model_version"] == "v1"


@pytest.mark.parametrize("body", [b"{not json", b'["v2"]', b'{"version": 3}', b'{"x": "v2"}'])
def test_reload_with_a_malformed_body(client: FlaskClient, body: bytes) -> None:
    response = client.post(
        "/v1/admin/reload", data=body, content_type="application/json", headers=AUTH
    )
    _error(response, 400, "invalid_input")


def test_unknown_paths_answer_json(client: FlaskClient) -> None:
    _error(client.get("/v1/nothing"), 404, "not_found")
    _error(client.get("/v1/predict"), 405, "method_not_allowed")
