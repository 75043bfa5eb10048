"""Listing benchmark: ``python -m benchmarks.list_bench``.

Fills a local catalog with N image records (bulk-inserted in one SQLite
transaction into the catalog's own table; no blobs, the listing never reads
them), starts the real web app (``python -m web``, gunicorn) on 127.0.0.1 and
times ``GET /api/v1/images`` pages over keep-alive HTTP: the first page, a page
in the middle (reached by following cursors, 100 records a page), and the same
two for a class filter (``label=cat``). Run for 1,000 and 100,000 records, it
shows whether the cost of a page depends on the size of the catalog.
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
from catdog.clock import to_iso
from catdog.settings import Settings
from catdog.storage.local.database import Database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "list_bench.json"
PAGE = 24
WALK_PAGE = 100
INSERT = (
    "INSERT INTO images (key, content_type, size, width, height, sha256, uploaded_at,"
    " predicted_label, confidence, model_version, label, labeled_at, labeled_by)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def fill_catalog(database: Path, count: int) -> float:
    """``count`` classified records, one a second apart; returns the seconds it took."""
    started = time.perf_counter()
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def rows() -> Any:
        for i in range(count):
            key = f"img-{i:07d}"
            yield (
                key,
                "image/jpeg",
                20_000,
                500,
                375,
                hashlib.sha256(key.encode()).hexdigest(),
                to_iso(start + timedelta(seconds=i)),
                "cat" if i % 2 else "dog",
                0.5 + (i % 50) / 100,
                "baseline",
                None,
                None,
                None,
            )

    with Database(database).write() as conn:
        conn.executemany(INSERT, rows())
    return time.perf_counter() - started


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
    start = [timed_page(session, url, {**query, "limit": PAGE})[0] for _ in range(repeats)]
    cursor, walked, walk_ms = None, 0, []
    while walked < skip:
        params = {**query, "limit": WALK_PAGE, **({"cursor": cursor} if cursor else {})}
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
        "items_on_middle_page": len(page["items"]),
    }


def measure_size(count: int, repeats: int, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / f"data-{count}"
    settings = Settings(data_dir=data_dir)
    insert_s = fill_catalog(settings.database_path, count)
    port = free_port()
    web = start_web(data_dir, port, workdir / f"web-{count}.log")
    try:
        session = requests.Session()
        url = f"http://127.0.0.1:{port}/api/v1/images"
        for _ in range(5):  # warm both gunicorn workers and their connections
            timed_page(session, url, {"limit": PAGE})
        return {
            "records": count,
            "bulk_insert_s": round(insert_s, 2),
            "all": measure_position(session, url, {}, repeats, count // 2),
            "label_cat": measure_position(session, url, {"label": "cat"}, repeats, count // 4),
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
