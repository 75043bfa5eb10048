"""Limits on anonymous traffic: token buckets per address (uploads, URL imports,
predictions), a daily byte quota per address, managers exempt, shared by workers."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from catdog.rate_limits import BucketRule, MemoryBuckets, RateLimiter, address_key, take_token
from catdog.settings import Settings
from catdog.storage.ports import Storage
from inference_server.app import PredictionService
from inference_server.app import create_app as create_inference_app
from tests.factories import noise_image_bytes
from tests.web.fakes import FakeInference
from web.app import create_app
from web.url_import import UrlImporter

A, B = "203.0.113.7", "198.51.100.9"


NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def build(settings: Settings, storage: Storage, **changes: Any) -> Flask:
    """An app whose clock stands still: buckets refill only when a test moves time."""
    app = create_app(
        settings.with_changes(**changes),
        storage=storage,
        inference=FakeInference(),
        url_importer=UrlImporter(settings.max_upload_bytes, 2.0),
        clock=lambda: NOON,
    )
    app.config["TESTING"] = True
    return app


def upload(client: FlaskClient, key: str, address: str = A, **headers: str) -> Any:
    return client.post(
        "/api/v1/images",
        data={"key": key, "file": (_image(key), "x.jpg")},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def _image(key: str) -> Any:
    return io.BytesIO(noise_image_bytes(sum(map(ord, key)), size=(16, 16)))


def test_a_flood_from_one_address_gets_429_with_retry_after(
    settings: Settings, storage: Storage
) -> None:
    """The finding: 300 anonymous uploads from one address were all accepted."""
    client = build(settings, storage, rate_limit_burst=30).test_client()
    statuses = [upload(client, f"flood-{n}").status_code for n in range(35)]
    assert statuses[:30] == [201] * 30
    assert statuses[30:] == [429] * 5
    refused = upload(client, "one-more")
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "1"  # 60 a minute: one token a second
    assert upload(client, "other-address", address=B).status_code == 201


def test_the_limit_is_shared_by_the_web_apps_workers(settings: Settings, storage: Storage) -> None:
    first = build(settings, storage, rate_limit_burst=3).test_client()
    second = build(settings, storage, rate_limit_burst=3).test_client()  # another process
    assert [upload(first, f"w-{n}").status_code for n in range(2)] == [201, 201]
    assert upload(second, "w-2").status_code == 201
    assert upload(second, "w-3").status_code == 429


def test_url_imports_are_limited_before_anything_is_fetched(
    settings: Settings, storage: Storage
) -> None:
    client = build(settings, storage, rate_limit_burst=2).test_client()

    def import_url(key: str) -> Any:
        body = {"key": key, "url": "http://10.0.0.1/cat.jpg"}
        return client.post("/api/v1/images", json=body, environ_base={"REMOTE_ADDR": A})

    assert [import_url(f"u{n}").status_code for n in range(2)] == [400, 400]  # url_refused
    refused = import_url("u2")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers


def test_the_upload_page_is_limited_too(settings: Settings, storage: Storage) -> None:
    client = build(settings, storage, rate_limit_burst=1).test_client()
    page = client.get("/", environ_base={"REMOTE_ADDR": A}).get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]

    def post(key: str) -> Any:
        form = {"key": key, "csrf_token": token, "file": (_image(key), "x.jpg")}
        return client.post("/images", data=form, environ_base={"REMOTE_ADDR": A})

    assert post("page-1").status_code == 303
    refused = post("page-2")
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_managers_are_not_limited(
    settings: Settings, storage: Storage, accounts: Any, api_token: str
) -> None:
    client = build(settings, storage, rate_limit_burst=2).test_client()
    header = {"Authorization": f"Bearer {api_token}"}
    statuses = [upload(client, f"m-{n}", **header).status_code for n in range(5)]
    assert statuses == [201] * 5
    forged = upload(client, "forged-1", Authorization="Bearer forged")
    assert forged.status_code == 201  # a bad token is just anonymous
    assert upload(client, "forged-2", Authorization="Bearer forged").status_code == 201
    assert upload(client, "forged-3", Authorization="Bearer forged").status_code == 429


def test_stored_bytes_per_address_and_day_are_capped(settings: Settings, storage: Storage) -> None:
    size = len(noise_image_bytes(sum(map(ord, "q-0")), size=(16, 16)))
    client = build(settings, storage, daily_bytes_per_address=size * 2 + 10).test_client()
    assert upload(client, "q-0").status_code == 201
    bad = client.post(
        "/api/v1/images",
        data={"key": "q-bad", "file": (_bad_image(size), "x.jpg")},
        environ_base={"REMOTE_ADDR": A},
    )
    assert bad.status_code == 422  # refused images do not use up the quota
    assert upload(client, "q-1").status_code == 201
    refused = upload(client, "q-2")
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "quota_exceeded"
    assert refused.headers["Retry-After"] == str(12 * 3600)  # at noon: until midnight UTC
    assert upload(client, "q-3", address=B).status_code == 201


def _bad_image(size: int) -> Any:
    return io.BytesIO(b"not an image" * (size // 12))


def test_a_bucket_refills_at_its_rate() -> None:
    rule = BucketRule(burst=2, per_minute=60)
    state, wait = take_token(None, rule, 100.0)
    state, wait = take_token(state, rule, 100.0)
    assert wait == 0
    state, wait = take_token(state, rule, 100.0)
    assert wait == pytest.approx(1.0)
    state, wait = take_token(state, rule, 100.5)
    assert wait == pytest.approx(0.5)
    _, wait = take_token(state, rule, 101.0)
    assert wait == 0


class StubService(PredictionService):
    def predict(self, data: bytes) -> dict[str, Any]:
        return {"label": "cat", "confidence": 1.0}

    def model_info(self) -> dict[str, Any]:
        return {"version": "stub"}

    def reload(self, version: str | None = None) -> dict[str, Any]:
        return {"version": version or "stub"}


@pytest.mark.parametrize(
    ("address", "token", "limited"),
    [(A, None, True), (A, "admin-secret", False), ("127.0.0.1", None, False)],
)
def test_inference_predictions_are_limited_per_address(
    settings: Settings, address: str, token: str | None, limited: bool
) -> None:
    limiter = RateLimiter(MemoryBuckets(), {"predict": BucketRule(2, 60)})
    app = create_inference_app(
        StubService(),
        settings.with_changes(inference_admin_token="admin-secret"),
        limiter,
    )
    client = app.test_client()
    headers = {"Content-Type": "image/jpeg"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    statuses = [
        client.post(
            "/v1/predict", data=b"x", headers=headers, environ_base={"REMOTE_ADDR": address}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == ([200, 200, 429] if limited else [200, 200, 200])


def test_an_ipv6_64_counts_as_one_address(settings: Settings, storage: Storage) -> None:
    """A subscriber holds a whole /64: otherwise every request could come from a new
    address and never meet a limit."""
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    client = build(settings, storage, rate_limit_burst=2).test_client()
    statuses = [
        upload(client, f"v6-{n}", address=f"2001:db8:1:2::{n + 1}").status_code for n in range(3)
    ]
    assert statuses == [201, 201, 429]
