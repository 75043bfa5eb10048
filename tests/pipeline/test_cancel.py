"""Cancelling a run on the embedded interpreter: StopExecution during the wait loop and
during validation stops the execution, the training, frees the lock, keeps the champion."""

from __future__ import annotations

import threading
from typing import Any

from catdog.domain import ModelStatus, RunStatus, Trigger
from catdog.pipeline.cancel import cancel_run
from catdog.pipeline.history import ExecutionQuery
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.outcome import Outcome, outcome_of
from catdog.storage.ports import Storage
from hosts.embedded import lambda_seam as seam
from hosts.embedded.step_functions import LocalPipeline
from tests.pipeline.pipeline_support import (
    BASELINE,
    FakeTrainCompute,
    TrainingScript,
    install_champion,
    run,
    wait_for_state,
)
from tests.storage_support import champion_version


def cancel(
    pipeline: LocalPipeline, storage: Storage, compute: FakeTrainCompute, run_id: str
) -> Any:
    deps = pipeline.deps
    assert deps is not None, "the pipeline has not been started"
    return cancel_run(
        run_id,
        "alice",
        runs=storage.runs,
        registry=storage.registry,
        executions=pipeline.orchestrator,
        compute=compute,
        clock=deps.clock,
    )


def test_cancel_during_the_wait_loop(
    start_pipeline, storage: Storage, compute: FakeTrainCompute
) -> None:
    install_champion(storage)
    release = threading.Event()
    compute.script = TrainingScript(release=release)  # training holds until released
    pipeline = start_pipeline()
    arn = pipeline.orchestrator.start_execution(
        {"trigger": "manual", "force": True, "wait_seconds": 1}, "cancel-wait"
    )
    wait_for_state(pipeline, "cancel-wait", "WaitForTraining")
    cancelled = cancel(pipeline, storage, compute, "cancel-wait")
    release.set()

    detail = pipeline.orchestrator.wait(arn, timeout=30, poll=0.1)
    assert detail.summary.status == "ABORTED"
    assert outcome_of(detail.summary.status, detail.output, detail.state_names) is Outcome.CANCELLED
    assert "ValidateModel" not in detail.state_names
    assert cancelled.status is RunStatus.CANCELLED and cancelled.error == "cancelled by alice"
    assert storage.runs.get("cancel-wait").status is RunStatus.CANCELLED
    assert storage.runs.active() is None
    assert compute.stopped == ["cancel-wait"]
    assert champion_version(storage.registry) == BASELINE
    # Archived as cancelled, and the lock is free for the next run.
    pipeline.archive_finished()
    rows = pipeline.orchestrator.list_page(ExecutionQuery.parse("cancelled")).rows
    assert [row.execution.name for row in rows] == ["cancel-wait"]
    assert storage.runs.create("after", Trigger.MANUAL, cancelled.updated_at).status.is_active


def test_cancel_during_validation(
    start_pipeline, storage: Storage, compute: FakeTrainCompute
) -> None:
    install_champion(storage, accuracy=0.5)  # a new model would win, if validation went on
    pipeline = start_pipeline()
    validate = pipeline.function_name(LambdaFunction.VALIDATE_MODEL)
    original = seam._routes[validate]
    entered, release = threading.Event(), threading.Event()

    def slow_validation(event: dict[str, Any]) -> dict[str, Any]:
        entered.set()
        release.wait(timeout=30)
        return original(event)

    seam.register(validate, slow_validation)
    arn = pipeline.orchestrator.start_execution(
        {"trigger": "manual", "force": True, "wait_seconds": 1}, "cancel-validate"
    )
    assert entered.wait(timeout=30), "validation never started"
    assert storage.runs.get("cancel-validate").status.is_active
    cancel(pipeline, storage, compute, "cancel-validate")
    release.set()

    detail = pipeline.orchestrator.wait(arn, timeout=30, poll=0.1)
    assert detail.summary.status == "ABORTED"
    assert detail.state_names[-1] == "ValidateModel"  # nothing ran after it: no promotion
    assert storage.runs.get("cancel-validate").status is RunStatus.CANCELLED
    assert storage.runs.active() is None
    assert champion_version(storage.registry) == BASELINE
    # A model the stopped validation registered is rejected by the next execution.
    run(pipeline, "next-tick", trigger="schedule")
    models = {m.version: m.status for m in storage.registry.list()}
    assert models.get("cancel-validate", ModelStatus.REJECTED) is ModelStatus.REJECTED
