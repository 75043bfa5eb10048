"""The thin handlers: parse, call the step, merge the result; retried calls do no harm."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from catdog.artifacts import write_artifact
from catdog.clock import utc_now
from catdog.domain import Mode, ModelStatus, ModelVersion, RunStatus, Trigger
from catdog.errors import EvidenceMismatch, InvalidInput, RunAlreadyActive, TrainingTimedOut
from catdog.pipeline.compute import ComputeState, ComputeStatus, TrainCompute
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from catdog.settings import Settings
from catdog.storage.ports import Storage
from lambdas import handlers
from lambdas.adapter import production_deps, production_settings
from tests.gate_metrics import paired_metrics
from tests.pipeline.pipeline_support import (
    BASELINE,
    FakeExecutions,
    FakeTrainCompute,
    add_labels,
    fake_pipeline_deps,
    install_champion,
    set_mode,
)
from tests.storage_support import champion_version

EVENTS = Path(__file__).with_name("events")


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


@pytest.fixture
def compute(storage: Storage, tmp_path: Path) -> FakeTrainCompute:
    model = tmp_path / "model.keras"
    model.write_bytes(b"stand-in")
    return FakeTrainCompute(storage, model)


@pytest.fixture
def executions() -> FakeExecutions:
    return FakeExecutions()


@pytest.fixture
def deps(
    settings: Settings, storage: Storage, compute: FakeTrainCompute, executions: FakeExecutions
) -> PipelineDeps:
    return fake_pipeline_deps(settings.with_changes(wait_seconds=7), storage, compute, executions)


def envelope(state: dict[str, Any], name: str = "manual-1") -> dict[str, Any]:
    return {"state": state, "execution": {"name": name, "id": f"arn:x:execution:sm:{name}"}}


def test_check_manager_mode_normalises_the_input_with_production_defaults(
    deps: PipelineDeps,
) -> None:
    result = handlers.check_manager_mode(event("schedule_start"), None, deps=deps)
    assert result == {
        "trigger": "schedule",
        "force": False,
        "retrain_mode": "incremental",
        "wait_seconds": 7,
        "training_timeout_seconds": 6 * 3600,
        "heartbeat_timeout_seconds": 3600,
        "execution_name": "schedule-20261125T160000000000Z-a1b2c3",
        "execution_id": event("schedule_start")["execution"]["id"],
        "proceed": False,
        "reason": "mode is manual",
        "outcome": "skipped",
        "details": {},
        "mode": "manual",
        "orphans_failed": [],
    }


def test_bad_input_is_an_invalid_input_error(deps: PipelineDeps) -> None:
    with pytest.raises(InvalidInput, match="wait_seconds"):
        handlers.check_manager_mode(envelope({"wait_seconds": 0}), None, deps=deps)
    with pytest.raises(InvalidInput):
        handlers.check_manager_mode({"state": {}}, None, deps=deps)


def test_threshold_counts_labels_since_the_champion(deps: PipelineDeps) -> None:
    install_champion(deps.storage)
    set_mode(deps.storage, Mode.AUTO, threshold=3)
    add_labels(deps.storage, 3)
    result = handlers.check_label_threshold(envelope({"force": False}), None, deps=deps)
    assert result["proceed"] is True
    assert (result["details"]["new_labels"], result["details"]["label_threshold"]) == (3, 3)

    # A model judged (and rejected) on those labels moves the cutoff: no retraining loop.
    deps.storage.registry.register(
        ModelVersion("weak", "weak/", ModelStatus.REJECTED, utc_now(), {}, data_cutoff=utc_now())
    )
    result = handlers.check_label_threshold(envelope({"force": False}), None, deps=deps)
    assert (result["proceed"], result["outcome"]) == (False, "skipped")
    assert result["details"]["new_labels"] == 0
    forced = handlers.check_label_threshold(envelope({"force": True}), None, deps=deps)
    assert forced["proceed"] is True


def test_a_retried_create_training_run_finds_its_own_run(
    deps: PipelineDeps, executions: FakeExecutions
) -> None:
    state = {"trigger": "manual"}
    first = handlers.create_training_run(envelope(state), None, deps=deps)
    again = handlers.create_training_run(envelope(state), None, deps=deps)
    assert first["run_id"] == again["run_id"] == "manual-1"
    assert [r.run_id for r in deps.storage.runs.list().items] == ["manual-1"]
    executions.running.add("arn:x:execution:sm:manual-1")
    with pytest.raises(RunAlreadyActive):
        handlers.create_training_run(envelope(state, "manual-2"), None, deps=deps)


def test_the_whole_promote_path_is_idempotent(
    deps: PipelineDeps, compute: FakeTrainCompute
) -> None:
    install_champion(deps.storage, accuracy=0.9)
    state = handlers.create_training_run(envelope({"trigger": "manual"}), None, deps=deps)
    for _ in range(2):
        state = handlers.start_train_instance(envelope(state), None, deps=deps)
    compute.wait_until_trained("manual-1")
    state = handlers.check_artifact(
        envelope({**state, "training_timeout_seconds": 60}), None, deps=deps
    )
    assert state["artifact"] == "ready"
    for _ in range(2):
        state = handlers.validate_model(envelope(state), None, deps=deps)
    assert state["accepted"] is True and state["champion_version"] == BASELINE
    for _ in range(2):
        state = handlers.promote_model(envelope(state), None, deps=deps)
    assert state["previous_champion"] == BASELINE
    for _ in range(2):
        state = handlers.signal_inference_server(envelope(state), None, deps=deps)
        state = handlers.stop_train_instance(envelope(state), None, deps=deps)
    assert state["served_version"] == "manual-1"
    assert champion_version(deps.storage.registry) == "manual-1"
    assert [c.to_version for c in deps.storage.registry.history()] == ["manual-1", BASELINE]
    assert deps.storage.runs.get("manual-1").status is RunStatus.PROMOTED
    assert compute.started == ["manual-1"]


def test_check_artifact_times_out_after_the_limit_from_the_input(deps: PipelineDeps) -> None:
    long_ago = utc_now() - timedelta(seconds=120)
    deps.storage.runs.create("manual-1", Trigger.MANUAL, long_ago, "arn:x")
    still_training = replace(deps, compute=NeverFinishes())
    state = {"run_id": "manual-1", "training_timeout_seconds": 60, "heartbeat_timeout_seconds": 600}
    with pytest.raises(TrainingTimedOut, match="over the limit of 60 s"):
        handlers.check_artifact(envelope(state), None, deps=still_training)


class NeverFinishes(TrainCompute):
    """A training that is still running whenever it is asked."""

    def start(self, run_id: str) -> ComputeStatus:
        return ComputeStatus(ComputeState.RUNNING)

    def status(self, run_id: str) -> ComputeStatus:
        return ComputeStatus(ComputeState.RUNNING)

    def stop(self, run_id: str) -> None:
        pass


def test_mark_run_failed_records_the_cause_and_is_idempotent(deps: PipelineDeps) -> None:
    deps.storage.runs.create("manual-1", Trigger.MANUAL, utc_now(), "arn:x")
    for _ in range(2):
        result = handlers.mark_run_failed(event("caught_error"), None, deps=deps)
    assert (result["failed_run"], result["run_status"]) == ("manual-1", "failed")
    run = deps.storage.runs.get("manual-1")
    assert run.error == (
        "TrainingFailed: training of manual-1 stopped without an artifact (pid 4242 exited with 1)"
    )
    assert result["error"]["Error"] == "TrainingFailed"  # kept for the Fail state


def test_mark_run_failed_without_a_run_changes_nothing(deps: PipelineDeps) -> None:
    result = handlers.mark_run_failed(event("caught_error"), None, deps=deps)
    assert (result["failed_run"], result["run_status"]) == (None, None)


def test_a_rejected_candidate_is_never_left_promotable(
    deps: PipelineDeps, compute: FakeTrainCompute
) -> None:
    install_champion(deps.storage, accuracy=0.99)
    state = handlers.create_training_run(envelope({"trigger": "manual"}), None, deps=deps)
    handlers.start_train_instance(envelope(state), None, deps=deps)
    compute.wait_until_trained("manual-1")
    for _ in range(2):
        result = handlers.validate_model(envelope(state), None, deps=deps)
    assert result["outcome"] == "rejected"
    assert deps.storage.registry.get("manual-1").status is ModelStatus.REJECTED
    assert deps.storage.runs.get("manual-1").status is RunStatus.REJECTED


def test_production_deps_are_built_once_from_the_environment(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    production_settings.cache_clear()
    production_deps.cache_clear()
    try:
        built = production_deps()
        assert production_deps() is built
        assert built.settings.data_dir == settings.data_dir
        assert type(built.compute).__name__ == "LocalProcessCompute"
    finally:
        production_settings.cache_clear()
        production_deps.cache_clear()


def test_every_state_machine_function_has_a_handler_named_as_it() -> None:
    for function in LambdaFunction:
        handler = handlers.handler_for(function)
        assert handler is getattr(handlers, function.value)
        assert handler.__name__ == function.value


def test_only_a_run_whose_execution_is_gone_counts_as_orphaned(
    deps: PipelineDeps, compute: FakeTrainCompute, executions: FakeExecutions
) -> None:
    deps.storage.runs.create("older", Trigger.SCHEDULE, utc_now(), "arn:x:execution:sm:older")
    executions.running.add("arn:x:execution:sm:older")
    result = handlers.check_manager_mode(event("schedule_start"), None, deps=deps)
    assert result["orphans_failed"] == []
    assert deps.storage.runs.get("older").status is RunStatus.PENDING

    executions.running.clear()
    result = handlers.check_manager_mode(event("schedule_start"), None, deps=deps)
    assert result["orphans_failed"] == ["older"]
    older = deps.storage.runs.get("older")
    assert older.status is RunStatus.FAILED
    assert older.error == "orphaned: execution arn:x:execution:sm:older is no longer running"
    assert compute.stopped == ["older"]


def write_candidate(deps: PipelineDeps, metrics: dict[str, Any], tmp_path: Path) -> None:
    deps.storage.runs.create("manual-1", Trigger.MANUAL, utc_now())
    model = tmp_path / "candidate.keras"
    model.write_bytes(b"stand-in")
    write_artifact(deps.storage.blobs, "manual-1", model, {**metrics, "canary": []}, {})


def test_validate_refuses_scores_from_different_manifests(
    deps: PipelineDeps, tmp_path: Path
) -> None:
    install_champion(deps.storage, accuracy=0.9)
    metrics = paired_metrics(0.95, champion_version=BASELINE, champion_accuracy=0.9)
    metrics["scores"]["champion"]["manifest_id"] = "sha256:another-evaluation-set"
    write_candidate(deps, metrics, tmp_path)
    with pytest.raises(EvidenceMismatch, match="different evaluation manifests"):
        handlers.validate_model(envelope({"run_id": "manual-1"}), None, deps=deps)
    assert champion_version(deps.storage.registry) == BASELINE
    assert deps.storage.runs.get("manual-1").status is RunStatus.PENDING


def test_validate_rejects_evidence_against_a_champion_that_has_since_changed(
    deps: PipelineDeps, tmp_path: Path
) -> None:
    install_champion(deps.storage, accuracy=0.9)
    metrics = paired_metrics(0.95, champion_version="an-older-champion", champion_accuracy=0.9)
    write_candidate(deps, metrics, tmp_path)
    result = handlers.validate_model(envelope({"run_id": "manual-1"}), None, deps=deps)
    assert result["accepted"] is False and result["rule"] == "minimum_evidence"
    assert "scored against champion an-older-champion" in result["reason"]
    assert deps.storage.runs.get("manual-1").status is RunStatus.REJECTED
    recorded = deps.storage.registry.get("manual-1").metrics["gate_decision"]
    assert recorded["accepted"] is False and recorded["evidence"]["n"] == 400
