"""One training run from labeled examples to a complete artifact, whatever the entry point."""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np

from catdog.artifacts import EVALUATION_FILE, MODEL_FILE
from catdog.clock import Clock, to_iso, utc_now
from catdog.domain import LABELS, RetrainMode, RunPhase
from catdog.errors import InvalidInput
from catdog.settings import Settings
from training_job.artifact import ArtifactSink, canary_name, code_version, select_canaries
from training_job.data import (
    DecodedSet,
    Example,
    Split,
    class_counts,
    data_cutoff,
    decode_examples,
    split_examples,
)
from training_job.evaluate import classification_metrics, predict
from training_job.model import (
    is_flip_averaged,
    make_model,
    model_arch,
    model_input_size,
    trainable_core,
    with_flip_averaging,
)
from training_job.progress import RunReporter
from training_job.scoring import EvaluationResult, score_evaluation
from training_job.selection import select_training
from training_job.train import ProgressReporter, TrainingConfig, fit, seed_everything


@dataclass(frozen=True)
class Champion:
    """The serving model, to continue from and to compare against."""

    version: str
    model: Any
    data_cutoff: datetime | None = None


def run_training(
    examples: list[Example],
    config: TrainingConfig,
    sink: ArtifactSink,
    *,
    version: str,
    champion: Champion | None = None,
    report: ProgressReporter | None = None,
    clock: Clock = utc_now,
    timer: Callable[[], float] = time.monotonic,
    log: Callable[[str], None] | None = None,
    progress: bool = False,
    weights: str | None = "imagenet",
    progress_interval_s: float = Settings.progress_interval_seconds,
) -> dict[str, Any]:
    """Train, score challenger and champion on the frozen evaluation set, write the
    artifact. Returns its metrics.

    With a champion and ``config.retrain_mode`` incremental, training continues from
    the champion's weights (its architecture, input size and served form win over
    ``config``) at a
    lower rate, for a bounded number of steps, on the labels since the champion's
    data cutoff plus a replay sample; otherwise it fits from scratch on every
    training image. Validation images choose the epoch; evaluation images are only
    scored, after training, for the gate. ``report`` hears of each phase (decoding,
    training, scoring) and, at most every ``progress_interval_s``, of the images decoded
    and the batches done.
    """
    reporter = RunReporter(report, clock=clock, timer=timer, interval_s=progress_interval_s)
    started = timer()
    trained_by = code_version()  # the code that trains, even if the tree changes meanwhile
    warm = champion is not None and config.retrain_mode == RetrainMode.INCREMENTAL
    if warm:
        assert champion is not None
        config = config.with_changes(
            arch=model_arch(champion.model),
            input_size=model_input_size(champion.model),
            flip_average=is_flip_averaged(champion.model),
        )
    seed_everything(config.seed)
    split = split_examples(examples, config.split_fractions())
    selection = select_training(
        split.train,
        incremental=warm,
        since=None if champion is None else champion.data_cutoff,
        replay_size=config.replay_size,
        seed=config.seed,
        max_examples=config.incremental_steps * config.batch_size,
    )
    _log(log, f"decoding {len(selection.examples)} training images at {config.input_size}px")
    to_decode = len(selection.examples) + len(split.validation)
    reporter.phase(RunPhase.DECODING, done=0, total=to_decode)
    train = decode_examples(
        selection.examples,
        config.input_size,
        progress=progress,
        on_decoded=lambda done: reporter.decoded(done, to_decode),
    )
    validation = decode_examples(
        split.validation,
        config.input_size,
        progress=progress,
        on_decoded=lambda done: reporter.decoded(len(selection.examples) + done, to_decode),
    )
    _check_trainable(train, split)
    if warm:  # bounded by steps: a clock would make its schedule depend on the machine
        config = config.with_changes(
            epochs=incremental_epochs(len(train), config), time_budget_s=None
        )
    _log(
        log,
        f"{selection.mode.value} run: {len(train)} training ({selection.new} new, "
        f"{selection.replay} replayed) and {len(validation)} validation images",
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
        reporter=reporter,
        timer=timer,
        log=log,
    )
    reporter.phase(RunPhase.SCORING, total=len(split.evaluation))
    served = with_flip_averaging(model) if config.flip_average else model
    evaluation = score_evaluation(
        split.evaluation,
        served,
        challenger_version=version,
        champion=None if champion is None else champion.model,
        champion_version=None if champion is None else champion.version,
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
            "evaluation": class_counts(evaluation.labels),
        },
        "training_selection": selection.to_dict(),
        "skipped": train.skipped + validation.skipped + evaluation.decoded.skipped,
        "split": config.split_fractions().to_dict(),
        "code_version": trained_by,
        "training_wall_time_s": result.wall_time_s,
        "images_per_second": result.images_per_second,
        "config": config.to_dict(),
        "data_cutoff": _iso_or_none(data_cutoff(examples)),
        "warm_started_from": champion.version if warm and champion is not None else None,
        "champion_version": None if champion is None else champion.version,
    }
    return package_model(
        model,
        validation,
        evaluation,
        sink,
        metrics,
        flip_average=config.flip_average,
        measure_validation=not warm,
        clock=clock,
        started=started,
        timer=timer,
        log=log,
    )


