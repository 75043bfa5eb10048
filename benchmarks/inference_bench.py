"""Inference server benchmark: ``python -m benchmarks.inference_bench``.

Starts the real server (gunicorn, ``python -m inference_server``) on 127.0.0.1
with the baseline model, sends real JPEGs over keep-alive HTTP connections at
concurrency 1, 8 and 32, then does the same while a swap happens every 2
seconds, and writes latency percentiles and throughput as JSON.

The load generator runs on the same machine as the server, so on a small
machine it takes CPU from the server: the figures are pessimistic.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.inference_load import (
    SWAP_EVERY_S,
    TOKEN,
    ServerCpu,
    Swapper,
    free_port,
    request,
    run_phase,
)
from benchmarks.output import write_result

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "models" / "baseline"
# The shared photos beside the project (``../shared``), when this machine has them.
DATASET = ROOT.parent / "shared" / "datasets" / "cats-dogs" / "train"
RESULTS = ROOT / "benchmarks" / "results" / "inference_bench.json"
CONCURRENCY = (1, 8, 32)
TARGETS = {"p50_ms_at_1": 15.0, "throughput_at_32": 150.0, "swap_p99_factor": 3.0}


def load_images(count: int = 32, data: Path = DATASET) -> tuple[list[bytes], str]:
    """Real photos from ``data/{cat,dog}`` when present, else generated 500x375 JPEGs."""
    if data.is_dir():
        files = sorted(data.glob("*/*.jpg"))
        if files:
            picked = files[:: max(1, len(files) // count)][:count]  # both classes, spread out
            return [path.read_bytes() for path in picked], str(data)
    from PIL import Image

    rng = np.random.default_rng(0)
    images = []
    for _ in range(count):
        base = rng.integers(0, 255, size=(47, 63, 3)).astype(np.uint8)
        image = Image.fromarray(base).resize((500, 375), Image.Resampling.BICUBIC)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90)
        images.append(out.getvalue())
    return images, "generated 500x375 JPEGs"


def prepare_models(workdir: Path, model: Path | None) -> tuple[list[Path], str]:
    """Two copies of the baseline under different versions, so every swap really loads."""
    if model is not None:
        source, note = model, str(model)
    elif (BASELINE / "model.keras").is_file():
        source, note = BASELINE, "models/baseline"
    else:
        source = workdir / "untrained"
        write_untrained_model(source)
        note = "untrained training_job.model.make_model('small_cnn', 160): models/baseline missing"
    copies = []
    for name in ("bench-a", "bench-b"):
        target = workdir / name
        shutil.copytree(source, target)
        metrics = json.loads((target / "metrics.json").read_text())
        (target / "metrics.json").write_text(json.dumps({**metrics, "version": name}))
        copies.append(target)
    return copies, note


def write_untrained_model(target: Path) -> None:
    """A small_cnn at 160 px with a canary set recorded from its own predictions."""
    from catdog.artifacts import CANARY_DIR
    from catdog.preprocessing import preprocess_bytes
    from inference_server.classifier import Classifier
    from training_job.model import make_model

    target.mkdir(parents=True)
    model = make_model("small_cnn", 160)
    model.save(target / "model.keras")
    classifier = Classifier(model, "untrained")
    (target / CANARY_DIR).mkdir()
    canaries = []
    for index, data in enumerate(load_images(4)[0]):
        name = f"{index}.img"
        (target / CANARY_DIR / name).write_bytes(data)
        dog = classifier.predict_one(preprocess_bytes(data, 160)).dog
        canaries.append(
            {
                "name": name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "probabilities": {"cat": 1.0 - dog, "dog": dog},
            }
        )
    metrics = {"version": "untrained", "accuracy": None, "canary": canaries}
    (target / "metrics.json").write_text(json.dumps(metrics))


def start_server(models: list[Path], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CATDOG_INFERENCE_ADMIN_TOKEN": TOKEN,
        "CATDOG_DATA_DIR": str(log_path.parent / "data"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    command = [sys.executable, "-m", "inference_server", "--port", str(port)]
    for model in models:
        command += ["--model", str(model)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log_path.read_text()}")
        try:
            if request(port, "GET", "/readyz")[0] == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("the server did not become ready")


def measure(
    port: int,
    images: list[bytes],
    seconds: float,
    swap_versions: list[str] | None,
    cpu: ServerCpu,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for concurrency in CONCURRENCY:
        run_phase(port, images, concurrency, min(1.0, seconds))  # warm connections and caches
        cpu_before = cpu.seconds()
        if swap_versions is None:
            phase = run_phase(port, images, concurrency, seconds)
            phase.server_cpu_s = cpu.seconds() - cpu_before
            results[str(concurrency)] = phase.summary()
        else:
            with Swapper(port, swap_versions) as swapper:
                phase = run_phase(port, images, concurrency, seconds)
            phase.server_cpu_s = cpu.seconds() - cpu_before
            results[str(concurrency)] = {
                **phase.summary(),
                "swaps": swapper.swaps,
                "swap_errors": swapper.errors,
                "swap_request_ms_mean": round(float(np.mean(swapper.load_ms or [0.0])), 1),
            }
    return results


def verdict(steady: dict[str, Any], swaps: dict[str, Any]) -> dict[str, Any]:
    factors = {
        c: round(swaps[c]["p99_ms"] / steady[c]["p99_ms"], 2) for c in steady if steady[c]["p99_ms"]
    }
    errors = sum(s["errors"] + len(s["swap_errors"]) for s in swaps.values())
    errors += sum(s["errors"] for s in steady.values())
    return {
        "p50_ms_at_1": {
            "value": steady["1"]["p50_ms"],
            "target": "<= 15",
            "met": steady["1"]["p50_ms"] <= TARGETS["p50_ms_at_1"],
        },
        "throughput_at_32": {
            "value": steady["32"]["throughput_per_s"],
            "target": ">= 150",
            "met": steady["32"]["throughput_per_s"] >= TARGETS["throughput_at_32"],
        },
        "errors": {"value": errors, "target": "0", "met": errors == 0},
        "swap_p99_factor": {
            "value": factors,
            "target": "<= 3",
            "met": all(f <= TARGETS["swap_p99_factor"] for f in factors.values()),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inference_bench")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per phase")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--model", type=Path, help="model directory to use instead of models/baseline"
    )
    parser.add_argument(
        "--data", type=Path, default=DATASET, help="photos in cat/ and dog/ to send"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="catdog-bench-") as tmp:
        workdir = Path(tmp)
        models, model_note = prepare_models(workdir, args.model)
        images, image_note = load_images(data=args.data)
        port = free_port()
        server = start_server(models, port, workdir / "server.log")
        try:
            info = json.loads(request(port, "GET", "/v1/model")[1])
            cpu = ServerCpu(server.pid)
            steady = measure(port, images, args.seconds, None, cpu)
            during_swaps = measure(port, images, args.seconds, [m.name for m in models], cpu)
        finally:
            server.send_signal(signal.SIGTERM)
            exit_status = server.wait(60)
    result = {
        "benchmark": "inference_server",
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "model": {"source": model_note, "input_size": info["input_size"]},
        "images": {
            "source": image_note,
            "count": len(images),
            "mean_bytes": int(np.mean([len(i) for i in images])),
        },
        "seconds_per_phase": args.seconds,
        "swap_every_s": SWAP_EVERY_S,
        "steady": steady,
        "during_swaps": during_swaps,
        "targets": verdict(steady, during_swaps),
        "server_exit_status": exit_status,
        "note": "client and server share the machine's CPUs",
    }
    return write_result(args.out, result)


if __name__ == "__main__":
    sys.exit(main())
