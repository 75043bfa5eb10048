"""Train compute adapters: child processes locally, the Train EC2 instance on AWS."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catdog.errors import RunAlreadyActive
from catdog.pipeline.compute import ComputeState, LocalProcessCompute
from catdog.pipeline.ec2_compute import RUN_TAG, Ec2TrainCompute
from catdog.settings import Settings
from tests.polling import wait_until

SCRIPT = (
    "import os, sys, time;"
    " print('run', sys.argv[1], os.environ['CATDOG_DEFAULT_EPOCHS'], flush=True);"
    " time.sleep(float(sys.argv[2]))"
)


def command(seconds: float) -> Callable[[str], list[str]]:
    return lambda run_id: [sys.executable, "-c", SCRIPT, run_id, str(seconds)]


def wait_until_stopped(compute: LocalProcessCompute, run_id: str) -> None:
    wait_until(
        lambda: compute.status(run_id),
        done=lambda status: not status.running,
        what=f"run {run_id}'s process to stop",
        interval=0.05,
    )


def test_local_process_runs_with_the_settings_and_logs_to_a_file(settings: Settings) -> None:
    compute = LocalProcessCompute(settings.with_changes(default_epochs=3), command=command(0))
    assert compute.status("r1").state is ComputeState.NOT_STARTED
    assert compute.start("r1").running
    wait_until_stopped(compute, "r1")
    status = compute.status("r1")
    assert (status.state, status.exit_code) == (ComputeState.STOPPED, 0)
    assert compute.log_file("r1").read_text() == "run r1 3\n"
    assert compute.start("r1").state is ComputeState.STOPPED  # a retried start does not rerun


def test_a_restarted_parent_sees_and_stops_the_process_through_its_pid_file(
    settings: Settings,
) -> None:
    first = LocalProcessCompute(settings, command=command(60), stop_grace_seconds=5)
    first.start("r2")
    restarted = LocalProcessCompute(settings)  # knows nothing but the data dir
    assert restarted.status("r2").running
    restarted.stop("r2")
    assert not restarted.status("r2").running
    first.stop("r2")  # reaps the child; harmless now
    assert first.status("r2").exit_code is not None


def test_a_reused_pid_is_not_mistaken_for_the_run(settings: Settings) -> None:
    compute = LocalProcessCompute(settings, command=command(0))
    compute.start("r3")
    wait_until_stopped(compute, "r3")
    record = compute.pid_file("r3").read_text().replace('"start_ticks": ', '"start_ticks": 1')
    compute.pid_file("r3").write_text(record)
    assert LocalProcessCompute(settings).status("r3").state is ComputeState.STOPPED


@pytest.fixture
def ec2() -> Iterator[tuple[Any, str]]:
    """A stopped instance on moto: the EC2 client (boto3's clients are untyped here) and
    the instance id."""
    with mock_aws():
        client = boto3.client("ec2", region_name="us-east-1")
        image = client.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        instance = client.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
        client.stop_instances(InstanceIds=[instance["InstanceId"]])
        yield client, instance["InstanceId"]


def test_ec2_compute_tags_the_instance_with_the_run_and_starts_it(ec2: tuple[Any, str]) -> None:
    client, instance_id = ec2
    compute = Ec2TrainCompute(client, instance_id)
    assert compute.status("r1").state is ComputeState.NOT_STARTED
    assert compute.start("r1").running
    described = client.describe_instances(InstanceIds=[instance_id])["Reservations"][0]
    tags = {t["Key"]: t["Value"] for t in described["Instances"][0]["Tags"]}
    assert tags[RUN_TAG] == "r1"
    assert compute.start("r1").running  # retried: no second start
    with pytest.raises(RunAlreadyActive):
        compute.start("r2")
    compute.stop("r2")  # not its run: nothing happens
    assert compute.status("r1").running
    compute.stop("r1")
    assert compute.status("r1").state is ComputeState.STOPPED
    assert compute.start("r1").state is ComputeState.STOPPED  # finished runs are not rerun