def incremental_epochs(n_train: int, config: TrainingConfig) -> int:
    """Epochs over the (small) incremental set that make about ``incremental_steps`` steps."""
    steps_per_epoch = max(1, math.ceil(n_train / config.batch_size))
    return max(1, math.ceil(config.incremental_steps / steps_per_epoch))


def package_model(
    model: Any,
    validation: DecodedSet,
    evaluation: EvaluationResult,
    sink: ArtifactSink,
    metrics: dict[str, Any],
    *,
    flip_average: bool,
    measure_validation: bool = True,
    clock: Clock = utc_now,
    started: float | None = None,
    timer: Callable[[], float] = time.monotonic,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Add the evaluation (the gate's figures, ``accuracy`` among them) and, when
    ``measure_validation``, the served and single-view figures on ``validation`` (what
    a full run uses to choose its served form; an incremental run skips them, as
    the gate does not need them), then write the artifact.

    ``metrics`` (what the run knows: history, counts, ...) gains the measurements,
    the canary set and the code version; ``_SUCCESS`` is written last by the sink.
    """
    started = timer() if started is None else started
    served = with_flip_averaging(model) if flip_average else model
    metrics = {**metrics, **evaluation.metrics()}
    if measure_validation and len(validation):
        on_validation = predict(served, validation.pixels)
        metrics["validation"] = classification_metrics(
            validation.labels, on_validation.probabilities
        )
        metrics["eval_images_per_second"] = on_validation.images_per_second
        if flip_average:
            single = predict(model, validation.pixels).probabilities
            metrics["validation"]["single_view_accuracy"] = classification_metrics(
                validation.labels, single
            )["accuracy"]
    with tempfile.TemporaryDirectory(prefix="catdog-train-") as scratch:
        model_file = Path(scratch) / MODEL_FILE
        _inference_copy(model, flip_average).save(model_file)
        canary_metrics, canary_bytes = _canaries(model_file, validation)
        metrics.update(
            flip_averaged=flip_average,
            code_version=metrics.get("code_version") or code_version(),
            created_at=to_iso(clock()),
            model_bytes=model_file.stat().st_size,
            canary=canary_metrics,
        )
        metrics["wall_time_s"] = timer() - started
        manifest = evaluation.manifest_file(metrics.get("split", {}))
        where = sink.write(model_file, metrics, canary_bytes, {EVALUATION_FILE: manifest})
    _log(log, f"wrote {where}: evaluation accuracy {metrics['accuracy']} on {metrics['n']}")
    return metrics


def _inference_copy(model: Any, flip_average: bool) -> Any:
    """The served form built on an uncompiled copy of the trained network: the same
    weights without optimizer state (which would triple the file)."""
    copy = model.__class__.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return with_flip_averaging(copy) if flip_average else copy


def _check_trainable(train: DecodedSet, split: Split) -> None:
    """Both classes must be on the training side; the error says where the labels are."""
    counts = class_counts(train.labels)
    missing = [name for name in LABELS if counts[name] == 0]
    if missing:
        where = "; ".join(
            f"{name}: "
            + ", ".join(
                f"{sum(1 for e in examples if LABELS[e.label] == name)} {side}"
                for side, examples in (
                    ("training", split.train),
                    ("validation", split.validation),
                    ("evaluation", split.evaluation),
                )
            )
            for name in missing
        )
        raise InvalidInput(
            f"no training images labeled {' or '.join(missing)} ({where}; the evaluation "
            "side is kept out of training for the promotion gate): label more images"
        )


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
