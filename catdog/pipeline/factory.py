"""What the pipeline steps run against (train compute, orchestrator, step deps),
built from the settings."""

from __future__ import annotations

from catdog.fleet.factory import configured_fleet
from catdog.notifiers import build_notifier
from catdog.pipeline.archive import ExecutionArchive, archive_path
from catdog.pipeline.compute import LocalProcessCompute, TrainCompute
from catdog.pipeline.deps import PipelineDeps
from catdog.pipeline.orchestrator import Orchestrator
from catdog.settings import Settings
from catdog.storage.ports import Storage


def build_compute(settings: Settings) -> TrainCompute:
    if settings.backend == "aws":
        from catdog.pipeline.aws_clients import ec2_client
        from catdog.pipeline.ec2_compute import Ec2TrainCompute

        return Ec2TrainCompute(ec2_client(settings), settings.aws.train_instance_id)
    return LocalProcessCompute(settings)


def build_compute_if_configured(settings: Settings) -> TrainCompute | None:
    """The train compute, or None on AWS when no Train instance is named (then a
    cancelled run's instance is left to its own idle stop)."""
    if settings.backend == "aws" and not settings.aws.train_instance_id:
        return None
    return build_compute(settings)


def build_orchestrator(settings: Settings) -> Orchestrator:
    """AWS: the deployed state machine. Local: the moto server of a running ``catdog up``,
    with the archive of executions it finished before."""
    from catdog.pipeline.aws_clients import stepfunctions_client

    archive = None
    if settings.backend == "local":
        archive = ExecutionArchive(archive_path(settings.data_dir))
    return Orchestrator(stepfunctions_client(settings), settings.aws.state_machine_arn, archive)


def build_pipeline_deps(
    settings: Settings,
    storage: Storage,
    compute: TrainCompute | None = None,
    orchestrator: Orchestrator | None = None,
) -> PipelineDeps:
    from catdog.inference_client import InferenceClient

    return PipelineDeps(
        settings=settings,
        storage=storage,
        compute=compute or build_compute(settings),
        inference=InferenceClient(settings.inference_base_url, settings.inference_admin_token),
        executions=orchestrator or build_orchestrator(settings),
        notifier=build_notifier(settings),
        fleet=configured_fleet(settings),
    )
