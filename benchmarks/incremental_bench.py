"""Incremental retrain benchmark: ``python -m benchmarks.incremental_bench``.

Imports ``--images`` labeled photos from a ``cat/``+``dog/`` folder (default
``../shared/datasets/cats-dogs/train`` beside the project) into a fresh local
catalog, makes the shipped baseline the champion with a data cutoff after them
(the champion has seen those labels, as after a full retrain), then labels
``--new`` more photos. It starts the whole embedded system (``catdog up``), waits
until every image is classified, and presses "Train now" through the manager
API. It measures the time from that request to the inference server serving the
new champion (or to the gate's decision, when the gate rejects it), with the
training job's own phases from its log and metrics.

``--full`` presses "Train now" with a full retrain from scratch instead (every
training-side image, the shipped architecture and epochs) and writes
``full_retrain_bench.json``.

The catalog and its images stay in a temporary folder; nothing is copied into
the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from benchmarks.output import write_result
from benchmarks.upload_bench import start_system

if TYPE_CHECKING:
    from catdog.domain import Label

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "incremental_bench.json"
FULL_RESULTS = ROOT / "benchmarks" / "results" / "full_retrain_bench.json"
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "cats-dogs" / "train"
CATDOG = Path(sys.executable).parent / "catdog"
MANAGER = "bench"
# A fresh manager password each run (the benchmark's system lives in a temporary folder).
PASSWORD = secrets.token_urlsafe(18)


def labeled_files(data: Path) -> list[tuple[Path, Label | None]]:
    """Every photo in ``data/{cat,dog}``, in a fixed order that mixes the classes."""
    from catdog.folder_import import find_images

    files = [(path, label) for path, label in find_images(data) if label is not None]
    return sorted(files, key=lambda item: hashlib.sha256(item[0].name.encode()).hexdigest())


def prepare(workdir: Path, data: Path, images: int, new: int, baseline: Path) -> dict[str, Any]:
    """The catalog, the champion and the new labels, before the system starts."""
    from catdog.artifacts import artifact_prefix, read_metrics, upload_model_dir
    from catdog.clock import utc_now
    from catdog.composition import build_ingest
    from catdog.domain import ModelStatus, ModelVersion
    from catdog.folder_import import FolderImport
    from catdog.settings import Settings
    from catdog.storage.local import build_local_storage

    settings = Settings(data_dir=workdir / "data")
    storage = build_local_storage(settings)
    importer = FolderImport(build_ingest(settings, storage), storage.catalog, MANAGER)
    files = labeled_files(data)
    if len(files) < images + new:
        raise SystemExit(f"{data} has {len(files)} labeled photos; {images + new} needed")
    started = time.perf_counter()
    imported = sum(item.outcome == "imported" for item in importer.run(files[:images]))
    import_seconds = time.perf_counter() - started

    upload_model_dir(storage.blobs, "champion", baseline)
    cutoff = utc_now()
    storage.registry.register(
        ModelVersion(
            "champion",
            artifact_prefix("champion"),
            ModelStatus.CANDIDATE,
            cutoff,
            read_metrics(storage.blobs, "champion"),
            data_cutoff=cutoff,
        )
    )
    storage.registry.promote("champion", None, MANAGER, "benchmark champion", cutoff)
    time.sleep(0.01)  # the new labels come strictly after the cutoff
    added = sum(item.outcome == "imported" for item in importer.run(files[images : images + new]))
    return {"imported": imported, "import_seconds": import_seconds, "new_labels": added}


def add_manager(workdir: Path) -> None:
    import subprocess

    env = {**os.environ, "CATDOG_DATA_DIR": str(workdir / "data")}
    subprocess.run(
        [str(CATDOG), "manager", "add-user", MANAGER],
        input=PASSWORD.encode(),
        env=env,
        check=True,
        capture_output=True,
    )


def token(web: str) -> dict[str, str]:
    response = requests.post(
        f"{web}/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD}, timeout=10
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def wait_classified(workdir: Path, timeout: float) -> float:
    """Seconds until ``catdog up`` has classified every imported image (none pending)."""
    from catdog.settings import Settings
    from catdog.storage.local import build_local_storage

    catalog = build_local_storage(Settings(data_dir=workdir / "data")).catalog
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if not catalog.list_pending(1):
            return time.perf_counter() - started
        time.sleep(2)
    raise RuntimeError("images were still pending classification")


def trigger_and_wait(
    web: str, inference: str, headers: dict[str, str], timeout: float, retrain_mode: str
) -> dict[str, Any]:
    """Train now, then poll the run and the inference server until the end."""
    started = time.perf_counter()
    response = requests.post(
        f"{web}/api/v1/training-runs",
        headers=headers,
        json={"retrain_mode": retrain_mode},
        timeout=30,
    )
    response.raise_for_status()
    run_id = response.json()["run_id"]
    decided = None
    run: dict[str, Any] = {}
    while time.perf_counter() - started < timeout:
        reply = requests.get(f"{web}/api/v1/training-runs/{run_id}", headers=headers, timeout=10)
        if reply.ok:
            run = reply.json()
            if run["status"] in ("promoted", "rejected", "failed", "cancelled") and decided is None:
                decided = time.perf_counter() - started
            if run["status"] != "promoted" and decided is not None:
                break
            if run["status"] == "promoted":
                served = requests.get(f"{inference}/v1/model", timeout=10).json().get("version")
                if served == run_id:
                    break
        time.sleep(0.5)
    else:
        raise RuntimeError(f"run {run_id} did not finish in {timeout} s")
    return {
        "run_id": run_id,
        "status": run["status"],
        "trigger_to_decision_s": decided,
        "trigger_to_served_s": time.perf_counter() - started
        if run["status"] == "promoted"
        else None,
        "error": run.get("error"),
        "metrics": run.get("metrics") or {},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.incremental_bench", description=__doc__
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with cat/, dog/")
    parser.add_argument("--images", type=int, default=20_000, help="labeled images in the catalog")
    parser.add_argument("--new", type=int, default=20, help="new labels since the champion")
    parser.add_argument("--baseline", type=Path, default=ROOT / "models" / "baseline")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--full", action="store_true", help="a full retrain from scratch")
    parser.add_argument("--out", type=Path, default=None, help="the result file")
    args = parser.parse_args(argv)
    retrain_mode = "full" if args.full else "incremental"
    out = args.out or (FULL_RESULTS if args.full else RESULTS)

    with tempfile.TemporaryDirectory(prefix="catdog-incremental-") as scratch:
        workdir = Path(scratch)
        prepared = prepare(workdir, args.data, args.images, args.new, args.baseline)
        add_manager(workdir)
        process, web, log = start_system(workdir, args.baseline)
        try:
            inference = _inference_url(log)
            headers = token(web)
            classified_s = wait_classified(workdir, args.timeout)
            outcome = trigger_and_wait(web, inference, headers, args.timeout, retrain_mode)
        finally:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=60)
        train_log = next(iter(sorted((workdir / "data").rglob("train-*.log"))), None)
        metrics = outcome.pop("metrics")
    result = {
        "benchmark": f"{retrain_mode}_retrain",
        "retrain_mode": retrain_mode,
        "cpu_count": os.cpu_count(),
        "catalog_labeled_images": prepared["imported"] + prepared["new_labels"],
        **prepared,
        "seconds_to_classify_catalog": classified_s,
        **outcome,
        # The 10-minute target is the incremental retrain's; a full retrain has none.
        "target_trigger_to_served_s": 600 if retrain_mode == "incremental" else None,
        "training_selection": metrics.get("training_selection"),
        "epochs_run": metrics.get("epochs_run"),
        "training_wall_time_s": metrics.get("training_wall_time_s"),
        "job_wall_time_s": metrics.get("wall_time_s"),
        "gate_decision": metrics.get("gate_decision"),
        "evaluation_images": (metrics.get("gate_evidence") or {}).get("n"),
        "training_log": None if train_log is None else train_log.name,
    }
    return write_result(out, json.loads(json.dumps(result, default=str)))


def _inference_url(log: Path) -> str:
    for line in log.read_text(errors="replace").splitlines():
        if "inference server:" in line and "http://" in line:
            return line.split("inference server:", 1)[1].strip().removesuffix("/v1/model")
    raise RuntimeError("the inference server's address is not in the catdog up log")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
