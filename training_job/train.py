"""Fitting a model: hyperparameters in one place, a warm-up + cosine learning-rate schedule,
early stopping on validation accuracy, progress reported after every epoch and, throttled,
within one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import keras
import numpy as np

from catdog.domain import RunPhase, RunProgress
from catdog.settings import Settings
from training_job.data import (
    EVALUATION_FRACTION,
    VALIDATION_FRACTION,
    DecodedSet,
    SplitFractions,
)
from training_job.pipeline import Augmentation, evaluation_dataset, training_dataset
from training_job.progress import ProgressReporter, RunReporter, Timer
from training_job.schedule import ScheduleCallback

__all__ = ["ProgressReporter", "Timer", "TrainingConfig", "fit"]


@dataclass(frozen=True)
class TrainingConfig:
    """Every hyperparameter of a training run."""

    # Defaults shared with the product's settings live in Settings, once.
    arch: str = Settings.default_arch
    input_size: int = Settings.training_input_size
    epochs: int = Settings.default_epochs
    batch_size: int = Settings.training_batch_size
    seed: int = Settings.training_seed
    learning_rate: float = 2e-3
    # "incremental": continue from the champion on new labels plus a replay sample
    # for about incremental_steps steps; "full": fit from scratch on every training image.
    retrain_mode: str = "incremental"
    replay_size: int = Settings.replay_size
    incremental_steps: int = Settings.incremental_steps
    # A warm start continues from the champion's weights at this fraction of the rate.
    warm_start_lr_factor: float = 0.1
    warmup_epochs: int = 1
    min_lr_fraction: float = 0.02
    weight_decay: float = 4e-3
    label_smoothing: float = 0.05
    patience: int = 12
    # Wall-clock limit for fitting from scratch: the schedule anneals by time and stops
    # in time. A warm start ignores it (it is bounded by incremental_steps).
    time_budget_s: float | None = None
    # Shares of the sha256 split (training gets the rest); see training_job.data.
    evaluation_fraction: float = EVALUATION_FRACTION
    validation_fraction: float = VALIDATION_FRACTION
    augment: bool = True
    # Serve P(dog) averaged over the photo and its mirror image (test-time augmentation).
    flip_average: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TrainingConfig:
        config = cls(
            arch=settings.default_arch,
            input_size=settings.training_input_size,
            epochs=settings.default_epochs,
            batch_size=settings.training_batch_size,
            seed=settings.training_seed,
            replay_size=settings.replay_size,
            incremental_steps=settings.incremental_steps,
            time_budget_s=settings.training_time_budget_minutes * 60 or None,
        )
        return config.with_changes(**{k: v for k, v in overrides.items() if v is not None})

    def split_fractions(self) -> SplitFractions:
        return SplitFractions(self.evaluation_fraction, self.validation_fraction)

    def with_changes(self, **changes: Any) -> TrainingConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TrainingResult:
    model: Any
    history: list[dict[str, float]] = field(default_factory=list)
    epochs_run: int = 0
    best_epoch: int = 0
    wall_time_s: float = 0.0
    images_per_second: float = 0.0


def seed_everything(seed: int) -> None:
    """Same seed, same data, same code → same weights (on the same CPU machine)."""
    keras.utils.set_random_seed(seed)


def peak_learning_rate(config: TrainingConfig, *, warm: bool) -> float:
    """A warm start continues from trained weights, so it starts lower."""
    return config.learning_rate * (config.warm_start_lr_factor if warm else 1.0)


def compile_model(model: Any, config: TrainingConfig, *, warm: bool) -> None:
    optimizer = keras.optimizers.AdamW(
        learning_rate=peak_learning_rate(config, warm=warm), weight_decay=config.weight_decay
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.BinaryCrossentropy(label_smoothing=config.label_smoothing),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )


def fit(
    model: Any,
    train: DecodedSet,
    validation: DecodedSet,
    config: TrainingConfig,
    *,
    warm: bool = False,
    reporter: RunReporter | None = None,
    timer: Timer = time.monotonic,
    log: Callable[[str], None] | None = None,
) -> TrainingResult:
    """Train ``model`` in place; the returned model has the best validation-accuracy weights.
    ``reporter`` hears of every epoch's end and, when it is due, of the batches done
    within an epoch."""
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    compile_model(model, config, warm=warm)
    augmentation = Augmentation() if config.augment else None
    train_ds = training_dataset(train, config.batch_size, config.seed, augmentation=augmentation)
    val_ds = evaluation_dataset(validation.pixels, config.batch_size, validation.labels)
    progress = ProgressCallback(
        config.epochs,
        reporter or RunReporter(None, timer=timer),
        timer,
        log,
        config.time_budget_s,
        batches=steps_per_epoch,
        batch_size=config.batch_size,
    )
    schedule = ScheduleCallback(
        peak=peak_learning_rate(config, warm=warm),
        total_steps=config.epochs * steps_per_epoch,
        warmup_fraction=0.0 if warm else min(0.5, config.warmup_epochs / config.epochs),
        min_fraction=config.min_lr_fraction,
        timer=timer,
        time_budget_s=config.time_budget_s,
    )
    callbacks: list[Any] = [PreciseBatchNorm(train.pixels, config.seed), schedule, progress]
    if len(validation):
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy",
                mode="max",
                patience=config.patience,
                restore_best_weights=True,
            )
        )
    started = timer()
    model.fit(
        train_ds,
        validation_data=val_ds if len(validation) else None,
        epochs=config.epochs,
        callbacks=callbacks,
        shuffle=False,  # the tf.data pipeline shuffles, from the seed
        verbose=0,
    )
    wall = timer() - started
    history = progress.history
    best = _best_epoch(history)
    seen = len(train) * len(history)
    return TrainingResult(
        model, history, len(history), best, wall, seen / wall if wall > 0 else 0.0
    )


def _best_epoch(history: list[dict[str, float]]) -> int:
    if not history or "val_accuracy" not in history[0]:
        return len(history)
    scores = [entry["val_accuracy"] for entry in history]
    return scores.index(max(scores)) + 1


class PreciseBatchNorm(keras.callbacks.Callback):
    """Before each validation, set every batch-norm layer's running statistics to the
    average over a fixed sample of training images ("precise BN").

    The running averages lag the weights by tens of steps; on a small catalog a run
    can end before they settle, and the model then predicts at chance in inference
    mode although it fits its batches. Recomputing them costs one forward pass over
    the sample and changes nothing in training itself (it uses batch statistics).
    """

    def __init__(self, pixels: np.ndarray, seed: int, *, images: int = 512, batch: int = 64):
        super().__init__()
        rng = np.random.default_rng(seed)
        chosen = rng.permutation(len(pixels))[:images]
        self.batches = [
            pixels[np.sort(chosen[i : i + batch])] for i in range(0, len(chosen), batch)
        ]

        self.validated = False

    def on_test_begin(self, logs: Any = None) -> None:
        self.validated = True
        self.recalibrate()

    def on_train_end(self, logs: Any = None) -> None:
        if not self.validated:  # no validation set: settle the statistics once, at the end
            self.recalibrate()

    def recalibrate(self) -> None:
        norms = batch_norm_layers(self.model)
        if not norms or not self.batches:
            return
        saved = [layer.momentum for layer in norms]
        try:
            for index, batch in enumerate(self.batches):
                for layer in norms:
                    layer.momentum = index / (index + 1)  # a running mean over the batches
                self.model(batch.astype(np.float32), training=True)
        finally:
            for layer, momentum in zip(norms, saved, strict=True):
                layer.momentum = momentum


def batch_norm_layers(model: Any) -> list[Any]:
    """Every BatchNormalization layer in ``model``, nested models included."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found.extend(batch_norm_layers(layer))
    return found


