"""Concurrent clients for the load and fault tests: bounded in count and time."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from tests.e2e.api import content, list_all, photo, sha256, upload


@dataclass
class Outcome:
    key: str
    data: bytes
    status: int | None  # None: the request failed without an answer
    body: dict[str, object] | None = None
    error: str = ""


@dataclass
class UploadLoad:
    """``clients`` threads upload distinct photos until ``total`` are sent or ``stop`` is set."""

    web: str
    prefix: str
    clients: int
    total: int
    size: int = 32
    seed_base: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> UploadLoad:
        self._threads = [threading.Thread(target=self._client) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float = 300.0) -> list[Outcome]:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self._threads), "upload clients did not finish"
        return self.outcomes

    def acknowledged(self) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.status == 201]

    def _client(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            number = next(self._numbers)
            if number >= self.total:
                return
            key = f"{self.prefix}-{number}"
            data = photo(self.seed_base + number, size=self.size)
            try:
                response = upload(session, self.web, key, data)
                outcome = Outcome(key, data, response.status_code, _json_or_none(response))
            except requests.RequestException as exc:
                outcome = Outcome(key, data, None, error=type(exc).__name__)
                session = requests.Session()
                time.sleep(0.25)  # the server is down: do not spin through the budget
            with self._lock:
                self.outcomes.append(outcome)


def _json_or_none(response: requests.Response) -> dict[str, object] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def parallel(function: Callable[[str], object], keys: list[str], workers: int = 16) -> list:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, keys))


def catalog_integrity(web: str) -> tuple[dict[str, dict[str, object]], list[str]]:
    """Every listed image against its stored bytes: ({key: record}, problems)."""
    session = requests.Session()
    listed = {str(item["key"]): item for item in list_all(session, web)}
    local = threading.local()

    def check(key: str) -> str | None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        data = content(local.session, web, key)
        record = listed[key]
        if sha256(data) != record["sha256"] or len(data) != record["size"]:
            return f"{key}: stored bytes differ from the record"
        thumbnail = local.session.get(f"{web}/images/{key}/thumbnail", timeout=60)
        if thumbnail.status_code != 200 or not thumbnail.content:
            return f"{key}: no thumbnail ({thumbnail.status_code})"
        return None

    problems = [p for p in parallel(check, list(listed)) if p is not None]
    return listed, problems


def lost_uploads(acknowledged: list[Outcome], listed: dict[str, dict[str, object]]) -> list[str]:
    """Acknowledged uploads that are not listed with the sent bytes' sha256."""
    return [
        o.key
        for o in acknowledged
        if o.key not in listed or listed[o.key]["sha256"] != sha256(o.data)
    ]
