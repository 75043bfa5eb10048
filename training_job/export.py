"""Re-package a trained model directory in its served form (``python -m training_job.export``).

Used when a model's served form is chosen after training (with or without
flip-averaging): the network and run history are kept, and the measurements,
canaries and file are redone on the same validation and evaluation images,
re-derived from the data by the split the run recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from catdog.artifacts import METRICS_FILE
from catdog.errors import CatdogError, InvalidInput
from training_job.artifact import DirectoryArtifactSink
from training_job.data import (
    SplitFractions,
    class_counts,
    decode_examples,
    folder_examples,
    split_examples,
)
from training_job.evaluate import load_model
from training_job.job import package_model
from training_job.model import model_input_size, trainable_core, with_flip_averaging
from training_job.scoring import score_evaluation

# What a run knows that re-packaging keeps; everything measured is redone.
RUN_FIELDS = (
    "version",
    "arch",
    "input_size",
    "history",
    "epochs_run",
    "best_epoch",
    "counts",
    "skipped",
    "split",
    "training_wall_time_s",
    "images_per_second",
    "config",
    "data_cutoff",
    "warm_started_from",
    "champion_version",
    "training_selection",
)


def export_model_dir(
    model_dir: Path,
    data_dir: Path,
    out: Path,
    *,
    flip_average: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write ``out`` from ``model_dir``; ``data_dir`` must be the data it was trained on.

    The validation and evaluation images are re-derived by the split the run
    recorded, and the served form is measured on both (evaluation last: it is
    the figure to report, and no choice is made on it here).
    """
    started = time.monotonic()
    original = json.loads((model_dir / METRICS_FILE).read_text())
    model = trainable_core(load_model(model_dir))
    fractions = SplitFractions.from_dict(original["split"])
    split = split_examples(folder_examples(data_dir), fractions)
    validation = decode_examples(split.validation, model_input_size(model))
    if class_counts(validation.labels) != original["counts"]["validation"]:
        raise InvalidInput(f"{data_dir} is not the data {model_dir} was trained on")
    metrics = {name: original[name] for name in RUN_FIELDS if name in original}
    metrics["config"] = {**metrics.get("config", {}), "flip_average": flip_average}
    metrics["repackaged_from"] = {
        "accuracy": original.get("accuracy"),
        "flip_averaged": original.get("flip_averaged", False),
        "code_version": original.get("code_version"),
    }
    served = with_flip_averaging(model) if flip_average else model
    evaluation = score_evaluation(
        split.evaluation, served, challenger_version=str(original["version"])
    )
    metrics["counts"] = {**metrics["counts"], "evaluation": class_counts(evaluation.labels)}
    previous_wall = float(original.get("wall_time_s") or 0.0)
    return package_model(
        model,
        validation,
        evaluation,
        DirectoryArtifactSink(out),
        metrics,
        flip_average=flip_average,
        started=started - previous_wall,
        log=log,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training_job.export", description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="trained model directory")
    parser.add_argument("--data", type=Path, required=True, help="the folder it was trained on")
    parser.add_argument("--out", type=Path, required=True, help="model directory to write")
    parser.add_argument("--no-flip-average", dest="flip_average", action="store_false")
    args = parser.parse_args(argv)
    try:
        metrics = export_model_dir(
            args.model, args.data, args.out, flip_average=args.flip_average, log=_stderr
        )
    except CatdogError as exc:
        _stderr(f"training_job.export: error: {exc}")
        return 2
    summary = ("version", "accuracy", "n", "per_class", "confusion_matrix", "gate_evidence")
    result = {key: metrics.get(key) for key in summary}
    result["validation_accuracy"] = metrics["validation"]["accuracy"]
    print(json.dumps(result, indent=2))
    return 0


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