class ProgressCallback(keras.callbacks.Callback):
    """Records per-epoch history and reports progress with an ETA from the mean batch
    time: every epoch's end, and the batches done within one when the reporter is due."""

    def __init__(
        self,
        epochs: int,
        reporter: RunReporter,
        timer: Timer,
        log: Callable[[str], None] | None,
        time_budget_s: float | None = None,
        *,
        batches: int = 1,
        batch_size: int = 1,
    ) -> None:
        super().__init__()
        self.time_budget_s = time_budget_s
        self.epochs = epochs
        self.reporter = reporter
        self.timer = timer
        self.log = log
        self.batches = max(1, batches)
        self.batch_size = batch_size
        self.history: list[dict[str, float]] = []
        self.started = 0.0
        self.epoch_started = 0.0
        self.steps_done = 0

    def on_train_begin(self, logs: Any = None) -> None:
        self.started = self.timer()
        self.epoch_started = self.started

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch_started = self.timer()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self.steps_done += 1
        if not self.reporter.due():
            return
        now = self.timer()
        values = logs or {}
        in_epoch = now - self.epoch_started
        self.reporter.send(
            RunProgress(
                epoch=len(self.history) + 1,
                epochs=self.epochs,
                loss=_number(values.get("loss")),
                accuracy=_number(values.get("accuracy")),
                eta_seconds=round(self._eta(now), 1),
                updated_at=self.reporter.clock(),
                phase=RunPhase.TRAINING,
                batch=batch + 1,
                batches=self.batches,
                images_per_second=round((batch + 1) * self.batch_size / in_epoch, 1)
                if in_epoch > 0
                else None,
            )
        )

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        values = {k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"}
        now = self.timer()
        seconds = now - self.epoch_started
        self.history.append({"epoch": epoch + 1, **values, "seconds": seconds})
        elapsed = now - self.started
        eta = elapsed / (epoch + 1) * (self.epochs - epoch - 1)
        if self.time_budget_s:
            eta = max(0.0, min(eta, self.time_budget_s - elapsed))
        self.reporter.send(
            RunProgress(
                epoch=epoch + 1,
                epochs=self.epochs,
                loss=values.get("loss"),
                accuracy=values.get("accuracy"),
                val_loss=values.get("val_loss"),
                val_accuracy=values.get("val_accuracy"),
                eta_seconds=round(eta, 1),
                updated_at=self.reporter.clock(),
                images_per_second=round(self.batches * self.batch_size / seconds, 1)
                if seconds > 0
                else None,
            )
        )
        if self.log is not None:
            shown = " ".join(f"{k}={v:.4f}" for k, v in values.items())
            self.log(f"epoch {epoch + 1}/{self.epochs} {shown} ({elapsed:.0f}s, eta {eta:.0f}s)")

    def _eta(self, now: float) -> float:
        """Seconds left at the mean time per batch so far (within the time budget)."""
        elapsed = now - self.started
        left = elapsed / self.steps_done * (self.epochs * self.batches - self.steps_done)
        if self.time_budget_s:
            left = min(left, self.time_budget_s - elapsed)
        return max(0.0, left)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
