"""AWS adapter: the InService instances of the inference Auto Scaling group, addressed
by their private IPs (the signal goes to each instance, never through the load balancer,
which would pick one instance per request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from catdog.errors import ServiceUnavailable
from catdog.fleet.ports import FleetMember
from catdog.pipeline.ports import InferenceSignal

IN_SERVICE = "InService"


class AutoScalingFleet:
    def __init__(
        self,
        autoscaling: Any,
        ec2: Any,
        group_name: str,
        port: int,
        client_for: Callable[[str], InferenceSignal],
    ) -> None:
        self._autoscaling = autoscaling
        self._ec2 = ec2
        self._group = group_name
        self._port = port
        self._client_for = client_for

    def members(self) -> list[FleetMember]:
        try:
            ids = self._in_service_ids()
            addresses = self._private_ips(ids) if ids else {}
        except (BotoCoreError, ClientError) as exc:
            raise ServiceUnavailable(
                f"the inference group {self._group} cannot be listed: {exc}"
            ) from exc
        return [
            FleetMember(instance, self._client_for(f"http://{addresses[instance]}:{self._port}"))
            for instance in ids
            if instance in addresses
        ]

    def _in_service_ids(self) -> list[str]:
        answer = self._autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[self._group])
        groups = answer["AutoScalingGroups"]
        if not groups:
            raise ServiceUnavailable(f"there is no Auto Scaling group {self._group}")
        return sorted(
            i["InstanceId"] for i in groups[0]["Instances"] if i["LifecycleState"] == IN_SERVICE
        )

    def _private_ips(self, ids: list[str]) -> dict[str, str]:
        answer = self._ec2.describe_instances(InstanceIds=ids)
        return {
            instance["InstanceId"]: instance["PrivateIpAddress"]
            for reservation in answer["Reservations"]
            for instance in reservation["Instances"]
            if instance.get("PrivateIpAddress")
        }
