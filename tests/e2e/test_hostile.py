"""A hostile-input corpus against the real web app (``python -m web`` under ``catdog up``).

Every case gets a clear 4xx JSON error ``{"error": {"code", "message"}}`` or a
correct result, and afterwards the server is healthy: the same web process
still runs, and a good upload still works.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from PIL import Image

from tests.e2e import hostile_files as files
from tests.e2e.api import bearer, error_of, get_json, photo, sha256
from tests.e2e.conftest import StartSystem
from tests.e2e.system import MANAGER, PASSWORD, CatdogSystem

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass(frozen=True)
class Target:
    web: str
    loopback_web: str
    photo_server: str
    token: dict[str, str]


Send = Callable[[requests.Session, Target], requests.Response]


@dataclass(frozen=True)
class Case:
    name: str
    send: Send
    status: int
    code: str | None = None  # the error code expected (None: a success)


def multipart(
    key: str, data: bytes, filename: str = "photo.jpg", ctype: str = "image/jpeg"
) -> Send:
    def send(s: requests.Session, t: Target) -> requests.Response:
        files_ = {"file": (filename, data, ctype)}
        return s.post(f"{t.web}/api/v1/images", data={"key": key}, files=files_, timeout=60)

    return send


def raw(body: bytes, content_type: str | None, path: str = "/api/v1/images") -> Send:
    def send(s: requests.Session, t: Target) -> requests.Response:
        headers = {} if content_type is None else {"Content-Type": content_type}
        return s.post(f"{t.web}{path}", data=body, headers=headers, timeout=60)

    return send


def json_body(payload: Any, path: str = "/api/v1/images", method: str = "POST") -> Send:
    def send(s: requests.Session, t: Target) -> requests.Response:
        return s.request(method, f"{t.web}{path}", json=payload, headers=t.token, timeout=60)

    return send


def url_import(
    key: str, url: str | Callable[[Target], str], via_loopback_web: bool = False
) -> Send:
    def send(s: requests.Session, t: Target) -> requests.Response:
        target = url(t) if callable(url) else url
        web = t.loopback_web if via_loopback_web else t.web
        return s.post(f"{web}/api/v1/images", json={"key": key, "url": target}, timeout=60)

    return send


def listing(query: str) -> Send:
    def send(s: requests.Session, t: Target) -> requests.Response:
        return s.get(f"{t.web}/api/v1/images?{query}", timeout=60)

    return send


BOUNDARY = "hostile-boundary"
FORM = f"multipart/form-data; boundary={BOUNDARY}"
SHOWN = 422, "invalid_image"

REJECTED: list[Case] = [
    Case("empty body, no type", raw(b"", None), 415, "unsupported_media_type"),
    Case("empty multipart body", raw(b"", FORM), 400, "invalid_input"),
    Case("empty file", multipart("empty", b""), *SHOWN),
    Case("truncated JPEG", multipart("trunc", files.truncated_jpeg()), *SHOWN),
    Case("PNG bomb 64 Mpx", multipart("bomb", files.png_bomb(), "b.png"), 413, "image_too_large"),
    Case(
        "PNG header 100k x 100k", multipart("hdr", files.png_header_bomb()), 413, "image_too_large"
    ),
    Case("SVG with script", multipart("svg", files.svg(), "x.jpg", "image/svg+xml"), *SHOWN),
    Case("HTML named .jpg", multipart("html", files.html(), "cat.jpg"), *SHOWN),
    Case("GIF/JavaScript polyglot", multipart("gifjs", files.gif_javascript_polyglot()), *SHOWN),
    Case("TIFF (not accepted)", multipart("tiff", files.tiff(), "x.tif"), *SHOWN),
    Case("over the size limit", multipart("big", b"\xff\xd8" + b"\0" * 10_600_000), 413),
    Case("multipart without a file part", raw(f"--{BOUNDARY}--\r\n".encode(), FORM), 400),
    Case(
        "multipart cut off mid-part",
        raw(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="a.jpg"\r\n\r\n'.encode()
            + photo(3)[:200],
            FORM,
        ),
        400,
        "invalid_input",
    ),
    Case("multipart without boundary", raw(b"garbage", "multipart/form-data"), 400),
    Case("key too long", multipart("k" * 129, photo(4)), 400, "invalid_key"),
    Case("key ../../etc/passwd", multipart("../../etc/passwd", photo(5)), 400, "invalid_key"),
    Case("key with a slash", multipart("a/b", photo(6)), 400, "invalid_key"),
    Case("hidden key", multipart(".htaccess", photo(7)), 400, "invalid_key"),
    Case("unicode key", multipart("猫-café", photo(8)), 400, "invalid_key"),
    Case("key with NUL", multipart("a\x00b", photo(9)), 400, "invalid_key"),
    Case("empty key", multipart("", photo(10)), 400, "invalid_key"),
    Case("JSON: key is a number", json_body({"key": 5, "url": "http://x.test/"}), 400),
    Case("JSON: url is a list", json_body({"key": "k", "url": ["http://x"]}), 400),
    Case("JSON: an array body", json_body(["key", "url"]), 400, "invalid_input"),
    Case("JSON: not JSON", raw(b"{'key':", "application/json"), 400, "invalid_input"),
    Case("JSON sent as text/plain", raw(b'{"key":"k"}', "text/plain"), 415),
    Case(
        "token: username a number",
        json_body({"username": 1, "password": []}, "/api/v1/tokens"),
        400,
    ),
    Case(
        "settings: threshold a string",
        json_body({"label_threshold": "5"}, "/api/v1/settings", "PUT"),
        422,
        "invalid_settings",
    ),
    Case(
        "label: not cat or dog",
        json_body({"label": "horse"}, "/api/v1/images/good-upload/label", "PUT"),
        400,
    ),
    Case("listing: limit=abc", listing("limit=abc"), 400, "invalid_input"),
    Case("listing: limit=² (a non-ASCII digit)", listing("limit=%C2%B2"), 400, "invalid_input"),
    Case("listing: forged cursor", listing("cursor=Li4vLi4vZXRj"), 400, "invalid_input"),
    Case("listing: predicted=horse", listing("predicted=horse"), 400, "invalid_input"),
    Case("listing: label=cat (renamed predicted=)", listing("label=cat"), 400, "invalid_input"),
    Case(
        "URL: loopback", url_import("u1", lambda t: f"{t.photo_server}/cat.jpg"), 400, "url_refused"
    ),
    Case("URL: localhost", url_import("u2", "http://localhost/cat.jpg"), 400, "url_refused"),
    Case("URL: IPv6 loopback", url_import("u3", "http://[::1]/cat.jpg"), 400, "url_refused"),
    Case("URL: mapped IPv4", url_import("u4", "http://[::ffff:127.0.0.1]/"), 400, "url_refused"),
    Case("URL: decimal 127.0.0.1", url_import("u5", "http://2130706433/"), 400, "url_refused"),
    Case("URL: private 10/8", url_import("u6", "http://10.1.2.3/cat.jpg"), 400, "url_refused"),
    Case("URL: private 192.168/16", url_import("u7", "http://192.168.1.1/"), 400, "url_refused"),
    Case(
        "URL: link-local metadata", url_import("u8", "http://169.254.169.254/"), 400, "url_refused"
    ),
    Case("URL: file scheme", url_import("u9", "file:///etc/passwd"), 400, "url_refused"),
    Case("URL: credentials", url_import("u10", "http://u:p@example.com/"), 400, "url_refused"),
    Case("URL: 3000 characters", url_import("u11", "http://a.test/" + "a" * 3000), 400),
    Case(
        "URL: redirect to link-local",
        url_import("u12", lambda t: f"{t.photo_server}/to-link-local", via_loopback_web=True),
        400,
        "url_refused",
    ),
    Case(
        "URL: redirect to private",
        url_import("u13", lambda t: f"{t.photo_server}/to-private", via_loopback_web=True),
        400,
        "url_refused",
    ),
    Case(
        "URL: redirect to file://",
        url_import("u14", lambda t: f"{t.photo_server}/to-file", via_loopback_web=True),
        400,
        "url_refused",
    ),
    Case(
        "URL: redirect loop",
        url_import("u15", lambda t: f"{t.photo_server}/loop", via_loopback_web=True),
        422,
        "url_fetch_failed",
    ),
]

ACCEPTED: dict[str, bytes] = {
    "one-pixel": files.one_pixel_png(),
    "very-wide": files.very_wide_png(),
    "animated-gif": files.animated_gif(),
    "cmyk-jpeg": files.cmyk_jpeg(),
    "png-16-bit": files.png_16_bit(),
    "exif-rotated": files.exif_rotated_jpeg(),
    "palette-transparent": files.palette_png_with_transparency(),
    "grayscale-alpha": files.grayscale_alpha_png(),
    "webp": files.webp(),
    "jpeg-html-polyglot": files.jpeg_with_html_tail(),
    "png-zip-polyglot": files.png_with_zip_tail(),
}


@pytest.fixture(scope="module")
def system(start_system: StartSystem) -> CatdogSystem:
    system = start_system()
    system.add_manager()
    return system


@pytest.fixture(scope="module")
def target(system: CatdogSystem, loopback_web: str, photo_server: str) -> Target:
    session = requests.Session()
    token = bearer(session, system.web, MANAGER, PASSWORD)
    good = session.post(
        f"{system.web}/api/v1/images",
        data={"key": "good-upload"},
        files={"file": ("a.jpg", photo(11))},
        timeout=60,
    )
    assert good.status_code == 201
    return Target(system.web, loopback_web, photo_server, token)


@pytest.fixture(scope="module")
def web_pid(system: CatdogSystem) -> int:
    return system.children()["web"]


def test_the_corpus_is_large_enough() -> None:
    assert len(REJECTED) + len(ACCEPTED) >= 30


@pytest.mark.parametrize("case", REJECTED, ids=[case.name for case in REJECTED])
def test_hostile_input_gets_a_clear_json_error(case: Case, target: Target, web_pid: int) -> None:
    response = case.send(requests.Session(), target)
    assert response.status_code == case.status, response.text[:300]
    code, _message = error_of(response)
    if case.code is not None:
        assert code == case.code


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_odd_but_valid_images_are_stored_and_classified(
    name: str, target: Target, web_pid: int
) -> None:
    data = ACCEPTED[name]
    session = requests.Session()
    response = multipart(name, data, f"{name}.bin", "application/octet-stream")(session, target)
    assert response.status_code == 201, response.text[:300]
    body = response.json()
    assert body["status"] == "classified"
    assert body["prediction"]["label"] in ("cat", "dog")
    assert body["sha256"] == sha256(data)
    served = session.get(f"{target.web}{body['content_url']}", timeout=60)
    assert served.content == data
    assert served.headers["Content-Type"] == body["content_type"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert body["content_type"] in ("image/png", "image/jpeg", "image/gif", "image/webp")
    if name == "exif-rotated":
        thumbnail = session.get(f"{target.web}{body['thumbnail_url']}", timeout=60)
        shown = Image.open(io.BytesIO(thumbnail.content))
        assert shown.height > shown.width  # stored 80 x 40, EXIF says rotate: shown upright


def test_the_server_is_healthy_after_the_corpus(
    system: CatdogSystem, target: Target, web_pid: int
) -> None:
    session = requests.Session()
    assert system.children()["web"] == web_pid  # never crashed nor restarted
    assert "Traceback" not in system.child_log("web")
    assert session.get(f"{system.inference}/healthz", timeout=10).status_code == 200
    assert session.get(f"{system.web}/", timeout=10).status_code == 200
    data = photo(12)
    response = multipart("after-the-corpus", data)(session, target)
    assert response.status_code == 201
    assert response.json()["status"] == "classified"
    keys = {item["key"] for item in get_json(session, f"{system.web}/api/v1/images")["items"]}
    assert "after-the-corpus" in keys and not keys & {"trunc", "bomb", "svg", "html"}
