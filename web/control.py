"""What managers do to the pipeline and the registry, without HTTP: train now, promote.

Promotion goes through the registry's compare-and-set, then every inference
instance is told to serve the new champion (``catdog.champion``, the flow the
pipeline's SignalInferenceServer step runs too); an instance that cannot be
reached catches up on its own reconcile loop and the manager is told so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from catdog.champion import PromotionRequest, ServingReport, promote_and_serve
from catdog.clock import Clock
from catdog.domain import (
    ChampionChange,
    ManagerSettings,
    ModelVersion,
    RetrainMode,
    TrainingRun,
    Trigger,
)
from catdog.errors import RunAlreadyActive
from catdog.fleet.ports import InferenceFleet
from catdog.pipeline.cancel import cancel_run
from catdog.pipeline.compute import TrainCompute
from catdog.pipeline.orchestrator import execution_name
from catdog.storage.ports import ModelRegistry, SettingsStore, TrainingRuns
from web.ports import Orchestrator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingStarted:
    execution_arn: str
    run_id: str

    def to_dict(self) -> dict[str, str]:
        return {"execution_id": self.execution_arn, "run_id": self.run_id}


def train_now(
    orchestrator: Orchestrator,
    runs: TrainingRuns,
    clock: Clock,
    retrain_mode: RetrainMode = RetrainMode.INCREMENTAL,
) -> TrainingStarted:
    """Start a forced manual run; the pipeline creates the run, named after the execution.
    ``retrain_mode`` full fits from scratch on every training image instead of
    continuing from the champion.

    Raises RunAlreadyActive when a run is active now (the pipeline's lock stays the
    real guard: a race past this check fails in the execution, not silently).
    """
    active = runs.active()
    if active is not None:
        raise RunAlreadyActive(f"run {active.run_id} is still {active.status.value}")
    name = execution_name(Trigger.MANUAL.value, clock)
    execution_input = {
        "trigger": Trigger.MANUAL.value,
        "force": True,
        "retrain_mode": RetrainMode(retrain_mode).value,
    }
    arn = orchestrator.start_execution(execution_input, name)
    # The pipeline names the run after its execution (CreateTrainingRun).
    log.info("manual training run started", extra={"run_id": name, "execution_id": arn})
    return TrainingStarted(arn, name)


@dataclass(frozen=True)
class PromotionOutcome:
    change: ChampionChange
    served: bool
    detail: str
    serving: ServingReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": self.change.to_dict(),
            "served": self.served,
            "detail": self.detail,
            "instances": [] if self.serving is None else self.serving.to_dict()["instances"],
        }


def promote(
    registry: ModelRegistry,
    runs: TrainingRuns,
    fleet: InferenceFleet,
    request: PromotionRequest,
    clock: Clock,
) -> PromotionOutcome:
    """Promote and serve on every inference instance (``catdog.champion.promote_and_serve``;
    an instance that refuses the model rolls it back), told the way a manager reads it."""
    version = request.version
    change, report = promote_and_serve(registry, runs, fleet, request, clock)
    if report.rolled_back is not None:
        back = report.rolled_back
        return PromotionOutcome(
            back,
            False,
            f"the inference server refused it ({report.refusal}), so {back.to_version} stays",
            report,
        )
    if report.refusal is not None:
        detail = f"the inference server refused it: {report.refusal}"
    elif report.all_served:
        detail = f"the inference server serves {version}"
    else:
        detail = (
            f"not every inference instance serves it yet ({report.summary()}); "
            "an instance that is down will load it when it is back"
        )
    log.info("promoted by %s: %s", request.by, detail, extra={"model_version": version})
    return PromotionOutcome(change, report.all_served, detail, report)


def cancel_training_run(
    run_id: str,
    by: str,
    runs: TrainingRuns,
    registry: ModelRegistry,
    orchestrator: Orchestrator | None,
    compute: TrainCompute | None,
    clock: Clock,
) -> TrainingRun:
    """Stop an active run for a manager (``catdog.pipeline.cancel``): its execution, its
    training, the lock; the champion stays. Raises NotFound, RunStateConflict."""
    return cancel_run(
        run_id,
        by,
        runs=runs,
        registry=registry,
        executions=orchestrator,
        compute=compute,
        clock=clock,
    )


def current_champion_version(registry: ModelRegistry) -> str | None:
    champion = registry.champion()
    return None if champion is None else champion.version


def update_settings(store: SettingsStore, changes: dict[str, Any]) -> ManagerSettings:
    """Apply the given fields over the stored settings (InvalidSettings on bad values)."""
    merged = {**store.get().to_dict(), **changes}
    settings = ManagerSettings.from_dict(merged)
    store.put(settings)
    return settings


def was_champion(model: ModelVersion, history: list[ChampionChange]) -> bool:
    """A version that served before can be rolled back to."""
    return any(change.to_version == model.version for change in history)
