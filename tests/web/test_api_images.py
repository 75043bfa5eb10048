"""The public image API: create, list, get, content; every bad upload kind."""

from __future__ import annotations

import io
import json

import pytest
from flask.testing import FlaskClient

from catdog.classification import classify_pending
from catdog.storage.ports import Storage
from tests.factories import image_bytes, noise_image_bytes
from tests.web.fakes import FakeInference


def post_file(client: FlaskClient, key: str, data: bytes, name: str = "a.jpg"):
    return client.post(
        "/api/v1/images",
        data={"key": key, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_post_an_image_returns_201_with_its_prediction(client):
    response = post_file(client, "api-cat", image_bytes("PNG", (40, 30)))
    assert response.status_code == 201
    body = response.get_json()
    assert body["key"] == "api-cat"
    assert body["prediction"] == {"label": "cat", "confidence": 0.93, "model_version": "v-test-1"}
    assert body["status"] == "classified"
    assert body["content_type"] == "image/png"
    assert (body["width"], body["height"]) == (40, 30)
    assert response.headers["Location"] == "/api/v1/images/api-cat"
    assert client.get("/api/v1/images/api-cat").get_json()["prediction"]["label"] == "cat"


def test_image_content_comes_back_byte_for_byte_with_nosniff(client):
    gif = image_bytes("GIF", mode="P", color=3)
    post_file(client, "a-gif", gif, name="a.png")
    response = client.get("/api/v1/images/a-gif/content")
    assert response.data == gif
    assert response.mimetype == "image/gif"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><script>alert(1)</script></html>"


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"", "empty.jpg", 422, "invalid_image"),
        (b"just some text", "a.jpg", 422, "invalid_image"),
        (image_bytes("JPEG", (64, 64))[:200], "truncated.jpg", 422, "invalid_image"),
        (SVG, "drawing.svg", 422, "invalid_image"),
        (HTML, "page.jpg", 422, "invalid_image"),
        (image_bytes("PNG", (3000, 3000)), "huge.png", 413, "image_too_large"),
    ],
    ids=["empty", "not-an-image", "truncated", "svg", "html-named-jpg", "too-many-pixels"],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    client, storage: Storage, data, name, status, code
):
    assert_error(post_file(client, "bad", data, name), status, code)
    assert storage.catalog.counts().images == 0


def test_too_big_upload_is_413_json(client, settings):
    big = noise_image_bytes(7, size=(400, 400), fmt="BMP")
    assert len(big) > settings.max_upload_bytes
    assert_error(post_file(client, "big", big), 413, "image_too_large")


def test_a_body_past_the_request_limit_is_413_json(client, settings):
    response = post_file(client, "huge", b"\0" * (settings.max_upload_bytes + 100_000))
    assert_error(response, 413, "image_too_large")


@pytest.mark.parametrize("key", ["", "../etc/passwd", ".hidden", "a b", "x" * 129, "ü"])
def test_bad_keys_are_400(client, key):
    assert_error(post_file(client, key, image_bytes()), 400, "invalid_key")


def test_a_key_that_exists_is_409_and_the_first_image_stays(client):
    first = image_bytes(color=(1, 2, 3))
    assert post_file(client, "taken", first).status_code == 201
    assert_error(post_file(client, "taken", image_bytes(color=(9, 9, 9))), 409, "key_conflict")
    assert client.get("/api/v1/images/taken/content").data == first


