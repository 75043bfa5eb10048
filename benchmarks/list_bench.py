"""Listing benchmark: ``python -m benchmarks.list_bench``.

Fills a local catalog with N image records (bulk-inserted in one SQLite
transaction into the catalog's own table; no blobs, the listing never reads
them), starts the real web app (``python -m web``, gunicorn) on 127.0.0.1 and
times ``GET /api/v1/images`` pages over keep-alive HTTP: the first page, a page
in the middle (reached by following cursors, 100 records a page), and the same
two for a class filter (``predicted=cat``); then the managers' image browser
(``GET /api/v1/catalog``) for each view (cat, dog, labeled, unlabeled,
disagreement, unsure) and a key-prefix search, each served by its own index.
Run for 1,000 and 100,000 records, it shows whether the cost of a page depends
on the size of the catalog, and that every page is full.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from benchmarks.inference_load import free_port
from benchmarks.output import write_result
from catdog.auth.accounts import ManagerAccounts
from catdog.clock import to_iso
from catdog.settings import Settings
from catdog.storage.local.database import Database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "list_bench.json"
PAGE = 24
WALK_PAGE = 100
MANAGER = "bench"
PASSWORD = "benchmark password 1"
# The image browser's views with the share of the catalog each holds (``fill_catalog``),
# and a key-prefix search that matches 100 keys at any size. The middle page is
# reached after half of each view's matches.
BROWSER_QUERIES: dict[str, tuple[dict[str, str], float]] = {
    "cat": ({"view": "cat"}, 1 / 2),
    "dog": ({"view": "dog"}, 1 / 2),
    "labeled": ({"view": "labeled"}, 1 / 3),
    "unlabeled": ({"view": "unlabeled"}, 2 / 3),
    "disagreement": ({"view": "disagreement"}, 1 / 6),
    "unsure": ({"view": "unsure"}, 2 / 5),
    "prefix img-00005": ({"prefix": "img-00005"}, 0.0),
}
PREFIX_MATCHES = 100
INSERT = (
    "INSERT INTO images (key, content_type, size, width, height, sha256, uploaded_at,"
    " predicted_label, confidence, model_version, label, labeled_at, labeled_by)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def fill_catalog(database: Path, count: int) -> float:
    """``count`` classified records, one a second apart; returns the seconds it took.

    Confidence cycles 0.50..0.99 (two in five unsure, under 0.7); every third image
    is labeled, and one in six against its prediction, so every view has matches
    spread over the whole catalog.
    """
    started = time.perf_counter()
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def rows() -> Any:
        for i in range(count):
            key = f"img-{i:07d}"
            predicted = "cat" if i % 2 else "dog"
            label = None
            if i % 3 == 0:
                label = predicted if i % 2 else ("cat" if predicted == "dog" else "dog")
            moment = to_iso(start + timedelta(seconds=i))
            yield (
                key,
                "image/jpeg",
                20_000,
                500,
                375,
                hashlib.sha256(key.encode()).hexdigest(),
                moment,
                predicted,
                0.5 + (i % 50) / 100,
                "baseline",
                label,
                None if label is None else moment,
                None if label is None else MANAGER,
            )

    with Database(database).write() as conn:
        conn.executemany(INSERT, rows())
    return time.perf_counter() - started


def manager_token(data_dir: Path, base: str) -> str:
    """A manager account in the catalog's database, and an API token for it."""
    ManagerAccounts(Database(Settings(data_dir=data_dir).database_path)).add_user(MANAGER, PASSWORD)
    response = requests.post(
        f"{base}/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["token"])


def start_web(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **Settings(data_dir=data_dir).to_env(),
        "CATDOG_INFERENCE_PORT": str(free_port()),  # listing never asks it
        "CATDOG_STEPFUNCTIONS_PORT": str(free_port()),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"python -m web did not start: {log.read_text()[-2000:]}")


def timed_page(session: requests.Session, url: str, params: dict[str, Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    response = session.get(url, params=params, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, response.json()


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def measure_position(
    session: requests.Session, url: str, query: dict[str, Any], repeats: int, skip: int
) -> dict[str, Any]:
    """Pages of ``PAGE`` records at the start, and after ``skip`` records reached by cursors."""
    timed = [timed_page(session, url, {**query, "limit": PAGE}) for _ in range(repeats)]
    start = [elapsed for elapsed, _ in timed]
    first_items = len(timed[-1][1]["items"])
    cursor, walked, walk_ms = None, 0, []
    while walked < skip:
        params = {**query, "limit": min(WALK_PAGE, skip), **({"cursor": cursor} if cursor else {})}
        elapsed, page = timed_page(session, url, params)
        walk_ms.append(elapsed)
        walked += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    middle_query = {**query, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
    middle = []
    for _ in range(repeats):
        elapsed, page = timed_page(session, url, middle_query)
        middle.append(elapsed)
    return {
        "start": summary(start),
        "middle": {**summary(middle), "after_records": walked},
        "cursor_walk_100_per_page": summary(walk_ms) if walk_ms else None,
        "items_on_first_page": first_items,
        "items_on_middle_page": len(page["items"]),
    }


def measure_size(count: int, repeats: int, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / f"data-{count}"
    settings = Settings(data_dir=data_dir)
    insert_s = fill_catalog(settings.database_path, count)
    port = free_port()
    web = start_web(data_dir, port, workdir / f"web-{count}.log")
    try:
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        # A manager's token: the browser needs it, and managers are not rate limited.
        session.headers["Authorization"] = f"Bearer {manager_token(data_dir, base)}"
        url = f"{base}/api/v1/images"
        for _ in range(5):  # warm both gunicorn workers and their connections
            timed_page(session, url, {"limit": PAGE})
        catalog = f"{base}/api/v1/catalog"
        views = {
            name: measure_position(
                session, catalog, query, repeats, int(count * share / 2) or PREFIX_MATCHES // 2
            )
            for name, (query, share) in BROWSER_QUERIES.items()
        }
        return {
            "records": count,
            "bulk_insert_s": round(insert_s, 2),
            "all": measure_position(session, url, {}, repeats, count // 2),
            "label_cat": measure_position(session, url, {"predicted": "cat"}, repeats, count // 4),
            "browser": views,
            "browser_pages_full": all(
                v["items_on_middle_page"] == PAGE and v["items_on_first_page"] == PAGE
                for v in views.values()
            ),
        }
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.list_bench")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--repeats", type=int, default=100, help="timed requests per position")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="catdog-list-bench-") as tmp:
        sizes = [measure_size(count, args.repeats, Path(tmp)) for count in args.sizes]
    result = {
        "benchmark": "list_pages",
        "cpu_count": os.cpu_count(),
        "page_size": PAGE,
        "sizes": sizes,
        "note": "client and server share the machine's CPUs; latency is the client's wall time",
    }
    return write_result(args.out, result)


if __name__ == "__main__":
    sys.exit(main())
