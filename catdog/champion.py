"""Serving a champion: promote, tell every inference instance to serve it, verify, and
roll back when an instance refuses it. The one flow behind the pipeline's
SignalInferenceServer step and a manager's promotion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from catdog.clock import Clock
from catdog.domain import ChampionChange
from catdog.errors import CatdogError, InvalidInput, ModelRejected, NotFound
from catdog.fleet.ports import FleetMember, InferenceFleet
from catdog.storage.ports import ModelRegistry, TrainingRuns

log = logging.getLogger(__name__)
MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class InstanceResult:
    """What one instance answered: the version it serves after the signal, or the error."""

    instance: str
    served_version: str | None
    error: str | None = None
    refused: bool = False  # its load checks failed (ModelRejected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "served_version": self.served_version,
            "error": self.error,
            "refused": self.refused,
        }


@dataclass(frozen=True)
class ServingReport:
    """The signal of ``version`` to every in-service instance, and any roll back."""

    version: str
    instances: tuple[InstanceResult, ...]
    rolled_back: ChampionChange | None = None
    # After a roll back: each instance told to serve the version the champion went back to.
    restored: tuple[InstanceResult, ...] = field(default_factory=tuple)

    @property
    def all_served(self) -> bool:
        """Every instance serves ``version`` (and there was at least one)."""
        return bool(self.instances) and all(
            r.served_version == self.version for r in self.instances
        )

    @property
    def refusal(self) -> str | None:
        return next((r.error for r in self.instances if r.refused), None)

    def summary(self) -> str:
        """One line for people: which instances serve what."""
        if not self.instances:
            return "no inference instance is in service"
        parts = [
            f"{r.instance} {'serves ' + str(r.served_version) if r.error is None else r.error}"
            for r in self.instances
        ]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "all_served": self.all_served,
            "instances": [r.to_dict() for r in self.instances],
            "rolled_back_to": None if self.rolled_back is None else self.rolled_back.to_version,
            "restored": [r.to_dict() for r in self.restored],
        }


def signal_every_instance(fleet: InferenceFleet, version: str) -> tuple[InstanceResult, ...]:
    """Tell each in-service instance to serve ``version`` and read back what it serves.
    An instance that cannot be reached or answers an error is recorded, never raised."""
    return tuple(_signal(member, version) for member in fleet.members())


def _signal(member: FleetMember, version: str) -> InstanceResult:
    try:
        member.server.reload(version)
    except ModelRejected as exc:
        return InstanceResult(member.name, _served(member), str(exc), refused=True)
    except CatdogError as exc:
        return InstanceResult(member.name, None, str(exc))
    served = _served(member)
    if served != version:
        return InstanceResult(member.name, served, f"serves {served}, not {version}")
    return InstanceResult(member.name, served)


def _served(member: FleetMember) -> str | None:
    try:
        version = member.server.model_info().get("version")
    except CatdogError:
        return None
    return None if version is None else str(version)


def serve_champion_change(
    registry: ModelRegistry,
    runs: TrainingRuns,
    fleet: InferenceFleet,
    change: ChampionChange,
    by: str,
    clock: Clock,
) -> ServingReport:
    """Signal every instance to serve ``change.to_version`` and verify each one.

    When an instance refuses the model (its checks failed), the champion goes back to
    the version it replaced (compare-and-set; ChampionChanged if it moved meanwhile)
    and every instance is told to serve that one again. The per-instance results are
    recorded on the run that produced the version, when there is one.
    """
    report = ServingReport(change.to_version, signal_every_instance(fleet, change.to_version))
    refusal = report.refusal
    if refusal is not None:
        back = roll_back_refused(registry, change, by, ModelRejected(refusal), clock)
        if back is not None:
            restored = signal_every_instance(fleet, back.to_version)
            report = ServingReport(report.version, report.instances, back, restored)
    _record_on_run(registry, runs, report)
    log.info(
        "signalled %d inference instance(s): %s",
        len(report.instances),
        report.summary(),
        extra={"model_version": change.to_version},
    )
    return report


@dataclass(frozen=True)
class PromotionRequest:
    """Make ``version`` champion if the champion is still ``expected_champion``;
    ``override`` promotes a model the gate rejected (the history says so)."""

    version: str
    expected_champion: str | None
    by: str
    reason: str
    override: bool = False

    def __post_init__(self) -> None:
        reason = self.reason.strip()
        if not reason:
            raise InvalidInput("say why (the reason is kept in the champion history)")
        if len(reason) > MAX_REASON_LENGTH:
            raise InvalidInput(f"the reason must be at most {MAX_REASON_LENGTH} characters")
        object.__setattr__(self, "reason", reason)


def promote_and_serve(
    registry: ModelRegistry,
    runs: TrainingRuns,
    fleet: InferenceFleet,
    request: PromotionRequest,
    clock: Clock,
) -> tuple[ChampionChange, ServingReport]:
    """Compare-and-set the champion (raises ChampionChanged when it moved), then serve
    the new one on every instance (``serve_champion_change``)."""
    change = registry.promote(
        request.version,
        request.expected_champion or None,
        request.by,
        request.reason,
        clock(),
        override=request.override,
    )
    return change, serve_champion_change(registry, runs, fleet, change, request.by, clock)


def roll_back_refused(
    registry: ModelRegistry, change: ChampionChange, by: str, error: Exception, clock: Clock
) -> ChampionChange | None:
    """Give the champion pointer back to the version ``change`` replaced, so the
    registry never names a model the inference server will not load.

    A compare-and-set expecting ``change.to_version``: raises ChampionChanged if
    someone moved the pointer meanwhile. Returns None when there is nothing to go
    back to (the refused model was the first champion).
    """
    if change.from_version is None:
        return None
    reason = f"automatic roll back: the inference server refused {change.to_version}: {error}"
    return registry.promote(
        change.from_version, change.to_version, by, reason[:MAX_REASON_LENGTH], clock()
    )


def _record_on_run(registry: ModelRegistry, runs: TrainingRuns, report: ServingReport) -> None:
    try:
        run_id = registry.get(report.version).run_id
        if run_id is not None:
            runs.record_serving(run_id, [r.to_dict() for r in report.instances])
    except NotFound:
        pass  # a version no run produced (the shipped baseline) has nowhere to record
