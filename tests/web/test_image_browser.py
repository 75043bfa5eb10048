"""The managers' image browser: every image with prediction, confidence, label and
disagreement, filters and key-prefix search, inline and bulk labeling; the same views
through the API."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from catdog.domain import ImageRecord, Label, Prediction
from catdog.storage.ports import Storage
from tests.web.conftest import csrf_from

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def add(
    storage: Storage,
    key: str,
    minute: int,
    predicted: Label | None,
    confidence: float = 0.9,
    label: Label | None = None,
) -> None:
    storage.catalog.create(
        ImageRecord(
            key=key,
            content_type="image/jpeg",
            size=100,
            width=8,
            height=8,
            sha256=hashlib.sha256(key.encode()).hexdigest(),
            uploaded_at=T0 + timedelta(minutes=minute),
            prediction=None if predicted is None else Prediction(predicted, confidence, "m1"),
        )
    )
    if label is not None:
        storage.catalog.set_label(key, label, "bob", T0)


def gallery(storage: Storage) -> None:
    add(storage, "cat-1", 1, "cat", 0.95)
    add(storage, "cat-2", 2, "cat", 0.62)
    add(storage, "dog-1", 3, "dog", 0.91, label="cat")  # the model and the manager disagree
    add(storage, "dog-2", 4, "dog", 0.55, label="dog")
    add(storage, "new-1", 5, None)


def keys_on(html: str) -> list[str]:
    table = html.split('id="images"')[1].split("</table>")[0] if 'id="images"' in html else ""
    return re.findall(r'<tr data-key="([^"]+)"', table)


def test_every_view_and_prefix_search(manager_client: FlaskClient, storage: Storage) -> None:
    gallery(storage)
    expected = {
        "all": ["new-1", "dog-2", "dog-1", "cat-2", "cat-1"],
        "cat": ["cat-2", "cat-1"],
        "dog": ["dog-2", "dog-1"],
        "labeled": ["dog-2", "dog-1"],
        "unlabeled": ["new-1", "cat-2", "cat-1"],
        "disagreement": ["dog-1"],
        "unsure": ["dog-2", "cat-2"],  # least confident first, under the 0.7 threshold
    }
    for view, keys in expected.items():
        html = manager_client.get(f"/manager/images?view={view}").get_data(as_text=True)
        assert keys_on(html) == keys, view
    html = manager_client.get("/manager/images?prefix=dog-").get_data(as_text=True)
    assert keys_on(html) == ["dog-1", "dog-2"]
    assert "disagrees" in html and "91.0%" in html and 'value="dog-"' in html
    empty = manager_client.get("/manager/images?prefix=zebra").get_data(as_text=True)
    assert "No images with keys starting with <code>zebra</code>" in empty
    assert manager_client.get("/manager/images?view=blurry").status_code == 400
    assert manager_client.get("/manager/images?view=cat&prefix=c").status_code == 400
    assert 'href="/manager/images"' in manager_client.get("/manager/").get_data(as_text=True)


def test_inline_and_bulk_labels_come_back_to_the_browser(
    manager_client: FlaskClient, storage: Storage
) -> None:
    gallery(storage)
    here = "/manager/images?view=unlabeled"
    token = csrf_from(manager_client, here)
    one = manager_client.post(
        "/manager/images/cat-2/label", data={"csrf_token": token, "label": "dog", "next": here}
    )
    assert (one.status_code, one.headers["Location"]) == (303, here)
    assert storage.catalog.get("cat-2").label == "dog"
    fetched = manager_client.post(
        "/manager/images/cat-1/label",
        data={"csrf_token": token, "label": "cat"},
        headers={"X-Requested-With": "fetch"},
    )
    assert fetched.status_code == 204  # what the keyboard shortcuts send
    bulk = manager_client.post(
        "/manager/labels",
        data={"csrf_token": token, "label": "cat", "keys": ["new-1"], "next": here},
    )
    assert (bulk.status_code, bulk.headers["Location"]) == (303, here)
    html = manager_client.get(here).get_data(as_text=True)
    assert keys_on(html) == []
    disagreements = manager_client.get("/manager/images?view=disagreement").get_data(as_text=True)
    assert keys_on(disagreements) == ["dog-1", "cat-2"]
    offsite = manager_client.post(
        "/manager/labels",
        data={"csrf_token": token, "label": "cat", "keys": ["cat-1"], "next": "https://evil.test/"},
    )
    assert not offsite.headers["Location"].startswith("https://evil.test")


def test_pages_are_full_and_walk_to_the_end(manager_client: FlaskClient, storage: Storage) -> None:
    for i in range(120):
        add(
            storage,
            f"img-{i:03d}",
            i,
            "cat" if i % 2 else "dog",
            0.5 + (i % 40) / 100,
            label="cat" if i % 3 == 0 else None,
        )
    seen, url = [], "/manager/images?view=unlabeled"
    sizes = []
    while url:
        html = manager_client.get(url).get_data(as_text=True)
        keys = keys_on(html)
        sizes.append(len(keys))
        seen += keys
        following = re.search(r'rel="next" href="([^"]+)"', html)
        url = following.group(1).replace("&amp;", "&") if following else ""
    assert sizes == [50, 30] and len(set(seen)) == 80


def test_api_catalog_views(
    client: FlaskClient, auth_header: dict[str, str], storage: Storage
) -> None:
    gallery(storage)
    body = client.get("/api/v1/catalog?view=disagreement", headers=auth_header).get_json()
    assert [(i["key"], i["label"], i["prediction"]["label"]) for i in body["items"]] == [
        ("dog-1", "cat", "dog")
    ]
    first = client.get("/api/v1/catalog?prefix=cat&limit=1", headers=auth_header).get_json()
    assert [i["key"] for i in first["items"]] == ["cat-1"] and first["next_cursor"]
    rest = client.get(
        f"/api/v1/catalog?prefix=cat&limit=1&cursor={first['next_cursor']}", headers=auth_header
    ).get_json()
    assert [i["key"] for i in rest["items"]] == ["cat-2"] and rest["next_cursor"] is None
    unsure = client.get("/api/v1/catalog?view=unsure", headers=auth_header).get_json()
    assert [i["unsure"] for i in unsure["items"]] == [True, True]
    assert client.get("/api/v1/catalog").status_code == 401
    assert client.get("/api/v1/catalog?view=x", headers=auth_header).status_code == 400
