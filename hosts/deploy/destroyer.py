"""``catdog destroy``: empty the buckets the stack created, then delete the stack.

CloudFormation cannot delete a bucket that holds objects (or, with versioning,
old versions and delete markers), so every version goes first. The artifacts
bucket is not part of the stack; it is emptied and removed only when asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from catdog.errors import DeploymentFailed, NotFound
from hosts.deploy.clients import DeployClients
from hosts.deploy.stack import failure_reasons, stack_buckets, stack_parameters, stack_status

Say = Callable[[str], None]
_DELETE_BATCH = 1000  # the most keys one DeleteObjects call takes


@dataclass(frozen=True)
class DestroyPlan:
    stack: str
    region: str
    buckets: tuple[str, ...]
    artifacts_bucket: str | None

    def describe(self) -> list[str]:
        lines = [f"stack {self.stack} in {self.region}: DELETE"]
        lines.extend(f"  empty bucket {bucket}" for bucket in self.buckets)
        if self.artifacts_bucket:
            lines.append(f"  empty and delete artifacts bucket {self.artifacts_bucket}")
        return lines


def plan_destroy(clients: DeployClients, stack: str, purge_artifacts: bool = False) -> DestroyPlan:
    if stack_status(clients.cloudformation, stack) is None:
        raise NotFound(f"no stack named {stack} in {clients.region}")
    artifacts = None
    if purge_artifacts:
        artifacts = stack_parameters(clients.cloudformation, stack).get("ArtifactsBucket") or None
    return DestroyPlan(
        stack, clients.region, tuple(stack_buckets(clients.cloudformation, stack)), artifacts
    )


def execute_destroy(
    clients: DeployClients, plan: DestroyPlan, say: Say, poll_seconds: int = 10
) -> None:
    for bucket in plan.buckets:
        say(f"emptying {bucket}: {empty_bucket(clients.s3, bucket)} objects deleted")
    say(f"deleting stack {plan.stack}")
    cfn = clients.cloudformation
    cfn.delete_stack(StackName=plan.stack)
    try:
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=plan.stack, WaiterConfig={"Delay": poll_seconds, "MaxAttempts": 720}
        )
    except WaiterError:
        reasons = "\n  ".join(failure_reasons(cfn, plan.stack)) or "unknown reason"
        raise DeploymentFailed(f"stack {plan.stack} was not deleted:\n  {reasons}") from None
    if plan.artifacts_bucket:
        deleted = empty_bucket(clients.s3, plan.artifacts_bucket)
        clients.s3.delete_bucket(Bucket=plan.artifacts_bucket)
        say(f"deleted artifacts bucket {plan.artifacts_bucket} ({deleted} objects)")


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker; returns how many. A bucket that
    is already gone counts as empty."""
    deleted = 0
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        batch: list[dict[str, str]] = []
        for page in pages:
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                batch.append({"Key": item["Key"], "VersionId": item["VersionId"]})
                if len(batch) == _DELETE_BATCH:
                    deleted += _delete(s3, bucket, batch)
                    batch = []
        if batch:
            deleted += _delete(s3, bucket, batch)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return deleted
        raise
    return deleted


def _delete(s3: Any, bucket: str, batch: list[dict[str, str]]) -> int:
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    errors = answer.get("Errors", [])
    if errors:
        first = errors[0]
        raise DeploymentFailed(
            f"could not empty {bucket}: {first.get('Key')}: {first.get('Message')}"
        )
    return len(batch)
