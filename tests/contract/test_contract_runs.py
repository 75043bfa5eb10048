"""TrainingRuns contract: one active run, idempotent create, compare-and-set transitions."""

from __future__ import annotations

import pytest

from catdog.domain import (
    ACTIVE_RUN_STATUSES,
    RetrainMode,
    RunPhase,
    RunProgress,
    RunStatus,
    TrainingRun,
    Trigger,
)
from catdog.errors import InvalidInput, NotFound, RunAlreadyActive, RunStateConflict
from catdog.storage.ports import Storage

from .support import at

PENDING = frozenset({RunStatus.PENDING})
TRAINING = frozenset({RunStatus.TRAINING})
EVALUATING = frozenset({RunStatus.EVALUATING})


def _finish(storage: Storage, run_id: str, when: float) -> TrainingRun:
    return storage.runs.transition(
        run_id, RunStatus.FAILED, at(when), allowed_from=ACTIVE_RUN_STATUSES, error="stopped"
    )


def test_create_returns_a_pending_run(storage: Storage) -> None:
    run = storage.runs.create("run-1", Trigger.SCHEDULE, at(1), execution_id="exec-1")

    assert run == TrainingRun(
        run_id="run-1",
        trigger=Trigger.SCHEDULE,
        status=RunStatus.PENDING,
        created_at=at(1),
        updated_at=at(1),
        execution_id="exec-1",
    )
    assert storage.runs.get("run-1") == run
    assert storage.runs.active() == run


def test_a_run_keeps_how_it_trains(storage: Storage) -> None:
    default = storage.runs.create("r1", Trigger.SCHEDULE, at(0))
    assert default.retrain_mode is RetrainMode.INCREMENTAL
    storage.runs.transition(
        "r1", RunStatus.FAILED, at(1), allowed_from=frozenset({RunStatus.PENDING}), error="x"
    )
    full = storage.runs.create("r2", Trigger.MANUAL, at(2), "arn:r2", RetrainMode.FULL)
    assert full.retrain_mode is RetrainMode.FULL
    assert storage.runs.get("r2").retrain_mode is RetrainMode.FULL
    assert storage.runs.get("r1").retrain_mode is RetrainMode.INCREMENTAL


def test_create_again_returns_the_existing_run_unchanged(storage: Storage) -> None:
    first = storage.runs.create("run-1", Trigger.SCHEDULE, at(1))

    again = storage.runs.create("run-1", Trigger.MANUAL, at(2), execution_id="other")

    assert again == first
    assert storage.runs.get("run-1") == first


def test_create_again_after_finishing_returns_the_finished_run(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.MANUAL, at(1))
    finished = _finish(storage, "run-1", 2)
    storage.runs.create("run-2", Trigger.MANUAL, at(3))

    assert storage.runs.create("run-1", Trigger.MANUAL, at(4)) == finished
    active = storage.runs.active()
    assert active is not None and active.run_id == "run-2"


def test_second_run_while_one_is_active_is_refused(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))

    with pytest.raises(RunAlreadyActive):
        storage.runs.create("run-2", Trigger.MANUAL, at(2))

    with pytest.raises(NotFound):
        storage.runs.get("run-2")
    active = storage.runs.active()
    assert active is not None and active.run_id == "run-1"


def test_no_active_run_at_first(storage: Storage) -> None:
    assert storage.runs.active() is None
    with pytest.raises(NotFound):
        storage.runs.get("nope")


