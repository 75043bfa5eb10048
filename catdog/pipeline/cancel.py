"""Cancelling a training run: a manager stops it, the lock is freed, the champion stays.

The order matters. The run is marked cancelled first (compare-and-set from an
active status), which frees the one-active-run lock at once and makes every
step still in flight for it a no-op or a conflict; then the execution is
stopped (StopExecution: ABORTED, no further state runs, so nothing can promote),
then the training process or instance; a model it registered can never be
promoted. The audit is the run itself (status cancelled, ``error`` "cancelled
by <who>", ``finished_at``) and the execution (its stop cause names the manager).
"""

from __future__ import annotations

import logging
from typing import Protocol

from catdog.clock import Clock
from catdog.domain import ACTIVE_RUN_STATUSES, RunStatus, TrainingRun
from catdog.errors import CatdogError, RunStateConflict
from catdog.pipeline.cleanup import reject_if_candidate
from catdog.pipeline.compute import TrainCompute
from catdog.storage.ports import ModelRegistry, TrainingRuns

log = logging.getLogger("catdog.pipeline.cancel")


class ExecutionStopper(Protocol):
    def stop_execution(self, arn_or_name: str, cause: str) -> None:
        """StopExecution; a no-op for an execution that no longer runs."""
        ...


def cancel_run(
    run_id: str,
    by: str,
    *,
    runs: TrainingRuns,
    registry: ModelRegistry,
    executions: ExecutionStopper | None,
    compute: TrainCompute | None,
    clock: Clock,
) -> TrainingRun:
    """Cancel an active run; raises NotFound, or RunStateConflict when it already ended."""
    run = runs.get(run_id)
    if not run.status.is_active:
        raise RunStateConflict(f"run {run_id} is {run.status.value}; only an active run stops")
    reason = f"cancelled by {by}"
    cancelled = runs.transition(
        run_id, RunStatus.CANCELLED, clock(), allowed_from=ACTIVE_RUN_STATUSES, error=reason
    )
    log.warning("training run %s %s at %s", run_id, reason, cancelled.finished_at)
    if executions is not None:
        executions.stop_execution(run.execution_id or run_id, reason)
    if compute is not None:
        try:
            compute.stop(run_id)
        except CatdogError as exc:  # the run is cancelled; the instance stops on its own later
            log.warning("run %s cancelled, but its compute did not stop: %s", run_id, exc)
    reject_if_candidate(registry, run_id)
    return cancelled
