"""The inference fleet the settings describe."""

from __future__ import annotations

from catdog.fleet.local import StaticFleet
from catdog.fleet.ports import FleetMember, InferenceFleet
from catdog.pipeline.ports import InferenceSignal
from catdog.settings import Settings


def configured_fleet(settings: Settings) -> InferenceFleet | None:
    """AWS with an inference group: its InService instances. Otherwise the servers listed
    in ``CATDOG_INFERENCE_INSTANCE_URLS``; None when there is just the one inference server
    (callers then signal the client they hold: ``one_or_configured``)."""
    from catdog.inference_client import InferenceClient

    def client_for(url: str) -> InferenceClient:
        return InferenceClient(url, settings.inference_admin_token)

    group = settings.aws.inference_group_name
    if settings.backend == "aws" and group:
        from catdog.fleet.aws import AutoScalingFleet
        from catdog.pipeline.aws_clients import autoscaling_client, ec2_client

        return AutoScalingFleet(
            autoscaling_client(settings),
            ec2_client(settings),
            group,
            settings.inference_port,
            client_for,
        )
    if not settings.inference_instance_urls:
        return None
    return StaticFleet([FleetMember(url, client_for(url)) for url in settings.inference_urls])


def one_or_configured(
    fleet: InferenceFleet | None, settings: Settings, server: InferenceSignal
) -> InferenceFleet:
    """``fleet``, or the one inference server ``server`` as a fleet of one."""
    return fleet or StaticFleet.of_one(settings.inference_base_url, server)