def test_transitions_through_the_happy_path(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))

    training = storage.runs.transition("run-1", RunStatus.TRAINING, at(2), allowed_from=PENDING)
    evaluating = storage.runs.transition(
        "run-1", RunStatus.EVALUATING, at(3), allowed_from=TRAINING, model_version="v1"
    )
    done = storage.runs.transition(
        "run-1",
        RunStatus.PROMOTED,
        at(4),
        allowed_from=EVALUATING,
        metrics={"accuracy": 0.9375, "loss": 0.25, "confusion": [[3, 1], [0, 4]]},
    )

    assert training.status == RunStatus.TRAINING and training.updated_at == at(2)
    assert training.finished_at is None
    assert evaluating.model_version == "v1"
    assert done.status == RunStatus.PROMOTED
    assert done.model_version == "v1"
    assert done.metrics == {"accuracy": 0.9375, "loss": 0.25, "confusion": [[3, 1], [0, 4]]}
    assert (done.updated_at, done.finished_at, done.created_at) == (at(4), at(4), at(1))
    assert storage.runs.get("run-1") == done


def test_transition_to_the_current_status_is_a_no_op(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))
    training = storage.runs.transition("run-1", RunStatus.TRAINING, at(2), allowed_from=PENDING)

    again = storage.runs.transition(
        "run-1", RunStatus.TRAINING, at(9), allowed_from=PENDING, error="ignored"
    )

    assert again == training
    assert storage.runs.get("run-1") == training


def test_transition_from_a_status_not_allowed_conflicts(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))

    with pytest.raises(RunStateConflict):
        storage.runs.transition("run-1", RunStatus.PROMOTED, at(2), allowed_from=EVALUATING)

    assert storage.runs.get("run-1").status == RunStatus.PENDING
    with pytest.raises(NotFound):
        storage.runs.transition("nope", RunStatus.TRAINING, at(2), allowed_from=PENDING)


def test_failing_records_the_error_and_releases_the_lock(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))
    storage.runs.transition("run-1", RunStatus.TRAINING, at(2), allowed_from=PENDING)

    failed = _finish(storage, "run-1", 5)

    assert failed.status == RunStatus.FAILED
    assert failed.error == "stopped"
    assert failed.finished_at == at(5)
    assert storage.runs.active() is None
    second = storage.runs.create("run-2", Trigger.MANUAL, at(6))
    assert storage.runs.active() == second


def test_rejected_run_releases_the_lock(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))
    storage.runs.transition("run-1", RunStatus.EVALUATING, at(2), allowed_from=PENDING)
    storage.runs.transition("run-1", RunStatus.REJECTED, at(3), allowed_from=EVALUATING)

    assert storage.runs.active() is None
    assert storage.runs.create("run-2", Trigger.SCHEDULE, at(4)).status == RunStatus.PENDING


def test_reactivating_a_finished_run_respects_the_lock(
    storage: Storage, backend: str, request: pytest.FixtureRequest
) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))
    _finish(storage, "run-1", 2)
    storage.runs.create("run-2", Trigger.SCHEDULE, at(3))
    finished = frozenset({RunStatus.FAILED})

    with pytest.raises(RunAlreadyActive):
        storage.runs.transition("run-1", RunStatus.PENDING, at(4), allowed_from=finished)

    assert storage.runs.get("run-1").status == RunStatus.FAILED
    _finish(storage, "run-2", 5)
    again = storage.runs.transition("run-1", RunStatus.PENDING, at(6), allowed_from=finished)
    assert again.status == RunStatus.PENDING
    assert storage.runs.active() == again


def test_record_progress_keeps_latest_and_per_epoch_history(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))
    storage.runs.transition("run-1", RunStatus.TRAINING, at(2), allowed_from=PENDING)
    one = RunProgress(epoch=1, epochs=3, loss=0.75, accuracy=0.5, updated_at=at(10))
    two = RunProgress(
        epoch=2,
        epochs=3,
        loss=0.5,
        accuracy=0.625,
        val_loss=0.6,
        val_accuracy=0.6,
        eta_seconds=12.5,
        updated_at=at(20),
    )

    storage.runs.record_progress("run-1", one)
    storage.runs.record_progress("run-1", two)

    run = storage.runs.get("run-1")
    assert run.progress == two
    assert run.updated_at == at(20)
    assert run.status == RunStatus.TRAINING
    assert run.history == [
        {
            "epoch": 1,
            "epochs": 3,
            "loss": 0.75,
            "accuracy": 0.5,
            "val_loss": None,
            "val_accuracy": None,
            "eta_seconds": None,
        },
        {
            "epoch": 2,
            "epochs": 3,
            "loss": 0.5,
            "accuracy": 0.625,
            "val_loss": 0.6,
            "val_accuracy": 0.6,
            "eta_seconds": 12.5,
        },
    ]


