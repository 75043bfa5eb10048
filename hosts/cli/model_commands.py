"""``catdog train`` and ``catdog evaluate``: train on a folder, measure a model on a folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from catdog.errors import InvalidInput
from catdog.settings import Settings

# Same names as training_job.model.ARCHITECTURES, repeated so that building the
# parser does not import TensorFlow.
ARCHITECTURES = ("small_cnn", "medium_cnn", "mobilenet_v2")


def register(subparsers: Any) -> None:
    train = subparsers.add_parser(
        "train", help="train a model on DIR/cat and DIR/dog and write a model directory"
    )
    train.add_argument("--data", type=Path, required=True, help="folder with cat/ and dog/")
    train.add_argument("--out", type=Path, required=True, help="model directory to write")
    train.add_argument("--arch", choices=ARCHITECTURES, default=None)
    train.add_argument("--epochs", type=_positive, default=None)
    train.add_argument("--input-size", type=_positive, default=None)
    train.add_argument("--batch-size", type=_positive, default=None)
    train.add_argument("--seed", type=int, default=None)
    train.add_argument(
        "--time-budget-minutes",
        type=float,
        default=None,
        help="stop fitting in time: the learning rate anneals over this wall-clock budget",
    )
    train.add_argument(
        "--version", default=None, help="model version (default: the out folder's name)"
    )
    train.set_defaults(func=run_train)

    evaluate = subparsers.add_parser(
        "evaluate",
        help="measure a model on DIR/cat and DIR/dog (or compare it --against another, "
        "paired on the same images, as the promotion gate does); prints one JSON object",
    )
    evaluate.add_argument(
        "--model", type=Path, required=True, help="model directory or .keras file"
    )
    evaluate.add_argument(
        "--against", type=Path, default=None, help="a second model to compare with, paired"
    )
    evaluate.add_argument("--data", type=Path, required=True, help="folder with cat/ and dog/")
    evaluate.set_defaults(func=run_evaluate)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run_train(args: argparse.Namespace, settings: Settings) -> int:
    from training_job.artifact import DirectoryArtifactSink
    from training_job.data import folder_examples
    from training_job.job import run_training
    from training_job.train import TrainingConfig

    examples = folder_examples(args.data)
    if not examples:
        raise InvalidInput(f"{args.data} has no images in cat/ or dog/")
    config = TrainingConfig.from_settings(
        settings,
        arch=args.arch,
        epochs=args.epochs,
        input_size=args.input_size,
        batch_size=args.batch_size,
        seed=args.seed,
        time_budget_s=None if args.time_budget_minutes is None else args.time_budget_minutes * 60,
    )
    metrics = run_training(
        examples,
        config,
        DirectoryArtifactSink(args.out),
        version=args.version or args.out.resolve().name,
        log=_stderr,
        progress=True,
    )
    summary = {
        key: metrics[key] for key in ("version", "accuracy", "n", "per_class", "confusion_matrix")
    }
    print(json.dumps({**summary, "out": str(args.out)}, indent=2))
    return 0


def run_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from training_job.evaluate import evaluate_folder
    from training_job.scoring import compare_folder

    if args.against is not None:
        metrics = compare_folder(args.model, args.against, args.data)
    else:
        metrics = evaluate_folder(args.model, args.data, progress=True)
    print(json.dumps(metrics, indent=2))
    return 0


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
