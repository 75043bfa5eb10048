"""The learning-rate schedule: linear warm-up, then cosine decay to a floor.

Progress is the fraction of planned steps done or, with a time budget, the
fraction of the budget spent, whichever is larger; so a run on a busy shared
CPU still anneals fully and stops in time instead of being cut off mid-decay.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras


def learning_rate_at(
    progress: float, peak: float, *, warmup_fraction: float, min_fraction: float
) -> float:
    """The rate at ``progress`` in [0, 1]: warm-up to ``peak``, then cosine down to
    ``peak * min_fraction``."""
    progress = min(max(progress, 0.0), 1.0)
    floor = peak * min_fraction
    if warmup_fraction > 0 and progress < warmup_fraction:
        return floor + (peak - floor) * progress / warmup_fraction
    span = max(1e-12, 1.0 - warmup_fraction)
    cosine = 0.5 * (1 + math.cos(math.pi * (progress - warmup_fraction) / span))
    return floor + (peak - floor) * cosine


class ScheduleCallback(keras.callbacks.Callback):
    """Sets the optimizer's rate before every batch; stops when the time budget would run out."""

    def __init__(
        self,
        *,
        peak: float,
        total_steps: int,
        warmup_fraction: float,
        min_fraction: float,
        timer: Callable[[], float],
        time_budget_s: float | None = None,
    ) -> None:
        super().__init__()
        self.peak = peak
        self.total_steps = max(1, total_steps)
        self.warmup_fraction = warmup_fraction
        self.min_fraction = min_fraction
        self.timer = timer
        self.time_budget_s = time_budget_s
        self.step = 0
        self.started = 0.0

    def progress(self) -> float:
        fraction = self.step / self.total_steps
        if self.time_budget_s:
            fraction = max(fraction, (self.timer() - self.started) / self.time_budget_s)
        return min(fraction, 1.0)

    def on_train_begin(self, logs: Any = None) -> None:
        self.started = self.timer()

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        rate = learning_rate_at(
            self.progress(),
            self.peak,
            warmup_fraction=self.warmup_fraction,
            min_fraction=self.min_fraction,
        )
        self.model.optimizer.learning_rate.assign(rate)
        self.step += 1

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if not self.time_budget_s:
            return
        elapsed = self.timer() - self.started
        # Stop if another epoch of the average length would overrun the budget.
        if elapsed + elapsed / (epoch + 1) > self.time_budget_s:
            self.model.stop_training = True
