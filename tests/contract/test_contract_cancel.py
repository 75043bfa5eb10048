"""Cancelling a run on both backends (SQLite, DynamoDB on moto): the run is cancelled and
audited, the lock is free at once, the champion stays, its model can never be promoted;
on AWS the execution is stopped with StopExecution (here on moto's Step Functions mock)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from catdog.domain import ModelStatus, ModelVersion, RunStatus, Trigger
from catdog.errors import NotFound, RunStateConflict
from catdog.pipeline.cancel import cancel_run
from catdog.pipeline.compute import ComputeState, ComputeStatus, TrainCompute
from catdog.pipeline.orchestrator import Orchestrator
from catdog.storage.ports import Storage
from tests.storage_support import champion_version

from .support import at


class StoppableCompute(TrainCompute):
    def __init__(self) -> None:
        self.stopped: list[str] = []

    def start(self, run_id: str) -> ComputeStatus:
        return ComputeStatus(ComputeState.RUNNING)

    def status(self, run_id: str) -> ComputeStatus:
        state = ComputeState.STOPPED if run_id in self.stopped else ComputeState.RUNNING
        return ComputeStatus(state)

    def stop(self, run_id: str) -> None:
        self.stopped.append(run_id)


def champion(storage: Storage) -> None:
    storage.registry.register(
        ModelVersion("v1", "v1/", ModelStatus.CANDIDATE, at(0), {"accuracy": 0.9})
    )
    storage.registry.promote("v1", None, "test", "first", at(1))


def test_cancel_frees_the_lock_keeps_the_champion_and_is_audited(storage: Storage) -> None:
    champion(storage)
    storage.runs.create("run-1", Trigger.MANUAL, at(10), "arn:exec:run-1")
    storage.runs.transition(
        "run-1", RunStatus.EVALUATING, at(11), allowed_from=frozenset({RunStatus.PENDING})
    )
    storage.registry.register(
        ModelVersion("run-1", "run-1/", ModelStatus.CANDIDATE, at(12), run_id="run-1")
    )
    compute = StoppableCompute()
    cancelled = cancel_run(
        "run-1",
        "alice",
        runs=storage.runs,
        registry=storage.registry,
        executions=None,
        compute=compute,
        clock=lambda: at(20),
    )
    assert (cancelled.status, cancelled.error, cancelled.finished_at) == (
        RunStatus.CANCELLED,
        "cancelled by alice",
        at(20),
    )
    stored = storage.runs.get("run-1")
    assert (stored.status, stored.error, stored.finished_at) == cancelled_fields(cancelled)
    assert storage.runs.active() is None
    assert compute.stopped == ["run-1"]
    assert storage.registry.get("run-1").status is ModelStatus.REJECTED
    assert champion_version(storage.registry) == "v1"
    with pytest.raises(RunStateConflict):  # a finished run does not stop twice
        cancel_run(
            "run-1",
            "bob",
            runs=storage.runs,
            registry=storage.registry,
            executions=None,
            compute=compute,
            clock=lambda: at(30),
        )
    with pytest.raises(NotFound):
        cancel_run(
            "nope",
            "bob",
            runs=storage.runs,
            registry=storage.registry,
            executions=None,
            compute=compute,
            clock=lambda: at(30),
        )
    # The lock is free: the next run may start.
    assert storage.runs.create("run-2", Trigger.MANUAL, at(40)).status is RunStatus.PENDING


def cancelled_fields(run: Any) -> tuple[Any, ...]:
    return (run.status, run.error, run.finished_at)


def test_cancel_stops_the_execution_with_step_functions(
    storage: Storage, backend: str, aws_session: boto3.session.Session
) -> None:
    if backend != "aws":
        pytest.skip("StopExecution on the embedded interpreter: tests/pipeline/test_cancel.py")
    sfn = aws_session.client("stepfunctions", region_name="eu-west-1")
    machine = sfn.create_state_machine(
        name="catdog-retrain",
        definition=json.dumps(
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
        ),
        roleArn="arn:aws:iam::123456789012:role/catdog-states",
    )["stateMachineArn"]
    orchestrator = Orchestrator(sfn, machine)
    arn = orchestrator.start_execution({"trigger": "manual", "force": True}, "manual-run-3")
    storage.runs.create("manual-run-3", Trigger.MANUAL, at(50), arn)
    cancel_run(
        "manual-run-3",
        "carol",
        runs=storage.runs,
        registry=storage.registry,
        executions=orchestrator,
        compute=None,
        clock=lambda: at(60),
    )
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "ABORTED"
    assert storage.runs.get("manual-run-3").status is RunStatus.CANCELLED
    assert storage.runs.active() is None
    orchestrator.stop_execution(arn, "again")  # stopping a stopped execution is a no-op
