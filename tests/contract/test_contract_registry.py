"""ModelRegistry contract: versions, compare-and-set promotion, champion history."""

from __future__ import annotations

import pytest

from catdog.domain import ChampionChange, ModelStatus, ModelVersion
from catdog.errors import ChampionChanged, Conflict, InvalidInput, NotFound
from catdog.storage.ports import Storage
from tests.storage_support import champion_version

from .support import at


def _model(version: str, created: float, accuracy: float = 0.9) -> ModelVersion:
    return ModelVersion(
        version=version,
        artifact=f"models/{version}/model.keras",
        status=ModelStatus.CANDIDATE,
        created_at=at(created),
        metrics={"accuracy": accuracy, "per_class": {"cat": 0.875, "dog": 0.9375}},
        data_cutoff=at(created - 1),
        run_id=f"run-{version}",
    )


def test_register_then_get(storage: Storage) -> None:
    model = _model("v1", 10)

    assert storage.registry.register(model) == model
    assert storage.registry.get("v1") == model


def test_register_again_returns_the_existing_version(storage: Storage) -> None:
    first = _model("v1", 10, accuracy=0.8)
    storage.registry.register(first)

    again = storage.registry.register(_model("v1", 20, accuracy=0.99))

    assert again == first
    assert storage.registry.get("v1") == first


def test_get_unknown_version(storage: Storage) -> None:
    with pytest.raises(NotFound):
        storage.registry.get("nope")


def test_list_newest_first(storage: Storage) -> None:
    for version, created in [("v1", 1), ("v3", 3), ("v2", 2), ("v2b", 2)]:
        storage.registry.register(_model(version, created))

    assert [m.version for m in storage.registry.list()] == ["v3", "v2b", "v2", "v1"]


def test_no_champion_at_first(storage: Storage) -> None:
    assert storage.registry.champion() is None
    assert storage.registry.history() == []
    assert storage.registry.list() == []


def test_first_promotion(storage: Storage) -> None:
    model = storage.registry.register(_model("v1", 1, accuracy=0.85))

    change = storage.registry.promote("v1", None, "pipeline", "first model", at(5))

    assert change == ChampionChange(None, "v1", "pipeline", "first model", at(5), model.metrics)
    champion = storage.registry.champion()
    assert champion is not None
    assert champion.version == "v1" and champion.status == ModelStatus.CHAMPION
    assert storage.registry.history() == [change]


def test_promotion_retires_the_old_champion_and_keeps_history(storage: Storage) -> None:
    storage.registry.register(_model("v1", 1, accuracy=0.85))
    v2 = storage.registry.register(_model("v2", 2, accuracy=0.9))
    first = storage.registry.promote("v1", None, "pipeline", "first model", at(5))

    second = storage.registry.promote("v2", "v1", "run-7", "accuracy 0.90 >= 0.85", at(6))

    assert second == ChampionChange("v1", "v2", "run-7", "accuracy 0.90 >= 0.85", at(6), v2.metrics)
    assert storage.registry.get("v1").status == ModelStatus.RETIRED
    assert storage.registry.get("v2").status == ModelStatus.CHAMPION
    assert storage.registry.history() == [second, first]


def test_promotion_with_a_stale_expectation_changes_nothing(storage: Storage) -> None:
    for version, created in [("v1", 1), ("v2", 2), ("v3", 3)]:
        storage.registry.register(_model(version, created))
    storage.registry.promote("v1", None, "pipeline", "first", at(5))
    storage.registry.promote("v2", "v1", "pipeline", "better", at(6))

    with pytest.raises(ChampionChanged):
        storage.registry.promote("v3", "v1", "pipeline", "stale", at(7))
    with pytest.raises(ChampionChanged):
        storage.registry.promote("v3", None, "pipeline", "stale", at(7))

    champion = storage.registry.champion()
    assert champion is not None and champion.version == "v2"
    assert storage.registry.get("v3").status == ModelStatus.CANDIDATE
    assert len(storage.registry.history()) == 2


