"""The phases the pipeline itself names on a run: starting the training instance when
StartTrainInstance starts the compute (a retried start leaves the job's own report alone)."""

from __future__ import annotations

from catdog.domain import RunPhase, RunProgress, Trigger
from catdog.pipeline.compute import ComputeState, ComputeStatus
from catdog.pipeline.factory import build_pipeline_deps
from catdog.pipeline.messages import RunRef
from catdog.pipeline.orchestrator import Orchestrator
from catdog.pipeline.steps import start_train_instance
from catdog.settings import Settings
from catdog.storage.ports import Storage
from tests.contract.test_contract_cancel import StoppableCompute


class PhaseAtStart(StoppableCompute):
    """Records the run's phase at the moment the compute is started."""

    def __init__(self, storage: Storage) -> None:
        super().__init__()
        self.storage = storage
        self.phases: list[RunPhase | None] = []

    def start(self, run_id: str) -> ComputeStatus:
        progress = self.storage.runs.get(run_id).progress
        self.phases.append(None if progress is None else progress.phase)
        return ComputeStatus(ComputeState.RUNNING)


def test_starting_the_compute_is_a_named_phase_and_a_retry_keeps_later_ones(
    settings: Settings, storage: Storage
) -> None:
    compute = PhaseAtStart(storage)
    # Never called here: nothing asks about executions when a compute starts.
    deps = build_pipeline_deps(settings, storage, compute, Orchestrator(client=None))
    storage.runs.create("manual-p", Trigger.MANUAL, deps.clock())

    start_train_instance(deps, RunRef("manual-p"))
    progress = storage.runs.get("manual-p").progress
    assert progress is not None and progress.phase is RunPhase.STARTING_INSTANCE
    assert progress.phase.description == "Starting the training instance"
    assert compute.phases == [RunPhase.STARTING_INSTANCE]  # recorded before the start

    loading = RunProgress.phase_only(RunPhase.LOADING_DATA, deps.clock())
    storage.runs.record_progress("manual-p", loading)
    start_train_instance(deps, RunRef("manual-p"))  # the state machine retried the step
    assert storage.runs.get("manual-p").progress == loading
