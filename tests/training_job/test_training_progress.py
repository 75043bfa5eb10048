"""What a training run reports while it works: its phases in order, images decoded,
batches within an epoch (throttled), and only epoch ends in the run's history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catdog.domain import RunPhase, RunProgress, TrainingRun, Trigger
from tests.training_job.conftest import TINY_CONFIG
from tests.training_job.test_training_schedule import FakeTimer
from tests.training_job.training_images import write_class_folder
from training_job.artifact import DirectoryArtifactSink
from training_job.data import folder_examples
from training_job.job import run_training
from training_job.progress import RunReporter

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_reports_within_an_epoch_never_enter_the_history() -> None:
    run = TrainingRun.new("r", Trigger.MANUAL, NOW)
    within = RunProgress(epoch=1, epochs=3, loss=0.7, updated_at=NOW, batch=4, batches=10)
    run = run.with_progress(within)
    assert run.progress == within and run.history == []
    run = run.with_progress(RunProgress.phase_only(RunPhase.DECODING, NOW, done=5, total=9))
    assert run.history == []
    run = run.with_progress(RunProgress(epoch=1, epochs=3, loss=0.6, val_loss=0.65))
    assert [h["epoch"] for h in run.history] == [1]
    assert run.history[0]["loss"] == 0.6 and "batch" not in run.history[0]
    # A phase after training keeps the epoch count reached (the gate's deciding phase).
    deciding = RunProgress.phase_only(RunPhase.DECIDING, NOW, after=run.progress)
    assert (deciding.epoch, deciding.epochs, deciding.finishes_epoch) == (1, 3, False)


def test_progress_survives_its_json_form_with_its_phase() -> None:
    progress = RunProgress(
        epoch=2, epochs=5, updated_at=NOW, batch=3, batches=8, images_per_second=41.5
    )
    data = progress.to_dict()
    assert data["phase"] == "training" and data["phase_title"] == "Training"
    assert RunProgress.from_dict(data) == progress
    # A record written before phases existed reads as an epoch's end.
    old = {"epoch": 1, "epochs": 2, "loss": 0.5, "updated_at": None}
    assert RunProgress.from_dict(old).finishes_epoch


def test_frequent_reports_are_throttled_but_phases_and_the_last_image_are_not() -> None:
    sent: list[RunProgress] = []
    timer = FakeTimer()
    reporter = RunReporter(sent.append, clock=lambda: NOW, timer=timer, interval_s=2.0)
    reporter.phase(RunPhase.DECODING, done=0, total=40)
    for done in range(1, 40):
        timer.now += 0.25
        reporter.decoded(done, 40)
    reporter.decoded(40, 40)
    decoded = [p.done for p in sent]
    # 0 at the start, then one every 2 s (8 images of 0.25 s), then the last image.
    assert decoded == [0, 8, 16, 24, 32, 40]
    reporter.phase(RunPhase.SCORING, total=7)
    assert sent[-1].phase is RunPhase.SCORING and sent[-1].total == 7


@pytest.mark.slow
def test_a_run_reports_its_phases_batches_and_epochs_in_order(tmp_path: Path) -> None:
    examples = folder_examples(write_class_folder(tmp_path / "dataset", per_class=12))
    sent: list[RunProgress] = []
    run_training(
        examples,
        replace(TINY_CONFIG, batch_size=2),
        DirectoryArtifactSink(tmp_path / "model"),
        version="v1",
        report=sent.append,
        progress_interval_s=0.0,  # every batch
        weights=None,
    )
    phases = [p.phase for p in sent]
    first = {phase: phases.index(phase) for phase in set(phases)}
    assert first[RunPhase.DECODING] < first[RunPhase.TRAINING] < first[RunPhase.SCORING]
    assert phases[-1] is RunPhase.SCORING
    decoding = [p for p in sent if p.phase is RunPhase.DECODING]
    assert decoding[0].done == 0 and decoding[-1].done == decoding[-1].total
    within = [p for p in sent if p.batch is not None]
    batches = within[0].batches
    assert batches is not None and batches > 2
    epoch_one = [p.batch for p in within if p.epoch == 1]
    assert epoch_one == list(range(1, batches + 1))  # every batch, in order
    assert all(p.images_per_second and p.eta_seconds is not None for p in within)
    ends = [p.epoch for p in sent if p.finishes_epoch]
    assert ends == [1, 2]