def test_rollback_is_a_promotion_of_an_earlier_champion(storage: Storage) -> None:
    storage.registry.register(_model("v1", 1, accuracy=0.85))
    storage.registry.register(_model("v2", 2, accuracy=0.9))
    storage.registry.promote("v1", None, "pipeline", "first", at(5))
    storage.registry.promote("v2", "v1", "pipeline", "better", at(6))

    rollback = storage.registry.promote("v1", "v2", "alice", "v2 misbehaves", at(7))

    assert (rollback.from_version, rollback.to_version, rollback.by) == ("v2", "v1", "alice")
    assert rollback.metrics == {"accuracy": 0.85, "per_class": {"cat": 0.875, "dog": 0.9375}}
    assert storage.registry.get("v1").status == ModelStatus.CHAMPION
    assert storage.registry.get("v2").status == ModelStatus.RETIRED
    assert [(c.from_version, c.to_version) for c in storage.registry.history()] == [
        ("v2", "v1"),
        ("v1", "v2"),
        (None, "v1"),
    ]


def test_promoting_the_champion_again_keeps_it_champion(storage: Storage) -> None:
    storage.registry.register(_model("v1", 1))
    storage.registry.promote("v1", None, "pipeline", "first", at(5))

    change = storage.registry.promote("v1", "v1", "alice", "re-affirm", at(6))

    assert (change.from_version, change.to_version) == ("v1", "v1")
    assert storage.registry.get("v1").status == ModelStatus.CHAMPION
    assert len(storage.registry.history()) == 2


def test_promote_unknown_or_rejected_version(storage: Storage) -> None:
    storage.registry.register(_model("bad", 1))
    storage.registry.set_status("bad", ModelStatus.REJECTED)

    with pytest.raises(NotFound):
        storage.registry.promote("nope", None, "pipeline", "x", at(1))
    with pytest.raises(InvalidInput):
        storage.registry.promote("bad", None, "pipeline", "x", at(1))
    assert storage.registry.champion() is None
    assert storage.registry.history() == []


def test_a_rejected_version_is_promoted_only_as_a_recorded_override(storage: Storage) -> None:
    storage.registry.register(_model("v1", 1))
    storage.registry.promote("v1", None, "pipeline", "first", at(1))
    storage.registry.register(_model("bad", 2))
    storage.registry.set_status("bad", ModelStatus.REJECTED)

    change = storage.registry.promote("bad", "v1", "alice", "checked by hand", at(3), override=True)

    assert change.override is True and change.from_version == "v1"
    assert champion_version(storage.registry) == "bad"
    latest = storage.registry.history()[0]
    assert (latest.to_version, latest.by, latest.override) == ("bad", "alice", True)
    assert storage.registry.history()[1].override is False
    # The override still honours the compare-and-set.
    storage.registry.register(_model("worse", 4))
    storage.registry.set_status("worse", ModelStatus.REJECTED)
    with pytest.raises(ChampionChanged):
        storage.registry.promote("worse", "v1", "alice", "stale page", at(5), override=True)


def test_set_status_of_non_champions(storage: Storage) -> None:
    model = storage.registry.register(_model("v1", 1))

    rejected = storage.registry.set_status("v1", ModelStatus.REJECTED)
    retired = storage.registry.set_status("v1", ModelStatus.RETIRED)

    assert rejected.status == ModelStatus.REJECTED
    assert retired == ModelVersion(**{**model.__dict__, "status": ModelStatus.RETIRED})
    assert storage.registry.get("v1") == retired


def test_set_status_refuses_to_touch_the_champion(storage: Storage) -> None:
    storage.registry.register(_model("v1", 1))
    storage.registry.register(_model("v2", 2))
    storage.registry.promote("v1", None, "pipeline", "first", at(5))

    with pytest.raises(Conflict):
        storage.registry.set_status("v1", ModelStatus.RETIRED)
    with pytest.raises(InvalidInput):
        storage.registry.set_status("v2", ModelStatus.CHAMPION)
    with pytest.raises(NotFound):
        storage.registry.set_status("nope", ModelStatus.REJECTED)

    assert storage.registry.get("v1").status == ModelStatus.CHAMPION
    assert storage.registry.get("v2").status == ModelStatus.CANDIDATE
