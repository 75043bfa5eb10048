"""The committed ASL is what the code builds, and has the shape the design promises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catdog.pipeline.names import LambdaFunction, StepName
from workflows.__main__ import main as export_main
from workflows.asl import fill_placeholders
from workflows.definition import definition_json

COMMITTED = Path(__file__).resolve().parents[2] / "workflows" / "retrain.asl.json"


@pytest.fixture(scope="module")
def fresh_export() -> str:
    """One build for the module: the SDK makes boto3 sessions per step, which is slow."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        return definition_json()


@pytest.fixture
def asl(fresh_export: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(fresh_export)
    return document


def test_committed_file_equals_a_fresh_export(fresh_export: str) -> None:
    assert COMMITTED.read_text() == fresh_export, (
        "workflows/retrain.asl.json is stale: run `python -m workflows export` and commit it"
    )


def test_export_command_writes_the_definition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # pinned by the command itself
    target = tmp_path / "retrain.asl.json"
    assert export_main(["export", "--output", str(target)]) == 0
    assert target.read_text() == COMMITTED.read_text()


def test_state_names_are_exactly_the_enum(asl: dict[str, Any]) -> None:
    assert set(asl["States"]) == {name.value for name in StepName}
    assert asl["StartAt"] == StepName.CHECK_MANAGER_MODE


def test_every_choice_has_a_default_and_every_task_a_timeout_retry_and_catch(
    asl: dict[str, Any],
) -> None:
    for name, state in asl["States"].items():
        if state["Type"] == "Choice":
            assert state["Default"] in asl["States"], name
        if state["Type"] == "Task":
            assert 0 < state["TimeoutSeconds"] <= 300, name
            retried = {error for retry in state["Retry"] for error in retry["ErrorEquals"]}
            assert {"ServiceUnavailable", "Lambda.ServiceException"} <= retried, name
            assert state["Catch"], name
            assert state["Parameters"]["FunctionName"].startswith("${"), name


def test_wait_length_comes_from_the_input(asl: dict[str, Any]) -> None:
    wait = asl["States"][StepName.WAIT_FOR_TRAINING]
    assert wait == {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "CheckArtifact"}


def test_errors_lead_to_mark_run_failed_then_stop_then_fail(asl: dict[str, Any]) -> None:
    states = asl["States"]
    for name in ("CheckArtifact", "ValidateModel", "PromoteModel", "StartTrainInstance"):
        catchers = {c["ErrorEquals"][0]: c["Next"] for c in states[name]["Catch"]}
        assert catchers["States.ALL"] == StepName.MARK_RUN_FAILED
    assert states["MarkRunFailed"]["Next"] == "StopTrainInstanceAfterFailure"
    assert states["StopTrainInstanceAfterFailure"]["Next"] == "PipelineFailed"
    assert states["PipelineFailed"] == {
        "Type": "Fail",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }
    lock = states["CreateTrainingRun"]["Catch"][0]
    assert lock == {"ErrorEquals": ["RunAlreadyActive"], "ResultPath": "$.lock", "Next": "LockHeld"}


def test_no_execution_start_time_in_any_output(asl: dict[str, Any]) -> None:
    """moto cannot serialise $$.Execution.StartTime in describe_execution."""
    assert "StartTime" not in json.dumps(asl)


def test_placeholders_are_the_lambda_functions() -> None:
    text = COMMITTED.read_text()
    arns = {
        f: f"arn:aws:lambda:us-east-1:123456789012:function:catdog-{f.function_suffix}"
        for f in LambdaFunction
    }
    filled = fill_placeholders(text, arns)
    assert "${" not in filled
    for function in LambdaFunction:
        assert "${" + function.placeholder + "}" in text
    with pytest.raises(ValueError, match="unfilled"):
        fill_placeholders(text, {})


def test_signal_retries_with_its_own_backoff_first(asl: dict[str, Any]) -> None:
    """ASL uses the first retrier that matches, so the signal's must come before the generic."""
    first = asl["States"][StepName.SIGNAL_INFERENCE_SERVER]["Retry"][0]
    assert first == {
        "ErrorEquals": ["ServiceUnavailable", "ServedVersionMismatch", "ModelNotLoaded"],
        "IntervalSeconds": 1,
        "MaxAttempts": 6,
        "BackoffRate": 2.0,
    }


def test_every_outcome_ends_in_its_own_terminal_state(asl: dict[str, Any]) -> None:
    """The console shows how an execution ended: one terminal state per outcome."""
    states = asl["States"]
    terminal = {name for name, state in states.items() if state["Type"] in ("Succeed", "Fail")}
    assert terminal == {
        "SkippedByMode",
        "SkippedByThreshold",
        "SkippedRunActive",
        "Promoted",
        "PromotedNotServed",
        "Rejected",
        "PipelineFailed",
    }
    assert states["ModeAllowsTraining"]["Default"] == "SkippedByMode"
    assert states["EnoughNewLabels"]["Default"] == "SkippedByThreshold"
    assert states["LockHeld"]["Next"] == "SkippedRunActive"
    assert states["StopTrainInstance"]["Next"] == "WhichOutcome"
    assert states["SignalInferenceServer"]["Catch"][0]["Next"] == "ServingFailed"
    assert states["ServingFailed"]["Next"] == "StopTrainInstance"
    assert states["WhichOutcome"]["Default"] == "Promoted"
