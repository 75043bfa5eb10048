"""What the pipeline steps run against, and how a run is named after its execution."""

from __future__ import annotations

from dataclasses import dataclass, field

from catdog.alerts import Notifier
from catdog.clock import Clock, utc_now
from catdog.fleet.factory import one_or_configured
from catdog.fleet.ports import InferenceFleet
from catdog.keys import validate_key
from catdog.pipeline.compute import TrainCompute
from catdog.pipeline.ports import ExecutionLiveness, InferenceSignal
from catdog.settings import Settings
from catdog.storage.ports import Storage


@dataclass(frozen=True)
class PipelineDeps:
    """Everything the steps touch; the Lambda handlers get it from one builder."""

    settings: Settings
    storage: Storage
    compute: TrainCompute
    inference: InferenceSignal
    executions: ExecutionLiveness
    notifier: Notifier
    clock: Clock = field(default=utc_now)
    # Every inference instance to signal; None: just the one ``inference`` server.
    fleet: InferenceFleet | None = None

    def inference_fleet(self) -> InferenceFleet:
        return one_or_configured(self.fleet, self.settings, self.inference)


def run_id_for(execution_name: str) -> str:
    """The run an execution owns: named after it, so a retried CreateTrainingRun finds it."""
    return validate_key(execution_name)
