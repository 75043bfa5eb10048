"""Upload-to-classified benchmark: ``python -m benchmarks.upload_bench``.

Starts the whole embedded system (``catdog up``: web app, inference server,
pipeline) on free loopback ports with a temporary data directory and the
shipped baseline model, then uploads real photos through the JSON API
(``POST /api/v1/images``, multipart) and times each request from the first
byte sent to the 201 that carries the prediction: validation, the original
and thumbnail written, the catalog record, the inference server's prediction
and the record updated. Once one client at a time, then 8 at once.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from benchmarks.inference_bench import BASELINE, load_images, prepare_models
from benchmarks.inference_load import free_port
from benchmarks.output import write_result

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "upload_bench.json"
CATDOG = Path(sys.executable).parent / "catdog"


def start_system(workdir: Path, baseline: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    web_port, inference_port = free_port(), free_port()
    env = {
        **os.environ,
        "CATDOG_DATA_DIR": str(workdir / "data"),
        "CATDOG_WEB_PORT": str(web_port),
        "CATDOG_INFERENCE_PORT": str(inference_port),
        "CATDOG_STEPFUNCTIONS_PORT": str(free_port()),
        "CATDOG_BASELINE_DIR": str(baseline),
        "CATDOG_SCHEDULE_SECONDS": "3600",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log = workdir / "catdog-up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(CATDOG), "up"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    web = f"http://127.0.0.1:{web_port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"catdog up exited:\n{log.read_text()[-3000:]}")
        if "catdog is running" in log.read_text(errors="replace"):
            try:
                ready = requests.get(f"http://127.0.0.1:{inference_port}/readyz", timeout=2)
                if ready.ok and requests.get(f"{web}/api/v1/openapi.json", timeout=2).ok:
                    return process, web, log
            except requests.RequestException:
                pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError("catdog up did not become ready")


def upload(session: requests.Session, web: str, key: str, data: bytes) -> tuple[float, str]:
    started = time.perf_counter()
    response = session.post(
        f"{web}/api/v1/images",
        data={"key": key},
        files={"file": (f"{key}.jpg", data, "image/jpeg")},
        timeout=120,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 201:
        return elapsed, f"HTTP {response.status_code}"
    return elapsed, str(response.json()["status"])


def phase(web: str, images: list[bytes], prefix: str, count: int, clients: int) -> dict[str, Any]:
    local = threading.local()

    def one(index: int) -> tuple[float, str]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return upload(local.session, web, f"{prefix}-{index}", images[index % len(images)])

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, range(count)))
    wall = time.perf_counter() - started
    latencies = sorted(ms for ms, status in results if status == "classified")
    statuses: dict[str, int] = {}
    for _, status in results:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "clients": clients,
        "uploads": count,
        "statuses": statuses,
        "uploads_per_s": round(count / wall, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.upload_bench")
    parser.add_argument("--uploads", type=int, default=100, help="uploads per phase")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    images, image_note = load_images(64)
    with tempfile.TemporaryDirectory(prefix="catdog-upload-bench-") as tmp:
        workdir = Path(tmp)
        models, model_note = prepare_models(workdir, BASELINE if BASELINE.is_dir() else None)
        process, web, _log = start_system(workdir, models[0])
        try:
            upload(requests.Session(), web, "warm-up", images[0])
            sequential = phase(web, images, "one", args.uploads, 1)
            concurrent = phase(web, images, "eight", args.uploads * 2, 8)
        finally:
            process.send_signal(signal.SIGTERM)
            exit_status = process.wait(90)
    result = {
        "benchmark": "upload_to_classified",
        "cpu_count": os.cpu_count(),
        "model": model_note,
        "images": {"source": image_note, "count": len(images)},
        "concurrency_1": sequential,
        "concurrency_8": concurrent,
        "catdog_up_exit_status": exit_status,
        "note": "POST /api/v1/images to its 201 with the prediction; client on the same CPUs",
    }
    return write_result(args.out, result)


if __name__ == "__main__":
    sys.exit(main())
