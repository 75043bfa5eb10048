"""The one promote → signal every instance → verify → roll back flow (catdog.champion),
over a fleet of in-memory instances and the real local registry and runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from catdog.champion import PromotionRequest, promote_and_serve
from catdog.clock import utc_now
from catdog.domain import ModelStatus, ModelVersion, Trigger
from catdog.errors import CanaryMismatch, ChampionChanged, InvalidInput, ServiceUnavailable
from catdog.fleet.local import StaticFleet
from catdog.fleet.ports import FleetMember
from catdog.pipeline.ports import InferenceSignal
from catdog.storage.ports import Storage


@dataclass
class Instance(InferenceSignal):
    """An inference server: serves what it is told, unless down or refusing that version."""

    served: str | None = "v1"
    down: bool = False
    refuse: set[str] = field(default_factory=set)
    reloads: list[str | None] = field(default_factory=list)

    def reload(self, version: str | None = None) -> dict[str, Any]:
        if self.down:
            raise ServiceUnavailable("connection refused")
        self.reloads.append(version)
        if version in self.refuse:
            raise CanaryMismatch(f"{version} does not reproduce its canaries")
        self.served = version
        return {"version": version}

    def model_info(self) -> dict[str, Any]:
        if self.down:
            raise ServiceUnavailable("connection refused")
        return {"version": self.served}


def fleet_of(**instances: Instance) -> StaticFleet:
    return StaticFleet([FleetMember(name, server) for name, server in instances.items()])


def register(storage: Storage, version: str, run_id: str | None = None) -> None:
    storage.registry.register(
        ModelVersion(
            version=version,
            artifact=f"models/{version}/",
            status=ModelStatus.CANDIDATE,
            created_at=utc_now(),
            metrics={"accuracy": 0.9},
            run_id=run_id,
        )
    )


def champion_version(storage: Storage) -> str | None:
    champion = storage.registry.champion()
    return None if champion is None else champion.version


@pytest.fixture
def champion_v1(storage: Storage) -> Storage:
    register(storage, "v1")
    storage.registry.promote("v1", None, "test", "baseline", utc_now())
    storage.runs.create("v2", Trigger.MANUAL, utc_now())
    register(storage, "v2", run_id="v2")
    return storage


def test_every_instance_serves_the_new_champion_and_the_run_records_each(
    champion_v1: Storage,
) -> None:
    a, b = Instance(), Instance()
    storage = champion_v1
    change, report = promote_and_serve(
        storage.registry,
        storage.runs,
        fleet_of(a=a, b=b),
        PromotionRequest("v2", "v1", "m", "better"),
        utc_now,
    )
    assert change.to_version == "v2" and report.all_served
    assert (a.served, b.served) == ("v2", "v2")
    assert [(r["instance"], r["served_version"]) for r in storage.runs.get("v2").serving] == [
        ("a", "v2"),
        ("b", "v2"),
    ]


def test_an_instance_that_is_down_keeps_the_promotion_unserved_and_is_recorded(
    champion_v1: Storage,
) -> None:
    storage = champion_v1
    up, down = Instance(), Instance(down=True)
    _, report = promote_and_serve(
        storage.registry,
        storage.runs,
        fleet_of(a=up, b=down),
        PromotionRequest("v2", "v1", "m", "r"),
        utc_now,
    )
    assert not report.all_served and report.rolled_back is None
    assert champion_version(storage) == "v2"
    (_, recorded_down) = storage.runs.get("v2").serving
    assert recorded_down["served_version"] is None
    assert "connection refused" in recorded_down["error"]
    assert "b connection refused" in report.summary()


def test_one_refusal_rolls_back_and_every_instance_goes_back_to_the_old_champion(
    champion_v1: Storage,
) -> None:
    storage = champion_v1
    takes_it, refuses = Instance(), Instance(refuse={"v2"})
    _, report = promote_and_serve(
        storage.registry,
        storage.runs,
        fleet_of(a=takes_it, b=refuses),
        PromotionRequest("v2", "v1", "m", "r"),
        utc_now,
    )
    assert report.rolled_back is not None and report.rolled_back.to_version == "v1"
    assert "canaries" in (report.refusal or "")
    assert champion_version(storage) == "v1"
    assert (takes_it.served, refuses.served) == ("v1", "v1")
    assert [r.served_version for r in report.restored] == ["v1", "v1"]
    assert storage.registry.history()[0].reason.startswith("automatic roll back")


def test_no_instance_in_service_is_not_served(champion_v1: Storage) -> None:
    storage = champion_v1
    _, report = promote_and_serve(
        storage.registry,
        storage.runs,
        StaticFleet([]),
        PromotionRequest("v2", "v1", "m", "r"),
        utc_now,
    )
    assert not report.all_served
    assert report.summary() == "no inference instance is in service"


def test_a_stale_expected_champion_signals_nobody(champion_v1: Storage) -> None:
    storage = champion_v1
    instance = Instance()
    with pytest.raises(ChampionChanged):
        promote_and_serve(
            storage.registry,
            storage.runs,
            fleet_of(a=instance),
            PromotionRequest("v2", "v0", "m", "r"),
            utc_now,
        )
    assert instance.reloads == []


def test_a_promotion_says_why() -> None:
    with pytest.raises(InvalidInput, match="say why"):
        PromotionRequest("v2", "v1", "m", "   ")
