"""Failure semantics: a killed training process, two triggers at once, a restart mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from catdog.domain import Mode, RunStatus
from catdog.errors import NotFound
from catdog.pipeline.compute import ComputeStatus, LocalProcessCompute, TrainCompute
from catdog.settings import Settings
from catdog.storage.ports import Storage
from tests.pipeline.pipeline_support import (
    BASELINE,
    FakeInferenceServer,
    FakeTrainCompute,
    TrainingScript,
    install_champion,
    run,
    set_mode,
    wait_for_state,
)
from tests.polling import wait_until
from tests.storage_support import champion_version

SLEEPER = "import time; time.sleep(120)"


def sleeping_training(run_id: str) -> list[str]:
    """Stands in for ``python -m training_job``: a process that trains "forever"."""
    return [sys.executable, "-c", SLEEPER]


def test_training_process_killed_mid_run(
    start_pipeline, settings: Settings, storage: Storage, inference: FakeInferenceServer
) -> None:
    install_champion(storage)
    compute = LocalProcessCompute(settings, command=sleeping_training)
    pipeline = start_pipeline(compute)
    arn = pipeline.orchestrator.start_execution(
        {"trigger": "manual", "force": True, "wait_seconds": 1}, "killed"
    )
    wait_for_state(pipeline, "killed", "WaitForTraining")
    pid = int(compute.pid_file("killed").read_text().split('"pid": ')[1].split(",")[0])
    assert compute.status("killed").running
    os.kill(pid, signal.SIGKILL)

    detail = pipeline.orchestrator.wait(arn, timeout=60, poll=0.1)
    assert detail.summary.status == "FAILED"
    assert detail.error == "TrainingFailed"
    assert "stopped without an artifact" in (detail.cause or "")
    assert detail.state_names[-3:] == [
        "MarkRunFailed",
        "StopTrainInstanceAfterFailure",
        "PipelineFailed",
    ]
    run_record = storage.runs.get("killed")
    assert run_record.status is RunStatus.FAILED
    assert run_record.error is not None and run_record.error.startswith("TrainingFailed:")
    assert not compute.status("killed").running
    assert champion_version(storage.registry) == BASELINE
    assert inference.calls == [] and inference.served == BASELINE
    assert compute.log_file("killed").exists()


def test_two_triggers_at_once_make_exactly_one_run(
    start_pipeline, storage: Storage, compute: FakeTrainCompute
) -> None:
    install_champion(storage, accuracy=0.9)
    set_mode(storage, Mode.AUTO, threshold=1)
    release = threading.Event()
    compute.script = TrainingScript(accuracy=0.95, release=release)
    pipeline = start_pipeline()
    barrier = threading.Barrier(2)
    arns: dict[str, str] = {}

    def trigger(name: str, body: dict[str, object]) -> None:
        barrier.wait(timeout=10)
        arns[name] = pipeline.orchestrator.start_execution({"wait_seconds": 1, **body}, name)

    threads = [
        threading.Thread(
            target=trigger, args=("by-schedule", {"trigger": "schedule", "force": True})
        ),
        threading.Thread(target=trigger, args=("by-manager", {"trigger": "manual", "force": True})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Training is held until one execution has lost the lock and finished.
    wait_until(
        lambda: (
            not all(
                pipeline.orchestrator.describe_live(arn).summary.running for arn in arns.values()
            )
        ),
        what="one execution to finish while training was held",
    )
    release.set()
    details = {}
    for name, arn in arns.items():
        details[name] = pipeline.orchestrator.wait(arn, timeout=60, poll=0.1)

    outcomes = sorted(d.output["outcome"] for d in details.values())
    assert outcomes == ["promoted", "skipped"]
    loser = next(d for d in details.values() if d.output["outcome"] == "skipped")
    winner = next(d for d in details.values() if d.output["outcome"] == "promoted")
    assert loser.summary.status == "SUCCEEDED"
    assert loser.state_names[-3:] == ["CreateTrainingRun", "LockHeld", "SkippedRunActive"]
    assert loser.output["lock"]["Error"] == "RunAlreadyActive"
    runs = storage.runs.list().items
    assert [r.run_id for r in runs] == [winner.summary.name]
    assert compute.started == [winner.summary.name]
    assert champion_version(storage.registry) == winner.summary.name


@pytest.fixture
def crashed_up(settings: Settings, storage: Storage) -> str:
    """A ``catdog up`` (its pipeline part) killed with SIGKILL while a run trains."""
    env = {**os.environ, **settings.to_env()}
    env.pop("MOTO_PORT", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.pipeline.crashing_up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[2],
    )
    timer = threading.Timer(90, child.kill)  # bound the wait for READY
    timer.start()
    try:
        assert child.stdout is not None
        lines = iter(child.stdout.readline, b"")  # ends when the timer kills it
        assert any(line.strip() == b"READY" for line in lines)
    finally:
        timer.cancel()
        child.kill()
        child.wait(timeout=30)
    return "before-restart"  # crashing_up.RUN


def test_run_orphaned_by_a_restart_is_failed_by_the_next_execution(
    crashed_up: str,
    start_pipeline,
    settings: Settings,
    storage: Storage,
    compute: FakeTrainCompute,
) -> None:
    install_champion(storage)
    orphan = storage.runs.get(crashed_up)
    assert orphan.status.is_active
    leftover = LocalProcessCompute(settings)  # the new catdog up: a parent that did not start it
    assert leftover.status(crashed_up).running  # its training outlived the crash

    pipeline = start_pipeline(leftover_compute := FakeOrphanAwareCompute(compute, leftover))
    # The next execution, even one the manual mode skips, fails the orphan.
    set_mode(storage, Mode.MANUAL)
    skipped = run(pipeline, "after-restart-1", trigger="schedule")
    assert skipped.state_names == ["CheckManagerMode", "ModeAllowsTraining", "SkippedByMode"]
    assert skipped.output["orphans_failed"] == [crashed_up]
    failed = storage.runs.get(crashed_up)
    assert failed.status is RunStatus.FAILED
    assert failed.error is not None and failed.error.startswith("orphaned")
    assert not leftover.status(crashed_up).running
    assert leftover_compute.stopped == [crashed_up]
    with pytest.raises(NotFound):
        storage.registry.get(crashed_up)  # its training never produced a model
    assert champion_version(storage.registry) == BASELINE

    # And the lock is free again.
    detail = run(pipeline, "after-restart-2", trigger="manual", force=True)
    assert detail.summary.status == "SUCCEEDED", detail.cause
    assert detail.output["orphans_failed"] == []
    assert detail.output["outcome"] == "promoted"
    assert champion_version(storage.registry) == "after-restart-2"


class FakeOrphanAwareCompute(TrainCompute):
    """New runs train in the fake; runs of the crashed process are the real leftover's."""

    def __init__(self, fake: FakeTrainCompute, leftover: LocalProcessCompute) -> None:
        self._fake = fake
        self._leftover = leftover
        self.stopped: list[str] = []

    def start(self, run_id: str) -> ComputeStatus:
        return self._fake.start(run_id)

    def status(self, run_id: str) -> ComputeStatus:
        if self._leftover.pid_file(run_id).exists():
            return self._leftover.status(run_id)
        return self._fake.status(run_id)

    def stop(self, run_id: str) -> None:
        self.stopped.append(run_id)
        if self._leftover.pid_file(run_id).exists():
            self._leftover.stop(run_id)
        else:
            self._fake.stop(run_id)
