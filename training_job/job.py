"""One training run from labeled examples to a complete artifact, whatever the entry point."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from catdog.artifacts import MODEL_FILE
from catdog.clock import Clock, to_iso, utc_now
from catdog.domain import LABELS
from catdog.errors import InvalidInput
from training_job.artifact import ArtifactSink, canary_name, code_version, select_canaries
from training_job.data import (
    DecodedSet,
    Example,
    class_counts,
    data_cutoff,
    decode_examples,
    split_examples,
)
from training_job.evaluate import classification_metrics, predict
from training_job.model import (
    make_model,
    model_arch,
    model_input_size,
    trainable_core,
    with_flip_averaging,
)
from training_job.train import ProgressReporter, TrainingConfig, fit, seed_everything


@dataclass(frozen=True)
class Champion:
    """The serving model, to warm-start from and to compare against."""

    version: str
    model: Any


def run_training(
    examples: list[Example],
    config: TrainingConfig,
    sink: ArtifactSink,
    *,
    version: str,
    champion: Champion | None = None,
    warm_start: bool = True,
    report: ProgressReporter | None = None,
    clock: Clock = utc_now,
    timer: Callable[[], float] = time.monotonic,
    log: Callable[[str], None] | None = None,
    progress: bool = False,
    weights: str | None = "imagenet",
) -> dict[str, Any]:
    """Train, evaluate on the held-out split, and write the artifact. Returns its metrics.

    With a champion and ``warm_start``, training continues from the champion's
    weights (its architecture and input size win over ``config``) at a lower rate.
    """
    started = timer()
    trained_by = code_version()  # the code that trains, even if the tree changes meanwhile
    warm = champion is not None and warm_start
    if warm:
        assert champion is not None
        config = config.with_changes(
            arch=model_arch(champion.model), input_size=model_input_size(champion.model)
        )
    seed_everything(config.seed)
    split = split_examples(examples, config.split_fractions())
    train = decode_examples(split.train, config.input_size, progress=progress)
    validation = decode_examples(split.validation, config.input_size, progress=progress)
    _check_trainable(train)
    _log(
        log,
        f"{len(train)} training and {len(validation)} validation images at {config.input_size}px",
    )

    if warm:
        assert champion is not None
        core = trainable_core(champion.model)
        model = keras.models.clone_model(core)
        model.set_weights(core.get_weights())
    else:
        model = make_model(config.arch, config.input_size, weights=weights)
    result = fit(
        model,
        train,
        validation,
        config,
        warm=warm,
        report=report,
        clock=clock,
        timer=timer,
        log=log,
    )

    metrics: dict[str, Any] = {
        "version": version,
        "arch": config.arch,
        "input_size": config.input_size,
        "history": result.history,
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "counts": {
            "train": class_counts(train.labels),
            "validation": class_counts(validation.labels),
            "evaluation": class_counts(np.array([e.label for e in split.evaluation])),
        },
        "skipped": train.skipped + validation.skipped,
        "split": config.split_fractions().to_dict(),
        "code_version": trained_by,
        "training_wall_time_s": result.wall_time_s,
        "images_per_second": result.images_per_second,
        "config": config.to_dict(),
        "data_cutoff": _iso_or_none(data_cutoff(examples)),
        "warm_started_from": champion.version if warm and champion is not None else None,
        "champion_version": None if champion is None else champion.version,
        "champion_accuracy": None,
    }
    if champion is not None:
        metrics["champion_accuracy"] = _champion_accuracy(
            champion.model, validation, config.input_size
        )
    return package_model(
        model,
        validation,
        sink,
        metrics,
        flip_average=config.flip_average,
        clock=clock,
        started=started,
        timer=timer,
        log=log,
    )


def package_model(
    model: Any,
    validation: DecodedSet,
    sink: ArtifactSink,
    metrics: dict[str, Any],
    *,
    flip_average: bool,
    clock: Clock = utc_now,
    started: float | None = None,
    timer: Callable[[], float] = time.monotonic,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Measure the served form of ``model`` on ``validation`` and write the artifact.

    ``metrics`` (what the run knows: history, counts, ...) gains the evaluation,
    the canary set and the code version; ``_SUCCESS`` is written last by the sink.
    """
    started = timer() if started is None else started
    served = with_flip_averaging(model) if flip_average else model
    evaluation = predict(served, validation.pixels)
    metrics = {**metrics, **classification_metrics(validation.labels, evaluation.probabilities)}
    if flip_average:
        single = predict(model, validation.pixels).probabilities
        metrics["single_view_accuracy"] = classification_metrics(validation.labels, single)[
            "accuracy"
        ]
    with tempfile.TemporaryDirectory(prefix="catdog-train-") as scratch:
        model_file = Path(scratch) / MODEL_FILE
        _inference_copy(served).save(model_file)
        canary_metrics, canary_bytes = _canaries(model_file, validation)
        metrics.update(
            flip_averaged=flip_average,
            eval_images_per_second=evaluation.images_per_second,
            code_version=metrics.get("code_version") or code_version(),
            created_at=to_iso(clock()),
            model_bytes=model_file.stat().st_size,
            canary=canary_metrics,
        )
        metrics["wall_time_s"] = timer() - started
        where = sink.write(model_file, metrics, canary_bytes)
    _log(log, f"wrote {where}: accuracy {metrics['accuracy']}")
    return metrics


def _inference_copy(model: Any) -> Any:
    """The same network and weights without optimizer state (a third of the file size)."""
    copy = model.__class__.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def _check_trainable(train: DecodedSet) -> None:
    counts = class_counts(train.labels)
    missing = [name for name in LABELS if counts[name] == 0]
    if missing:
        raise InvalidInput(f"no training images labeled {' or '.join(missing)}")


def _champion_accuracy(
    champion_model: Any, validation: DecodedSet, input_size: int
) -> float | None:
    """The champion's accuracy on the same validation images (re-decoded at its own size)."""
    if not len(validation):
        return None
    size = model_input_size(champion_model)
    decoded = validation if size == input_size else decode_examples(validation.examples, size)
    probabilities = predict(champion_model, decoded.pixels).probabilities
    accuracy = classification_metrics(decoded.labels, probabilities)["accuracy"]
    return None if accuracy is None else float(accuracy)


def _canaries(
    model_file: Path, validation: DecodedSet
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Probabilities the *saved* model gives a few validation images, with their bytes."""
    indices = select_canaries(
        [int(label) for label in validation.labels], [e.sha256 for e in validation.examples]
    )
    if not indices:
        return [], {}
    saved = keras.models.load_model(model_file, compile=False)
    p_dog = predict(saved, validation.pixels[np.array(indices)]).probabilities
    entries, blobs = [], {}
    for position, (index, probability) in enumerate(zip(indices, p_dog, strict=True)):
        example = validation.examples[index]
        name = canary_name(position)
        blobs[name] = example.data
        entries.append(
            {
                "name": name,
                "sha256": example.sha256,
                "label": LABELS[example.label],
                "source": example.name,
                "probabilities": {"cat": 1.0 - float(probability), "dog": float(probability)},
            }
        )
    return entries, blobs


def _iso_or_none(moment: Any) -> str | None:
    return None if moment is None else to_iso(moment)


def _log(log: Callable[[str], None] | None, message: str) -> None:
    if log is not None:
        log(message)
