"""Runs that nothing will finish: orphans of a restart, and models that must never serve."""

from __future__ import annotations

from catdog.domain import ACTIVE_RUN_STATUSES, ModelStatus, RunStatus, TrainingRun
from catdog.errors import NotFound
from catdog.pipeline.deps import PipelineDeps
from catdog.storage.ports import ModelRegistry


def fail_orphaned_run(deps: PipelineDeps, own_run_id: str) -> list[str]:
    """Fail the active run if it is orphaned; returns the run ids failed.

    An orphan is an active run whose execution is no longer running (e.g. a
    ``catdog up`` that was restarted mid-run): nothing would ever finish it, and
    it would hold the lock forever. Its compute is stopped and its model, if
    registered, can never be promoted. Candidates of cancelled runs are rejected too.
    """
    reject_abandoned_candidates(deps)
    active = deps.storage.runs.active()
    if active is None or active.run_id == own_run_id or not _is_orphan(deps, active):
        return []
    deps.compute.stop(active.run_id)
    fail_run(deps, active.run_id, f"orphaned: execution {active.execution_id} is no longer running")
    return [active.run_id]


def fail_run(deps: PipelineDeps, run_id: str, error: str) -> TrainingRun:
    """Mark an active run failed with ``error``; its model, if registered, is rejected."""
    run = deps.storage.runs.transition(
        run_id, RunStatus.FAILED, deps.clock(), allowed_from=ACTIVE_RUN_STATUSES, error=error
    )
    reject_candidate(deps, run_id)
    return run


def _is_orphan(deps: PipelineDeps, run: TrainingRun) -> bool:
    if run.execution_id:
        return not deps.executions.is_running(run.execution_id)
    return not deps.compute.status(run.run_id).running


def reject_candidate(deps: PipelineDeps, version: str) -> None:
    """A failed or rejected run's model must never be promoted later by accident."""
    reject_if_candidate(deps.storage.registry, version)


def reject_if_candidate(registry: ModelRegistry, version: str) -> None:
    """Mark ``version`` rejected if it is a candidate (a no-op for any other status)."""
    try:
        model = registry.get(version)
    except NotFound:
        return
    if model.status is ModelStatus.CANDIDATE:
        registry.set_status(version, ModelStatus.REJECTED)


def reject_abandoned_candidates(deps: PipelineDeps) -> list[str]:
    """Candidates whose run ended without promoting them (a run cancelled while its
    model was being validated) are rejected; returns their versions."""
    abandoned = []
    for model in deps.storage.registry.list():
        if model.status is not ModelStatus.CANDIDATE or model.run_id is None:
            continue
        try:
            run = deps.storage.runs.get(model.run_id)
        except NotFound:
            continue
        if run.status is RunStatus.CANCELLED:
            reject_if_candidate(deps.storage.registry, model.version)
            abandoned.append(model.version)
    return abandoned