def test_other_body_types_are_415_and_bad_json_400(client):
    response = client.post("/api/v1/images", data="key=x", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    response = client.post("/api/v1/images", data="{not json", content_type="application/json")
    assert_error(response, 400, "invalid_input")
    assert_error(client.post("/api/v1/images", json={"key": "k"}), 400, "invalid_input")
    response = client.post("/api/v1/images", data={"key": "k"}, content_type="multipart/form-data")
    assert_error(response, 400, "invalid_input")


def test_unknown_routes_and_methods_answer_json(client):
    assert_error(client.get("/api/v1/nothing"), 404, "not_found")
    assert_error(client.get("/api/v1/images/none"), 404, "not_found")
    assert_error(client.get("/api/v1/images/none/content"), 404, "not_found")
    assert_error(client.delete("/api/v1/images"), 405, "method_not_allowed")


def test_list_filters_by_prediction_and_label(client, storage: Storage, inference):
    from catdog.clock import utc_now

    inference.label = "dog"
    post_file(client, "d1", noise_image_bytes(1))
    inference.label = "cat"
    post_file(client, "c1", noise_image_bytes(2))
    post_file(client, "c2", noise_image_bytes(3))
    storage.catalog.set_label("c2", "cat", "alice", utc_now())

    def keys(query: str) -> list[str]:
        response = client.get(f"/api/v1/images?{query}")
        assert response.status_code == 200
        return [item["key"] for item in response.get_json()["items"]]

    assert keys("") == ["c2", "c1", "d1"]
    assert keys("predicted=dog") == ["d1"]
    assert keys("predicted=cat&labeled=false") == ["c1"]
    assert keys("labeled=true") == ["c2"]
    assert_error(client.get("/api/v1/images?predicted=horse"), 400, "invalid_input")
    renamed = client.get("/api/v1/images?label=dog")
    assert_error(renamed, 400, "invalid_input")
    assert "?predicted=" in renamed.get_json()["error"]["message"]
    assert_error(client.get("/api/v1/images?limit=0"), 400, "invalid_input")
    assert_error(client.get("/api/v1/images?cursor=garbage!"), 400, "invalid_input")


def test_pages_have_no_duplicates_or_gaps_while_uploads_happen(client):
    for index in range(7):
        post_file(client, f"old-{index}", noise_image_bytes(index))
    seen: list[str] = []
    cursor = ""
    for round_ in range(10):
        response = client.get(f"/api/v1/images?limit=3&cursor={cursor}")
        body = response.get_json()
        seen.extend(item["key"] for item in body["items"])
        # Someone uploads between every page the reader fetches.
        post_file(client, f"new-{round_}", noise_image_bytes(100 + round_))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"old-{index}" for index in reversed(range(7))]


def test_filtered_pages_have_no_duplicates_or_gaps(client, inference):
    for index in range(12):
        inference.label = "dog" if index % 4 == 0 else "cat"
        post_file(client, f"img-{index:02d}", noise_image_bytes(index))
    seen: list[str] = []
    cursor = ""
    while True:
        body = client.get(f"/api/v1/images?labeled=false&predicted=cat&limit=2&cursor={cursor}")
        data = body.get_json()
        seen.extend(item["key"] for item in data["items"])
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert seen == [f"img-{i:02d}" for i in reversed(range(12)) if i % 4 != 0]


def test_inference_down_stores_the_image_as_pending_then_classifies_it(
    client, csrf, storage: Storage, inference: FakeInference
):
    inference.down = True
    response = post_file(client, "offline", image_bytes())
    assert response.status_code == 201
    body = response.get_json()
    assert body["prediction"] is None
    assert body["status"] == "pending"
    page = client.get("/images/offline").get_data(as_text=True)
    assert "Pending classification" in page
    listing = client.get("/images").get_data(as_text=True)
    assert "pending" in listing

    inference.down = False
    assert classify_pending(storage, inference) == 1
    body = client.get("/api/v1/images/offline").get_json()
    assert body["status"] == "classified"
    assert body["prediction"]["label"] == "cat"
    assert "It is a <strong>cat</strong>" in client.get("/images/offline").get_data(as_text=True)


def test_openapi_document_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in described, f"{method} {path} not in OpenAPI"
    assert len(described) == sum(
        len(r.methods - {"HEAD", "OPTIONS"})
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/")
    )
    json.dumps(document)
