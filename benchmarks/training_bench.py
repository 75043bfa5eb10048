"""Training benchmark: ``python -m benchmarks.training_bench``.

Trains the baseline configuration (small_cnn, 128 px, batch 32, the same
augmentation and schedule) for a few epochs and reports training images/s,
wall time and evaluation images/s as JSON, with the machine's CPU count.
With ``--data DIR`` it uses a real ``cat/``+``dog/`` folder; without it, 256 px
generated photos-sized images (the network's cost does not depend on content).
``baseline_wall_time_estimate_s`` extrapolates to the shipped baseline's run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "training_bench.json"
BASELINE_METRICS = ROOT / "models" / "baseline" / "metrics.json"


def synthetic_examples(per_class: int, size: int = 256) -> list[Any]:
    from PIL import Image

    from training_job.data import example_from_bytes

    rng = np.random.default_rng(0)
    examples = []
    for label in (0, 1):
        for index in range(per_class):
            pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
            out = io.BytesIO()
            Image.fromarray(pixels, "RGB").save(out, format="JPEG", quality=90)
            examples.append(example_from_bytes(f"{label}/{index}.jpg", out.getvalue(), label))
    return examples


def run(args: argparse.Namespace) -> dict[str, Any]:
    import tensorflow as tf

    from training_job.artifact import DirectoryArtifactSink
    from training_job.data import folder_examples
    from training_job.job import run_training
    from training_job.train import TrainingConfig

    examples = folder_examples(args.data) if args.data else synthetic_examples(args.per_class)
    config = TrainingConfig(
        arch="small_cnn",
        input_size=args.input_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=1337,
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="catdog-training-bench-") as scratch:
        metrics = run_training(
            examples, config, DirectoryArtifactSink(Path(scratch) / "model"), version="bench"
        )
    wall = time.perf_counter() - started
    n_train = sum(metrics["counts"]["train"].values())
    result: dict[str, Any] = {
        "benchmark": "training",
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "tensorflow": tf.__version__,
        "data": str(args.data) if args.data else f"synthetic 256px JPEG x {2 * args.per_class}",
        "arch": config.arch,
        "input_size": config.input_size,
        "batch_size": config.batch_size,
        "epochs": metrics["epochs_run"],
        "train_images": n_train,
        "validation_images": metrics["n"],
        "train_images_per_second": metrics["images_per_second"],
        # Epochs after the first exclude graph tracing: the steady-state rate.
        "steady_train_images_per_second": _steady_rate(metrics["history"], n_train),
        "train_wall_time_s": metrics["training_wall_time_s"],
        "eval_images_per_second": metrics["eval_images_per_second"],
        "total_wall_time_s": wall,
        "load_average_1m": os.getloadavg()[0],
    }
    if BASELINE_METRICS.exists():
        baseline = json.loads(BASELINE_METRICS.read_text())
        images = sum(baseline["counts"]["train"].values()) * baseline["epochs_run"]
        result["baseline_epochs"] = baseline["epochs_run"]
        # At the steady rate measured here, on this machine's current load.
        rate = result["steady_train_images_per_second"] or result["train_images_per_second"]
        result["baseline_wall_time_estimate_s"] = images / max(1e-9, rate)
        result["baseline_recorded_wall_time_s"] = baseline["wall_time_s"]
    return result


def _steady_rate(history: list[dict[str, float]], n_train: int) -> float | None:
    later = [entry["seconds"] for entry in history[1:] if entry.get("seconds")]
    return n_train * len(later) / sum(later) if later else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.training_bench", description=__doc__
    )
    parser.add_argument("--data", type=Path, default=None, help="folder with cat/ and dog/")
    parser.add_argument("--per-class", type=int, default=400, help="generated images per class")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--input-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(args)
    text = json.dumps(result, indent=2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