def test_record_progress_for_a_repeated_epoch_replaces_it(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))
    storage.runs.record_progress("run-1", RunProgress(epoch=1, epochs=2, loss=0.9))
    storage.runs.record_progress("run-1", RunProgress(epoch=1, epochs=2, loss=0.8))

    run = storage.runs.get("run-1")
    assert [(h["epoch"], h["loss"]) for h in run.history] == [(1, 0.8)]
    assert run.updated_at == at(1)  # progress without a time keeps the run's time


def test_phases_and_batches_are_the_latest_progress_but_never_history(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))
    starting = RunProgress.phase_only(RunPhase.STARTING_INSTANCE, at(2))
    storage.runs.record_progress("run-1", starting)
    assert storage.runs.get("run-1").progress == starting
    decoding = RunProgress.phase_only(RunPhase.DECODING, at(3), done=7, total=20)
    storage.runs.record_progress("run-1", decoding)
    assert storage.runs.get("run-1").progress == decoding
    storage.runs.record_progress("run-1", RunProgress(epoch=1, epochs=2, loss=0.7))
    within = RunProgress(
        epoch=2,
        epochs=2,
        loss=0.6,
        accuracy=0.7,
        eta_seconds=4.0,
        updated_at=at(5),
        batch=3,
        batches=9,
        images_per_second=31.5,
    )
    storage.runs.record_progress("run-1", within)

    run = storage.runs.get("run-1")
    assert run.progress == within
    assert run.progress.phase is RunPhase.TRAINING
    assert [h["epoch"] for h in run.history] == [1]  # the batch report added nothing
    assert run.updated_at == at(5)


def test_record_progress_for_unknown_run(storage: Storage) -> None:
    with pytest.raises(NotFound):
        storage.runs.record_progress("nope", RunProgress(epoch=1, epochs=1))


def test_record_serving_replaces_the_per_instance_record(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))
    first = [{"instance": "i-1", "served_version": None, "error": "down", "refused": False}]
    storage.runs.record_serving("run-1", first)
    both = [
        {"instance": "i-1", "served_version": "run-1", "error": None, "refused": False},
        {"instance": "i-2", "served_version": "run-1", "error": None, "refused": False},
    ]
    storage.runs.record_serving("run-1", both)

    run = storage.runs.get("run-1")
    assert run.serving == both
    assert run.status is RunStatus.PENDING  # the record changes nothing else
    with pytest.raises(NotFound):
        storage.runs.record_serving("nope", both)


def test_list_newest_first_with_pages(storage: Storage) -> None:
    ids = [f"run-{i}" for i in range(7)]
    for i, run_id in enumerate(ids):
        # run-3 and run-4 share a creation time: the id breaks the tie.
        storage.runs.create(run_id, Trigger.SCHEDULE, at(i if i != 4 else 3))
        _finish(storage, run_id, i + 0.5)

    first = storage.runs.list(limit=3)
    second = storage.runs.list(cursor=first.next_cursor, limit=3)
    third = storage.runs.list(cursor=second.next_cursor, limit=3)

    listed = [r.run_id for page in (first, second, third) for r in page.items]
    assert listed == ["run-6", "run-5", "run-4", "run-3", "run-2", "run-1", "run-0"]
    assert third.next_cursor is None
    assert all(r.status == RunStatus.FAILED for r in first.items)


def test_list_rejects_bad_cursor(storage: Storage) -> None:
    storage.runs.create("run-1", Trigger.SCHEDULE, at(1))
    with pytest.raises(InvalidInput):
        storage.runs.list(cursor="garbage!")
