"""The training run as the Train instance runs it: observable like every other unit.

On AWS the job's lines are JSON objects carrying ``run_id`` and ``model_version``
(the version it trains is the run id), on stderr, which the instance appends to the
log the CloudWatch agent ships; the run is one X-Ray segment (the agent relays it).
Locally (a child process of ``catdog up``) the job keeps its plain text lines.
"""

from __future__ import annotations

from catdog import observability
from catdog.settings import Settings
from catdog.storage.ports import Storage
from training_job.run import run_job

SERVICE = "training_job"


def run_observed_job(run_id: str, settings: Settings, storage: Storage) -> int:
    """``run_job`` with JSON logging and an X-Ray segment on AWS; its exit status."""
    if settings.backend != "aws":
        return run_job(run_id, settings, storage)
    observability.bind(run_id=run_id, model_version=run_id)
    observability.setup_process(settings, SERVICE)
    with observability.traced_segment(SERVICE, run_id=run_id):
        return run_job(run_id, settings, storage, log=observability.line_logger(SERVICE))
