"""AWS adapter of the train compute port: the Train EC2 instance.

The run travels to the instance as the instance tag ``catdog:run-id``: we tag,
then start the instance; at boot its systemd unit reads its own tags (instance
metadata tags, or ``ec2:DescribeTags``) and runs ``python -m training_job
--run-id <tag>``, then shuts the instance down. The tag stays afterwards, so
``status`` and ``stop`` only act on the run the instance was started for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catdog.errors import ConfigurationError, RunAlreadyActive
from catdog.pipeline.compute import ComputeState, ComputeStatus

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
else:
    EC2Client = Any

RUN_TAG = "catdog:run-id"
_RUNNING_STATES = frozenset({"pending", "running"})


class Ec2TrainCompute:
    def __init__(self, client: EC2Client, instance_id: str | None) -> None:
        if not instance_id:
            raise ConfigurationError("CATDOG_AWS_TRAIN_INSTANCE_ID is not set")
        self._ec2 = client
        self._instance_id = instance_id

    def start(self, run_id: str) -> ComputeStatus:
        state, tagged = self._describe()
        if tagged == run_id:  # started for this run before: a retry must not rerun it
            return self.status(run_id)
        if state in _RUNNING_STATES or state == "stopping":
            raise RunAlreadyActive(f"train instance is {state} for run {tagged}")
        self._ec2.create_tags(
            Resources=[self._instance_id], Tags=[{"Key": RUN_TAG, "Value": run_id}]
        )
        self._ec2.start_instances(InstanceIds=[self._instance_id])
        return ComputeStatus(ComputeState.RUNNING, detail="pending")

    def status(self, run_id: str) -> ComputeStatus:
        state, tagged = self._describe()
        if tagged != run_id:
            return ComputeStatus(ComputeState.NOT_STARTED, detail=f"instance is for {tagged}")
        if state in _RUNNING_STATES:
            return ComputeStatus(ComputeState.RUNNING, detail=state)
        return ComputeStatus(ComputeState.STOPPED, detail=state)

    def stop(self, run_id: str) -> None:
        state, tagged = self._describe()
        if tagged == run_id and state in _RUNNING_STATES:
            self._ec2.stop_instances(InstanceIds=[self._instance_id])

    def _describe(self) -> tuple[str, str | None]:
        answer = self._ec2.describe_instances(InstanceIds=[self._instance_id])
        instance = answer["Reservations"][0]["Instances"][0]
        tags = {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
        return str(instance["State"]["Name"]), tags.get(RUN_TAG)
