"""The committed ASL on moto's interpreter, one test per path through it.

Each test asserts the states entered, in order, and the final output, and
what the path must (or must not) have changed in storage.
"""

from __future__ import annotations

from catdog.domain import Mode, ModelStatus, RunStatus
from catdog.fleet.local import StaticFleet
from catdog.fleet.ports import FleetMember
from catdog.storage.ports import Storage
from tests.pipeline.pipeline_support import (
    BASELINE,
    FakeInferenceServer,
    FakeTrainCompute,
    TrainingScript,
    add_labels,
    install_champion,
    run,
    set_mode,
)
from tests.storage_support import champion_version

GATES = ["CheckManagerMode", "ModeAllowsTraining", "CheckLabelThreshold", "EnoughNewLabels"]
TRAINING = ["CreateTrainingRun", "StartTrainInstance", "WaitForTraining", "CheckArtifact"]


def training_loop(states: list[str]) -> list[str]:
    """The states with the Wait/CheckArtifact loop folded to one pass (its length is timing)."""
    folded: list[str] = []
    for state in states:
        if state in ("WaitForTraining", "CheckArtifact", "ArtifactReady") and state in folded:
            continue
        folded.append(state)
    return folded


def test_manual_mode_skips(start_pipeline, storage: Storage, compute: FakeTrainCompute) -> None:
    install_champion(storage)
    add_labels(storage, 50)
    set_mode(storage, Mode.MANUAL)
    detail = run(start_pipeline(), "skip-by-mode", trigger="schedule")
    assert detail.summary.status == "SUCCEEDED"
    assert detail.state_names == ["CheckManagerMode", "ModeAllowsTraining", "SkippedByMode"]
    assert detail.output["outcome"] == "skipped"
    assert detail.output["reason"] == "mode is manual"
    assert storage.runs.list().items == []
    assert compute.started == []


def test_too_few_new_labels_skips(start_pipeline, storage: Storage) -> None:
    install_champion(storage)
    add_labels(storage, 3)
    set_mode(storage, Mode.AUTO, threshold=5)
    detail = run(start_pipeline(), "skip-by-threshold", trigger="schedule")
    assert detail.summary.status == "SUCCEEDED"
    assert detail.state_names == [*GATES, "SkippedByThreshold"]
    assert detail.output["outcome"] == "skipped"
    details = detail.output["details"]
    assert (details["new_labels"], details["label_threshold"]) == (3, 5)
    assert storage.runs.list().items == []


def test_labels_before_the_champion_cutoff_do_not_count(start_pipeline, storage: Storage) -> None:
    add_labels(storage, 10)  # seen by the champion, whose cutoff is now
    install_champion(
        storage, cutoff=storage.catalog.get(next(storage.catalog.iter_labeled()).key).labeled_at
    )
    set_mode(storage, Mode.AUTO, threshold=5)
    detail = run(start_pipeline(), "cutoff", trigger="schedule")
    assert detail.output["outcome"] == "skipped"
    assert detail.output["details"]["new_labels"] < 5


def test_enough_labels_trains_validates_promotes_and_serves(
    start_pipeline, storage: Storage, compute: FakeTrainCompute, inference: FakeInferenceServer
) -> None:
    install_champion(storage, accuracy=0.90)
    add_labels(storage, 6)
    set_mode(storage, Mode.AUTO, threshold=5)
    compute.script = TrainingScript(accuracy=0.93)
    detail = run(start_pipeline(), "promote-1", trigger="schedule")
    assert detail.summary.status == "SUCCEEDED", detail.cause
    assert training_loop(detail.state_names) == [
        *GATES,
        *TRAINING,
        "ArtifactReady",
        "ValidateModel",
        "ModelAccepted",
        "PromoteModel",
        "SignalInferenceServer",
        "StopTrainInstance",
        "WhichOutcome",
        "Promoted",
    ]
    output = detail.output
    assert output["outcome"] == "promoted"
    assert output["run_id"] == "promote-1"
    assert output["accuracy"] == 0.93
    assert output["champion_version"] == BASELINE
    assert output["previous_champion"] == BASELINE
    assert output["served_version"] == "promote-1"
    champion = storage.registry.champion()
    assert champion is not None and champion.version == "promote-1"
    assert storage.registry.get(BASELINE).status is ModelStatus.RETIRED
    assert storage.runs.get("promote-1").status is RunStatus.PROMOTED
    assert storage.runs.active() is None
    assert inference.served == "promote-1"
    assert compute.started == ["promote-1"] and compute.stopped == ["promote-1"]


def test_forced_run_in_manual_mode_trains(start_pipeline, storage: Storage) -> None:
    install_champion(storage, accuracy=0.90)
    set_mode(storage, Mode.MANUAL)
    detail = run(start_pipeline(), "forced", trigger="manual", force=True)
    assert detail.output["outcome"] == "promoted"
    assert storage.runs.get("forced").trigger.value == "manual"


