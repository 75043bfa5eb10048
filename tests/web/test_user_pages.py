"""User stories on the pages: upload, see the result, browse, search, list."""

from __future__ import annotations

import io

from flask.testing import FlaskClient

from catdog.storage.ports import Storage
from tests.factories import image_bytes, noise_image_bytes
from tests.web.fakes import FakeInference


def upload(client: FlaskClient, csrf: str, key: str, data: bytes, name: str = "photo.jpg"):
    return client.post(
        "/images",
        data={"key": key, "csrf_token": csrf, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_a_photo_and_see_its_classification(client, csrf, inference: FakeInference):
    response = upload(client, csrf(), "my-cat", image_bytes("JPEG", (80, 60)))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/images/my-cat")

    page = client.get("/images/my-cat")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "It is a <strong>cat</strong>" in html
    assert "93.0%" in html
    assert "v-test-1" in html
    assert 'src="/images/my-cat/content"' in html
    assert "Content-Security-Policy" in page.headers
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_an_unsure_prediction_is_said_plainly(client, csrf, inference: FakeInference):
    inference.confidence = 0.55
    upload(client, csrf(), "blurry", image_bytes())
    html = client.get("/images/blurry").get_data(as_text=True)
    assert "The model is unsure" in html
    assert "only 55.0% confidence" in html


def test_the_image_is_served_with_its_decoded_type_whatever_its_name(client, csrf):
    png = image_bytes("PNG")
    upload(client, csrf(), "named-wrong", png, name="picture.jpg")
    response = client.get("/images/named-wrong/content")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.data == png
    thumb = client.get("/images/named-wrong/thumbnail")
    assert thumb.mimetype == "image/jpeg"
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"


def test_bad_upload_shows_the_form_again_with_the_reason(client, csrf):
    response = upload(client, csrf(), "not-image", b"hello, not an image")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "not a supported image" in html
    assert 'value="not-image"' in html


def test_upload_without_csrf_token_is_refused(client):
    response = client.post(
        "/images",
        data={"key": "x", "file": (io.BytesIO(image_bytes()), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert "reload the page" in response.get_data(as_text=True)


def test_gallery_shows_one_class_with_thumbnails_and_pages(client, csrf, inference: FakeInference):
    token = csrf()
    for index in range(30):
        inference.label = "dog" if index % 6 == 0 else "cat"
        upload(client, token, f"pet-{index:02d}", noise_image_bytes(index))
    dogs_page = client.get("/gallery/dog").get_data(as_text=True)
    assert _gallery_keys(dogs_page) == [f"pet-{i:02d}" for i in (24, 18, 12, 6, 0)]
    assert 'rel="next"' not in dogs_page

    first = client.get("/gallery/cat").get_data(as_text=True)
    assert len(_gallery_keys(first)) == 24
    next_url = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    cats = _gallery_keys(first) + _gallery_keys(second)
    assert cats == [f"pet-{i:02d}" for i in reversed(range(30)) if i % 6 != 0]
    assert 'rel="next"' not in second
    assert client.get("/gallery/horse").status_code == 400


def _gallery_keys(html: str) -> list[str]:
    import re

    return re.findall(r'<span class="caption"><code>([^<]+)</code>', html)


def test_search_by_key_goes_to_the_image_or_says_it_is_missing(client, csrf):
    upload(client, csrf(), "findme", image_bytes())
    found = client.get("/search?key=findme")
    assert found.status_code == 302
    assert found.headers["Location"].endswith("/images/findme")
    missing = client.get("/search?key=nothing-here")
    assert missing.status_code == 404
    assert "No image has the key" in missing.get_data(as_text=True)
    assert client.get("/search").status_code == 200


def test_list_of_images_filters_by_prediction_label_and_disagreement(
    client, csrf, inference: FakeInference, storage: Storage
):
    token = csrf()
    inference.label = "cat"
    upload(client, token, "cat-unlabeled", noise_image_bytes(1))
    upload(client, token, "cat-agreed", noise_image_bytes(2))
    inference.label = "dog"
    upload(client, token, "dog-but-cat", noise_image_bytes(3))
    from catdog.clock import utc_now

    storage.catalog.set_label("cat-agreed", "cat", "alice", utc_now())
    storage.catalog.set_label("dog-but-cat", "cat", "alice", utc_now())

    def keys(query: str) -> set[str]:
        html = client.get(f"/images?{query}").get_data(as_text=True)
        return {k for k in ("cat-unlabeled", "cat-agreed", "dog-but-cat") if f">{k}<" in html}

    assert keys("") == {"cat-unlabeled", "cat-agreed", "dog-but-cat"}
    assert keys("predicted=cat") == {"cat-unlabeled", "cat-agreed"}
    assert keys("labeled=false") == {"cat-unlabeled"}
    assert keys("labeled=true") == {"cat-agreed", "dog-but-cat"}
    assert keys("disagreement=true") == {"dog-but-cat"}
    assert keys("predicted=dog&labeled=true") == {"dog-but-cat"}
    table = client.get("/images").get_data(as_text=True)
    assert '<th scope="col">Manager label</th>' in table
    assert client.get("/images?labeled=maybe").status_code == 400


def test_unknown_image_is_a_404_page(client):
    response = client.get("/images/nope")
    assert response.status_code == 404
    assert "no image with key" in response.get_data(as_text=True)


def test_healthz_answers_without_login(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
