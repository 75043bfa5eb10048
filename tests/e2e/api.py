"""What the end-to-end tests do over HTTP: upload, list, fetch, log in, check integrity."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import numpy as np
import requests
from PIL import Image

TIMEOUT = 60
_QUEUE_ROW = re.compile(r'<tr data-key="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def photo(seed: int, tint: tuple[int, int, int] = (150, 40, 40), size: int = 48) -> bytes:
    """A noisy, tinted JPEG (reddish "cats", bluish "dogs"); distinct bytes per seed."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.integers(0, 96, size=(size, size, 3)) + np.array(tint), 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


CAT_TINT = (150, 40, 40)
DOG_TINT = (40, 40, 150)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(
    session: requests.Session, web: str, key: str, data: bytes, filename: str = "photo.jpg"
) -> requests.Response:
    return session.post(
        f"{web}/api/v1/images",
        data={"key": key},
        files={"file": (filename, data, "application/octet-stream")},
        timeout=TIMEOUT,
    )


def import_url(session: requests.Session, web: str, key: str, url: str) -> requests.Response:
    return session.post(f"{web}/api/v1/images", json={"key": key, "url": url}, timeout=TIMEOUT)


def get_json(session: requests.Session, url: str, **params: Any) -> Any:
    response = session.get(url, params=params or None, timeout=TIMEOUT)
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    return response.json()


def list_all(session: requests.Session, web: str, **params: Any) -> list[dict[str, Any]]:
    """Every image the API lists (following cursors, 100 a page), newest first."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = get_json(session, f"{web}/api/v1/images", **query)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("the listing never ended")


def content(session: requests.Session, web: str, key: str) -> bytes:
    response = session.get(f"{web}/api/v1/images/{key}/content", timeout=TIMEOUT)
    assert response.status_code == 200, (key, response.status_code)
    return response.content


def bearer(session: requests.Session, web: str, username: str, password: str) -> dict[str, str]:
    response = session.post(
        f"{web}/api/v1/tokens", json={"username": username, "password": password}, timeout=TIMEOUT
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def integrity_problems(session: requests.Session, web: str) -> tuple[dict[str, str], list[str]]:
    """Every listed image's stored bytes against its record: ({key: sha256}, problems)."""
    listed: dict[str, str] = {}
    problems = []
    for item in list_all(session, web):
        key = item["key"]
        data = content(session, web, key)
        listed[key] = item["sha256"]
        if sha256(data) != item["sha256"] or len(data) != item["size"]:
            problems.append(f"{key}: stored bytes differ from the record")
    if len(listed) != len(set(listed)):
        problems.append("a key is listed twice")
    return listed, problems


def error_of(response: requests.Response) -> tuple[str, str]:
    """The (code, message) of a JSON error body; fails on anything else."""
    assert response.headers.get("Content-Type", "").startswith("application/json"), (
        response.status_code,
        response.headers.get("Content-Type"),
        response.text[:300],
    )
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error["code"], error["message"]


def queue_keys(session: requests.Session, web: str) -> list[str]:
    page = session.get(f"{web}/manager/queue", timeout=30)
    assert page.status_code == 200 and page.url.endswith("/manager/queue"), page.url
    return _QUEUE_ROW.findall(page.text)


def log_in_pages(web: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{web}/manager/login", timeout=30).text
    match = _CSRF.search(form)
    assert match, "no CSRF token on the login page"
    response = session.post(
        f"{web}/manager/login",
        data={"username": username, "password": password, "csrf_token": match.group(1)},
        timeout=30,
    )
    assert response.status_code == 200 and "/manager" in response.url, response.url
    return session
