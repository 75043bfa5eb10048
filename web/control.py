"""What managers do to the pipeline and the registry, without HTTP: train now, promote.

Promotion goes through the registry's compare-and-set (the same call the
pipeline's PromoteModel step makes), then the inference server is told to
serve the new champion; if it cannot be reached, it catches up on its own
reconcile loop and the manager is told so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from catdog.champion import roll_back_refused
from catdog.clock import Clock
from catdog.domain import (
    ChampionChange,
    ManagerSettings,
    ModelVersion,
    RetrainMode,
    TrainingRun,
    Trigger,
)
from catdog.errors import (
    CatdogError,
    InvalidInput,
    ModelRejected,
    RunAlreadyActive,
    ServiceUnavailable,
)
from catdog.pipeline.cancel import cancel_run
from catdog.pipeline.compute import TrainCompute
from catdog.pipeline.orchestrator import execution_name
from catdog.storage.ports import ModelRegistry, SettingsStore, TrainingRuns
from web.ports import Inference, Orchestrator

log = logging.getLogger(__name__)
MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class TrainingStarted:
    execution_arn: str
    run_id: str

    def to_dict(self) -> dict[str, str]:
        return {"execution_id": self.execution_arn, "run_id": self.run_id}


def train_now(
    orchestrator: Orchestrator | None,
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
    if orchestrator is None:
        raise ServiceUnavailable("the pipeline is not configured for this web app")
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

    def to_dict(self) -> dict[str, Any]:
        return {"change": self.change.to_dict(), "served": self.served, "detail": self.detail}


def promote(
    registry: ModelRegistry,
    inference: Inference,
    version: str,
    expected_champion: str | None,
    by: str,
    reason: str,
    clock: Clock,
    *,
    override: bool = False,
) -> PromotionOutcome:
    """Make ``version`` champion if the champion is still ``expected_champion``
    (raises ChampionChanged otherwise), then signal the inference server.
    ``override`` promotes a model the gate rejected (recorded as such)."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why (the reason is kept in the champion history)")
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(f"the reason must be at most {MAX_REASON_LENGTH} characters")
    change = registry.promote(
        version, expected_champion or None, by, reason, clock(), override=override
    )
    try:
        answer = inference.reload(version)
    except ServiceUnavailable as exc:
        log.warning("promoted %s but the inference server was not reached: %s", version, exc)
        return PromotionOutcome(change, False, "the inference server will load it when it is back")
    except ModelRejected as exc:
        log.warning("the inference server refused %s: %s; rolling back", version, exc)
        return _roll_back(registry, change, by, exc, clock)
    except CatdogError as exc:
        log.warning("promoted %s but the inference server answered: %s", version, exc)
        return PromotionOutcome(change, False, f"the inference server answered: {exc}")
    served = answer.get("version", version)
    log.info(
        "promoted by %s; the inference server serves %s",
        by,
        served,
        extra={"model_version": version},
    )
    return PromotionOutcome(change, served == version, f"the inference server serves {served}")


def _roll_back(
    registry: ModelRegistry, change: ChampionChange, by: str, error: Exception, clock: Clock
) -> PromotionOutcome:
    """The server will not serve the new champion: give the pointer back to the model
    it still serves, so the registry never names a model nobody can load."""
    back = roll_back_refused(registry, change, by, error, clock)
    if back is None:
        return PromotionOutcome(change, False, f"the inference server refused it: {error}")
    return PromotionOutcome(
        back, False, f"the inference server refused it ({error}), so {back.to_version} stays"
    )


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
