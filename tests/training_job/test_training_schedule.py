"""The learning-rate schedule and the time budget."""

from __future__ import annotations

import pytest

from catdog.settings import Settings
from training_job.schedule import ScheduleCallback, learning_rate_at
from training_job.train import TrainingConfig


def test_warm_up_then_cosine_down_to_the_floor() -> None:
    def rate(p: float) -> float:
        return learning_rate_at(p, 1.0, warmup_fraction=0.1, min_fraction=0.02)

    assert rate(0.0) == pytest.approx(0.02)
    assert rate(0.05) == pytest.approx(0.51)
    assert rate(0.1) == pytest.approx(1.0)
    assert rate(0.55) == pytest.approx(0.51)
    assert rate(1.0) == pytest.approx(0.02)
    assert rate(2.0) == pytest.approx(0.02)
    assert learning_rate_at(0.0, 0.5, warmup_fraction=0.0, min_fraction=0.1) == pytest.approx(0.5)


class FakeTimer:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_follows_the_time_budget_when_it_is_ahead_of_the_steps() -> None:
    timer = FakeTimer()
    schedule = ScheduleCallback(
        peak=1.0,
        total_steps=100,
        warmup_fraction=0.0,
        min_fraction=0.0,
        timer=timer,
        time_budget_s=50,
    )
    schedule.on_train_begin()
    schedule.step = 10
    assert schedule.progress() == pytest.approx(0.1)
    timer.now += 25
    assert schedule.progress() == pytest.approx(0.5)
    timer.now += 100
    assert schedule.progress() == 1.0


def test_a_full_retrain_follows_the_shipped_baseline_recipe_by_default() -> None:
    config = TrainingConfig.from_settings(Settings())
    # 80 epochs at most in 100 minutes: 44 epochs on 2 cores, as models/baseline was trained.
    assert (config.epochs, config.time_budget_s) == (80, 6000.0)
    assert (config.arch, config.input_size, config.batch_size) == ("medium_cnn", 128, 32)


def test_the_time_budget_is_a_setting_and_zero_means_none() -> None:
    quick = Settings.from_env({"CATDOG_TRAINING_TIME_BUDGET_MINUTES": "2.5"})
    assert TrainingConfig.from_settings(quick).time_budget_s == 150.0
    unlimited = Settings.from_env({"CATDOG_TRAINING_TIME_BUDGET_MINUTES": "0"})
    assert TrainingConfig.from_settings(unlimited).time_budget_s is None
    # The CLI's --time-budget-minutes wins over the setting.
    assert TrainingConfig.from_settings(quick, time_budget_s=60.0).time_budget_s == 60.0
