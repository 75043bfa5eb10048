"""Retraining pipeline benchmark: ``python -m benchmarks.pipeline_bench``.

Runs the embedded pipeline end to end on one machine: the committed ASL on
moto's interpreter, the real ``python -m training_job`` (tiny images, 1 epoch,
so training itself is short) and the real inference server
(``python -m inference_server``). For each forced execution it reports

* pipeline overhead: execution wall time minus training time (from starting
  the training process to its artifact being complete, timed by a wrapper
  around the compute port); it includes the Wait/CheckArtifact polling
  granularity (``--wait-seconds``) and the promotion-to-serving time below,
* promotion to serving: from PromoteModel finishing (champion pointer moved) to
  SignalInferenceServer finishing (the server answered the reload and reports
  the new version on ``GET /v1/model``),

plus the latency of a gate-only execution (manual mode: CheckManagerMode ->
Skipped). Results go to stdout and ``benchmarks/results/pipeline_bench.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.inference_load import free_port
from catdog.artifacts import is_complete
from catdog.clock import from_iso
from catdog.composition import build_ingest
from catdog.domain import ManagerSettings, Mode
from catdog.pipeline.compute import ComputeStatus, LocalProcessCompute, TrainCompute
from catdog.pipeline.executions import ExecutionDetail
from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from catdog.storage.ports import BlobStore
from hosts.embedded.step_functions import LocalPipeline

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "pipeline_bench.json"


class TimedCompute(TrainCompute):
    """The real local compute, plus when each run started and when its artifact was
    complete (the process may take a few more seconds to exit; that overlaps the
    pipeline's own work, so it does not count as training)."""

    def __init__(self, inner: LocalProcessCompute, blobs: BlobStore) -> None:
        self._inner = inner
        self._blobs = blobs
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}

    def start(self, run_id: str) -> ComputeStatus:
        status = self._inner.start(run_id)
        if run_id not in self.started:
            self.started[run_id] = time.monotonic()
            threading.Thread(target=self._watch, args=(run_id,), daemon=True).start()
        return status

    def _watch(self, run_id: str) -> None:
        while self._inner.status(run_id).running and not is_complete(self._blobs, run_id):
            time.sleep(0.02)
        self.ended[run_id] = time.monotonic()

    def status(self, run_id: str) -> ComputeStatus:
        return self._inner.status(run_id)

    def stop(self, run_id: str) -> None:
        self._inner.stop(run_id)


def tinted_noise(seed: int, tint: tuple[int, int, int]) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.integers(0, 96, size=(48, 48, 3)) + np.array(tint), 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(out, format="PNG")
    return out.getvalue()


def state_exit(detail: ExecutionDetail, name: str) -> float:
    for event in detail.events:
        details = event.get("stateExitedEventDetails") or {}
        if details.get("name") == name:
            return from_iso(event["timestamp"]).timestamp()
    raise KeyError(f"{detail.summary.name} never left {name}")


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def measure(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    settings = Settings(
        data_dir=data_dir,
        stepfunctions_port=free_port(),
        inference_port=free_port(),
        inference_admin_token="bench-admin-token",
        wait_seconds=args.wait_seconds,
        default_epochs=1,
        training_input_size=32,
        training_batch_size=8,
    )
    storage = build_local_storage(settings)
    ingest = build_ingest(settings, storage)
    for i in range(args.images // 2):
        ingest.ingest(f"cat-{i}", tinted_noise(i, (150, 40, 40)), label="cat", labeled_by="bench")
        ingest.ingest(
            f"dog-{i}", tinted_noise(10_000 + i, (40, 40, 150)), label="dog", labeled_by="bench"
        )
    # Promote whatever trains on any evidence: this measures the pipeline, not the model.
    storage.settings.put(
        ManagerSettings(Mode.MANUAL, 1, min_accuracy=0.0, max_accuracy_drop=1.0, min_eval_images=1)
    )
    log = (data_dir / "inference-server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "inference_server"],
        env={**os.environ, **settings.to_env()},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    compute = TimedCompute(LocalProcessCompute(settings), storage.blobs)
    pipeline = LocalPipeline(settings, storage, compute=compute, schedule=False)
    try:
        wait_for_port(settings.inference_port, 120)
        pipeline.start()
        skips = []
        for i in range(args.skips):
            arn = pipeline.orchestrator.start_execution({"trigger": "schedule"}, f"skip-{i}")
            detail = pipeline.orchestrator.wait(arn, timeout=60, poll=0.01)
            skips.append(_wall(detail))
        runs: list[dict[str, Any]] = []
        for i in range(args.runs):
            name = f"bench-{i}"
            arn = pipeline.orchestrator.start_execution({"trigger": "manual", "force": True}, name)
            detail = pipeline.orchestrator.wait(arn, timeout=900, poll=0.05)
            if detail.summary.status != "SUCCEEDED" or detail.output.get("outcome") != "promoted":
                raise RuntimeError(f"{name}: {detail.summary.status} {detail.error} {detail.cause}")
            training = compute.ended[name] - compute.started[name]
            wall = _wall(detail)
            promote_to_served = state_exit(detail, "SignalInferenceServer") - state_exit(
                detail, "PromoteModel"
            )
            runs.append(
                {
                    "execution": name,
                    "wall_s": round(wall, 3),
                    "training_s": round(training, 3),
                    "overhead_s": round(wall - training, 3),
                    "promotion_to_served_s": round(promote_to_served, 3),
                    "overhead_besides_serving_s": round(wall - training - promote_to_served, 3),
                    "states_entered": len(detail.state_names),
                }
            )
    finally:
        pipeline.stop()
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return {
        "wait_seconds": args.wait_seconds,
        "gate_only_execution_s": {
            "median": round(statistics.median(skips), 4) if skips else None,
            "max": round(max(skips), 4) if skips else None,
            "n": len(skips),
        },
        "runs": runs,
        "overhead_s_median": round(statistics.median(r["overhead_s"] for r in runs), 3),
        "promotion_to_served_s_median": round(
            statistics.median(r["promotion_to_served_s"] for r in runs), 3
        ),
        "cpu_count": os.cpu_count(),
    }


def _wall(detail: ExecutionDetail) -> float:
    summary = detail.summary
    assert summary.start_date is not None and summary.stop_date is not None
    return (summary.stop_date - summary.start_date).total_seconds()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pipeline_bench")
    parser.add_argument("--runs", type=int, default=2, help="forced executions that train")
    parser.add_argument("--skips", type=int, default=5, help="gate-only executions")
    parser.add_argument("--images", type=int, default=24, help="labeled images to train on")
    parser.add_argument("--wait-seconds", type=int, default=1, help="Wait state length")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="catdog-pipeline-bench-") as tmp:
        result = measure(args, Path(tmp))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
