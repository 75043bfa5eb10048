"""The AWS adapter of the inference fleet on moto: the InService instances of the group,
addressed by their private IPs, and the local adapter built from the settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catdog.errors import ServiceUnavailable
from catdog.fleet.aws import AutoScalingFleet
from catdog.fleet.factory import configured_fleet
from catdog.inference_client import InferenceClient
from catdog.settings import AwsResources, Settings

REGION = "us-east-1"


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield (
            boto3.client("autoscaling", region_name=REGION),
            boto3.client("ec2", region_name=REGION),
        )


def make_group(autoscaling: Any, ec2: Any, name: str, size: int) -> None:
    ec2.create_launch_template(
        LaunchTemplateName=f"{name}-lt",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.medium"},
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateName": f"{name}-lt", "Version": "$Latest"},
        MinSize=size,
        MaxSize=4,
        DesiredCapacity=size,
        AvailabilityZones=[f"{autoscaling.meta.region_name}a"],
    )


def fleet(
    autoscaling: Any, ec2: Any, group: str, urls: list[str] | None = None
) -> AutoScalingFleet:
    """The adapter; each URL it builds a client for is appended to ``urls``."""
    seen = [] if urls is None else urls

    def client_for(url: str) -> InferenceClient:
        seen.append(url)
        return InferenceClient(url, "token")

    return AutoScalingFleet(autoscaling, ec2, group, 8501, client_for)


def test_every_in_service_instance_is_a_member_at_its_private_ip(
    clients: tuple[Any, Any],
) -> None:
    autoscaling, ec2 = clients
    make_group(autoscaling, ec2, "catdog-inference", 2)
    (group,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["catdog-inference"])[
        "AutoScalingGroups"
    ]
    ids = sorted(i["InstanceId"] for i in group["Instances"])
    described = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    ips = {i["InstanceId"]: i["PrivateIpAddress"] for r in described for i in r["Instances"]}

    urls: list[str] = []
    members = fleet(autoscaling, ec2, "catdog-inference", urls).members()

    assert len(ids) == 2 and [m.name for m in members] == ids
    assert urls == [f"http://{ips[i]}:8501" for i in ids]


def test_an_instance_leaving_service_is_no_longer_signalled(clients: tuple[Any, Any]) -> None:
    autoscaling, ec2 = clients
    make_group(autoscaling, ec2, "catdog-inference", 2)
    first = fleet(autoscaling, ec2, "catdog-inference").members()[0].name
    autoscaling.enter_standby(
        InstanceIds=[first],
        AutoScalingGroupName="catdog-inference",
        ShouldDecrementDesiredCapacity=True,
    )
    assert [m.name for m in fleet(autoscaling, ec2, "catdog-inference").members()] != []
    assert first not in [m.name for m in fleet(autoscaling, ec2, "catdog-inference").members()]


def test_an_unknown_group_is_service_unavailable(clients: tuple[Any, Any]) -> None:
    autoscaling, ec2 = clients
    with pytest.raises(ServiceUnavailable, match="no Auto Scaling group nope"):
        fleet(autoscaling, ec2, "nope").members()


def test_locally_the_fleet_is_the_listed_servers_or_none_for_the_one_server() -> None:
    assert configured_fleet(Settings()) is None
    listed = configured_fleet(
        Settings(inference_instance_urls="http://127.0.0.1:9001, http://127.0.0.1:9002")
    )
    assert listed is not None
    assert [m.name for m in listed.members()] == ["http://127.0.0.1:9001", "http://127.0.0.1:9002"]
    aws = configured_fleet(
        Settings(backend="aws", aws=AwsResources(inference_group_name="catdog-inference"))
    )
    assert isinstance(aws, AutoScalingFleet)
