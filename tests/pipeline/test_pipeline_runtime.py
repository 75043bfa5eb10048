"""The embedded runtime: the moto seam, the scheduler, the archive of executions."""

from __future__ import annotations

import inspect
import json
import socket

import pytest
from moto.awslambda_simple.models import LambdaSimpleBackend

from catdog.domain import Mode
from catdog.errors import ConfigurationError, ServiceUnavailable
from catdog.pipeline.aws_clients import lambda_client, stepfunctions_client
from catdog.pipeline.history import ExecutionQuery
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.orchestrator import Orchestrator
from catdog.settings import Settings
from catdog.storage.ports import Storage
from hosts.embedded import lambda_seam as seam
from hosts.embedded.forget import forget_execution, held_executions
from tests.network import free_port
from tests.pipeline.pipeline_support import run, set_mode
from tests.polling import wait_until


def test_moto_still_has_the_lambda_seam() -> None:
    """If this fails, moto changed LambdaSimpleBackend.invoke: re-verify before upgrading."""
    seam.check_seam()
    original = getattr(seam, "_original", None) or LambdaSimpleBackend.invoke
    assert tuple(inspect.signature(original).parameters) == seam.EXPECTED_PARAMETERS


def test_a_changed_seam_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def invoke(self: object, function_name: str, qualifier: str | None, body: bytes) -> bytes:
        return b""

    monkeypatch.setattr(seam, "_original", invoke)
    with pytest.raises(ConfigurationError, match="changed"):
        seam.check_seam()


def test_handler_errors_come_back_as_lambda_function_errors(
    start_pipeline, settings: Settings
) -> None:
    pipeline = start_pipeline()
    client = lambda_client(settings)
    name = pipeline.function_name(LambdaFunction.CHECK_ARTIFACT)
    missing = client.invoke(
        FunctionName=name,
        Payload=json.dumps(
            {"state": {"run_id": "nope", "training_timeout_seconds": 5}, "execution": {"name": "x"}}
        ),
    )
    assert missing["FunctionError"] == "Unhandled"
    assert json.loads(missing["Payload"].read())["errorType"] == "NotFound"
    malformed = client.invoke(FunctionName=name, Payload=b"{}")
    payload = json.loads(malformed["Payload"].read())
    assert malformed["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "InvalidInput"


def test_scheduler_starts_named_schedule_executions(
    start_pipeline, settings: Settings, storage: Storage
) -> None:
    set_mode(storage, Mode.MANUAL)
    pipeline = start_pipeline(settings_=settings.with_changes(schedule_seconds=0.5), schedule=True)
    executions = wait_until(
        pipeline.orchestrator.list_executions,
        done=lambda started: len(started) >= 2,
        what="the scheduler to start 2 executions",
    )
    assert all(e.name.startswith("schedule-") for e in executions)
    assert len({e.name for e in executions}) == len(executions)
    first = pipeline.orchestrator.wait(executions[-1].execution_arn, timeout=30, poll=0.1)
    assert first.input == {"trigger": "schedule"}
    assert first.output["outcome"] == "skipped"


def test_finished_executions_survive_a_restart_in_the_archive(
    start_pipeline, settings: Settings, storage: Storage
) -> None:
    set_mode(storage, Mode.MANUAL)
    pipeline = start_pipeline()
    detail = run(pipeline, "kept", trigger="manual")
    arn = detail.summary.execution_arn
    assert pipeline.archive_finished() == 1
    assert pipeline.archive_finished() == 0
    pipeline.stop()

    # The moto server is gone: the orchestrator falls back to the archive.
    offline = settings.with_changes(stepfunctions_port=free_port())
    orchestrator = Orchestrator(
        stepfunctions_client(offline, timeout=2.0),
        state_machine_arn=arn.rsplit(":", 1)[0].replace(":execution:", ":stateMachine:"),
        archive=pipeline.archive,
    )
    listed = orchestrator.list_executions()
    assert [(e.name, e.status, e.archived) for e in listed] == [("kept", "SUCCEEDED", True)]
    archived = orchestrator.describe_execution("kept")
    assert archived.state_names == ["CheckManagerMode", "ModeAllowsTraining", "SkippedByMode"]
    assert archived.output == detail.output
    assert len(archived.events) == len(detail.events)
    with pytest.raises(ServiceUnavailable):  # not archived, and nobody to ask
        orchestrator.describe_execution("never-ran")


def test_a_busy_port_is_refused_instead_of_hanging(start_pipeline, settings: Settings) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.stepfunctions_port))
        squatter.listen()
        with pytest.raises(ConfigurationError, match="in use"):
            start_pipeline()


def test_archived_executions_leave_the_interpreter(start_pipeline, storage: Storage) -> None:
    """Memory stays flat: a finished execution is archived, then dropped from moto."""
    set_mode(storage, Mode.MANUAL)
    pipeline = start_pipeline()
    machine = pipeline.orchestrator.state_machine_arn
    names = [f"tick-{i}" for i in range(3)]
    for name in names:
        run(pipeline, name, trigger="schedule")
    assert held_executions(machine) == 3
    assert pipeline.archive_finished() == 3
    assert held_executions(machine) == 0
    assert pipeline.orchestrator.list_live() == []
    # Still listed (as one row of skipped checks) and described, from the archive.
    rows = pipeline.orchestrator.list_page(ExecutionQuery()).rows
    assert [(row.group, row.count, row.by_outcome) for row in rows] == [
        (True, 3, {"skipped_mode": 3})
    ]
    expanded = pipeline.orchestrator.list_page(ExecutionQuery(collapse=False)).rows
    assert [row.execution.name for row in expanded] == list(reversed(names))
    assert pipeline.orchestrator.describe_execution("tick-0").state_names[-1] == "SkippedByMode"
    assert not pipeline.orchestrator.is_running(pipeline.orchestrator.execution_arn("tick-0"))
    assert forget_execution(pipeline.orchestrator.execution_arn("tick-0")) is False  # gone
    # moto's list of interpreter threads (two per execution) lost the finished ones.
    from moto.stepfunctions.parser.utils import TMP_THREADS

    assert len(TMP_THREADS) < 2 * len(names)