def test_weak_model_is_rejected_and_nothing_changes_for_users(
    start_pipeline, storage: Storage, compute: FakeTrainCompute, inference: FakeInferenceServer
) -> None:
    install_champion(storage, accuracy=0.90)
    add_labels(storage, 6)
    set_mode(storage, Mode.AUTO, threshold=5)
    compute.script = TrainingScript(accuracy=0.85)  # above the 0.80 minimum, below 0.90 - 0.01
    pipeline = start_pipeline()
    detail = run(pipeline, "reject-1", trigger="schedule")
    assert detail.summary.status == "SUCCEEDED"
    assert training_loop(detail.state_names) == [
        *GATES,
        *TRAINING,
        "ArtifactReady",
        "ValidateModel",
        "ModelAccepted",
        "StopTrainInstance",
        "WhichOutcome",
        "Rejected",
    ]
    assert detail.output["outcome"] == "rejected"
    assert detail.output["accepted"] is False
    assert "champion baseline 0.9000" in detail.output["reason"]
    assert storage.runs.get("reject-1").status is RunStatus.REJECTED
    assert storage.registry.get("reject-1").status is ModelStatus.REJECTED
    champion = storage.registry.champion()
    assert champion is not None and champion.version == BASELINE
    assert inference.calls == [] and inference.served == BASELINE
    assert compute.stopped == ["reject-1"]
    # The next tick does not retrain on the labels the rejected model was judged on.
    again = run(pipeline, "reject-1-next", trigger="schedule")
    assert again.state_names == [*GATES, "SkippedByThreshold"]
    assert again.output["details"]["new_labels"] == 0


def test_below_minimum_accuracy_is_rejected_without_a_champion(
    start_pipeline, storage: Storage, compute: FakeTrainCompute
) -> None:
    set_mode(storage, Mode.AUTO, threshold=5, min_accuracy=0.8)
    add_labels(storage, 6)
    compute.script = TrainingScript(accuracy=0.6)
    detail = run(start_pipeline(), "reject-2", trigger="schedule")
    assert detail.output["outcome"] == "rejected"
    assert detail.output["reason"] == "accuracy 0.6000 < minimum 0.8000"
    assert storage.registry.champion() is None


def test_training_job_failure_fails_the_execution(
    start_pipeline, storage: Storage, compute: FakeTrainCompute, inference: FakeInferenceServer
) -> None:
    install_champion(storage)
    compute.script = TrainingScript(error="out of memory")
    detail = run(start_pipeline(), "fail-1", trigger="manual", force=True)
    assert detail.summary.status == "FAILED"
    assert training_loop(detail.state_names) == [
        *GATES,
        *TRAINING,
        "MarkRunFailed",
        "StopTrainInstanceAfterFailure",
        "PipelineFailed",
    ]
    assert detail.error == "TrainingFailed"
    assert "out of memory" in (detail.cause or "")
    assert storage.runs.get("fail-1").status is RunStatus.FAILED
    assert champion_version(storage.registry) == BASELINE
    assert compute.stopped == ["fail-1"]
    assert inference.calls == []


def test_signal_is_retried_while_the_inference_server_is_down(
    start_pipeline, storage: Storage, inference: FakeInferenceServer
) -> None:
    install_champion(storage, accuracy=0.90)
    inference.down_for = 2  # refused twice, then up (retries wait 1 s, then 2 s)
    detail = run(start_pipeline(), "signal-1", trigger="manual", force=True)
    assert detail.summary.status == "SUCCEEDED"
    assert detail.output["outcome"] == "promoted"
    assert detail.output["served_version"] == "signal-1"
    assert "signal_error" not in detail.output
    assert detail.state_names.count("SignalInferenceServer") == 1  # retried within the state
    failures = [
        e for e in detail.events if e["type"] == "TaskFailed" and "ServiceUnavailable" in str(e)
    ]
    assert len(failures) == 2
    assert inference.calls == [
        "reload signal-1",
        "reload signal-1",
        "reload signal-1",
        "model_info",
    ]
    assert inference.served == "signal-1"


def test_every_instance_is_signalled_and_the_run_records_each(
    start_pipeline, storage: Storage
) -> None:
    """Two instances; the second is down for its first two signals: the step fails as
    ServedVersionMismatch (one instance serves it) and is retried until both do."""
    install_champion(storage, accuracy=0.90)
    up = FakeInferenceServer(storage, served=BASELINE)
    late = FakeInferenceServer(storage, served=BASELINE, down_for=2)
    fleet = StaticFleet([FleetMember("i-a", up), FleetMember("i-b", late)])
    detail = run(start_pipeline(fleet_=fleet), "fleet-1", trigger="manual", force=True)
    assert detail.output["outcome"] == "promoted"
    failures = [e for e in detail.events if e["type"] == "TaskFailed"]
    assert len(failures) == 2 and all("ServedVersionMismatch" in str(e) for e in failures)
    assert "i-a serves fleet-1; i-b connection refused" in str(failures[0])
    expected = [
        {"instance": "i-a", "served_version": "fleet-1", "error": None, "refused": False},
        {"instance": "i-b", "served_version": "fleet-1", "error": None, "refused": False},
    ]
    assert detail.output["instances"] == expected
    assert storage.runs.get("fleet-1").serving == expected
    assert (up.served, late.served) == ("fleet-1", "fleet-1")


def test_a_champion_the_server_refuses_is_rolled_back(
    start_pipeline, storage: Storage, inference: FakeInferenceServer
) -> None:
    install_champion(storage, accuracy=0.90)
    inference.served = BASELINE
    inference.refuse = {"refused-1"}
    detail = run(start_pipeline(), "refused-1", trigger="manual", force=True)
    assert detail.summary.status == "SUCCEEDED"
    assert detail.output["served_version"] == BASELINE
    assert detail.output["rolled_back_from"] == "refused-1"
    assert detail.state_names[-2:] == ["WhichOutcome", "PromotedNotServed"]
    champion = storage.registry.champion()
    assert champion is not None and champion.version == BASELINE
    newest = storage.registry.history()[0]
    assert (newest.from_version, newest.to_version) == ("refused-1", BASELINE)
    assert "automatic roll back" in newest.reason
    assert inference.served == BASELINE
