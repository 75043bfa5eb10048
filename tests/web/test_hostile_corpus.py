"""No 5xx from client input, in-process and fast: the generated corpus of odd and hostile
image files through the upload API and the model's preprocessing, odd values in every
query parameter of every route, odd CSRF tokens and headers."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.http.errors import InvalidChunkSize

from catdog.errors import CatdogError
from catdog.preprocessing import preprocess_bytes
from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from tests.factories import noise_image_bytes
from tests.hostile_corpus import CorpusCase, corpus
from tests.web.conftest import MANAGER, PASSWORD
from tests.web.fakes import FakeInference, FakeOrchestrator
from web.app import create_app
from web.url_import import UrlImporter

CASES = corpus()
ODD_VALUES = [
    "²",  # the finding: a non-ASCII digit answered 500
    "٣",
    "1e3",
    "-1",
    "0x10",
    " 5",
    "9" * 400,
    "\x00",
    "%ff%fe",
    "€" * 50,
    "true\n",
    "[]",
]


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """One app for the whole corpus (each case uploads under its own key): fast."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("hostile") / "data",
        secret_key="test-secret",
        max_upload_bytes=2_000_000,
        rate_limit_burst=100_000,
    )
    storage = build_local_storage(settings)
    app = create_app(
        settings,
        storage=storage,
        inference=FakeInference(),
        orchestrator=FakeOrchestrator(storage),
        url_importer=UrlImporter(200_000, 2.0),
    )
    app.config["TESTING"] = True
    return app


def test_the_corpus_covers_formats_modes_sizes_truncations_and_metadata() -> None:
    names = " ".join(case.name for case in CASES)
    assert len(CASES) >= 300
    for part in (
        "MPO",
        "I;16",
        "CMYK",
        "header-only",
        "half",
        "trailing-data",
        "exif-orientation-6",
    ):
        assert part in names
    for part in ("icc-profile", "zTXt-bomb", "60KB-text-chunk", "three-frames"):
        assert part in names


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_corpus_file_is_stored_or_refused_with_a_clear_error(
    hostile_app: Flask, case: CorpusCase
) -> None:
    client = hostile_app.test_client()
    response = client.post(
        "/api/v1/images",
        data={"key": _key(case), "file": (io.BytesIO(case.data), "upload.bin")},
    )
    assert response.status_code == case.expected_status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    if case.expected_status == 201:
        assert (body["width"], body["height"]) == case.shown_size  # the displayed size
        assert client.get(body["thumbnail_url"]).status_code == 200
    else:
        assert body["error"]["code"] == case.expected_code


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_corpus_file_preprocesses_or_is_refused(case: CorpusCase) -> None:
    """What the inference server's /v1/predict does with the same bytes."""
    try:
        pixels = preprocess_bytes(case.data, 32)
    except CatdogError as error:
        assert case.expected_status != 201, f"refused: {error}"
        assert error.code == case.expected_code
        return
    assert case.expected_status == 201
    assert pixels.shape == (32, 32, 3) and str(pixels.dtype) == "float32"


def _key(case: CorpusCase) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in case.name)


def _get_routes(app: Flask) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<path:{argument}>", "odd").replace(f"<{argument}>", "odd")
        urls.append(url)
    return sorted(set(urls))


@pytest.mark.parametrize("value", ODD_VALUES)
def test_odd_query_values_never_answer_5xx(hostile_app: Flask, value: str) -> None:
    _ensure_manager(hostile_app)
    client = hostile_app.test_client()
    token = client.post(
        "/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD}
    ).get_json()["token"]
    client.post(
        "/api/v1/images", data={"key": "odd", "file": (io.BytesIO(noise_image_bytes(3)), "a")}
    )
    params = {
        name: value
        for name in (
            "limit",
            "cursor",
            "label",
            "labeled",
            "disagreement",
            "predicted",
            "key",
            "next",
        )
    }
    for url in _get_routes(hostile_app):
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            response = client.get(url, query_string=params, headers=headers)
            assert response.status_code < 500, (url, value, response.status_code)


def test_a_non_ascii_limit_is_a_400(client: FlaskClient) -> None:
    """The finding: GET /api/v1/images?limit=² answered 500."""
    response = client.get("/api/v1/images?limit=%C2%B2")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("token", ["ünïcödé", "\u2028", "x" * 5000, "😺"])
def test_a_non_ascii_csrf_token_is_a_403(client: FlaskClient, token: str) -> None:
    """The finding: a form post whose CSRF token is not ASCII answered 500."""
    client.get("/")  # a session with a real token exists
    response = client.post("/images", data={"key": "k", "csrf_token": token})
    assert response.status_code == 403
    header = client.post("/images", data={"key": "k"}, headers={"X-CSRF-Token": token[:100]})
    assert header.status_code == 403


def test_an_mpo_upload_is_stored_as_a_jpeg(client: FlaskClient) -> None:
    """The finding: an MPO file (what many phones write) answered 500."""
    mpo = next(case for case in CASES if case.name == "MPO-three-frames")
    response = client.post(
        "/api/v1/images", data={"key": "phone", "file": (io.BytesIO(mpo.data), "IMG_0001.JPG")}
    )
    assert response.status_code == 201
    assert response.get_json()["content_type"] == "image/jpeg"


def _ensure_manager(app: Flask) -> None:
    accounts = app.extensions["catdog"].local_auth.accounts
    if not accounts.exists(MANAGER):
        accounts.add_user(MANAGER, PASSWORD)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/tokens"),
        ("POST", "/api/v1/images"),
        ("PUT", "/api/v1/settings"),
        ("PUT", "/api/v1/images/odd/label"),
        ("POST", "/api/v1/models/v1/promote"),
    ],
)
def test_deeply_nested_json_is_a_400(hostile_app: Flask, method: str, path: str) -> None:
    """Python's JSON parser recurses per level: 100,000 ``[`` raised RecursionError (500)."""
    _ensure_manager(hostile_app)
    client = hostile_app.test_client()
    token = client.post(
        "/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD}
    ).get_json()["token"]
    response = client.open(
        path,
        method=method,
        data=b"[" * 100_000,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_input"


def test_a_forged_cursor_of_nested_arrays_is_a_400(hostile_app: Flask) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 5000).decode()
    for path in ("/api/v1/images", "/images"):
        response = hostile_app.test_client().get(path, query_string={"cursor": cursor})
        assert response.status_code == 400


class BrokenChunkedBody(io.BytesIO):
    """What gunicorn hands the app for ``Transfer-Encoding: chunked`` with a bad chunk."""

    def read(self, size: int | None = -1) -> bytes:
        raise InvalidChunkSize(b"zz")

    def readinto(self, buffer: Any) -> int:
        raise InvalidChunkSize(b"zz")

    def readline(self, size: int | None = -1) -> bytes:
        raise InvalidChunkSize(b"zz")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/v1/images", "application/json"), ("/api/v1/images", "multipart/form-data; boundary=x")],
)
def test_a_malformed_chunked_body_is_a_400(
    hostile_app: Flask, path: str, content_type: str
) -> None:
    """Found by probing catdog up: gunicorn's InvalidChunkSize surfaced as a 500."""
    response = hostile_app.test_client().post(
        path, input_stream=BrokenChunkedBody(), headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_input"
