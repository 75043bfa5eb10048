"""Reading a CloudFormation stack: whether it exists, its outputs, why it failed."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from catdog.errors import Conflict

# A stack in one of these is mid-operation: wait for it instead of starting another.
_BUSY_SUFFIX = "_IN_PROGRESS"
# Stacks that cannot be updated: a first creation that rolled back (delete it), a
# failed deletion, or an update whose rollback failed (continue the rollback first).
_DEAD = frozenset(
    {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"}
)


class StackAction(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"


def stack_status(cloudformation: Any, stack: str) -> str | None:
    """The stack's status, or None when there is no such (live) stack."""
    try:
        answer = cloudformation.describe_stacks(StackName=stack)
    except ClientError as error:
        if _is_missing(error):
            return None
        raise
    status = str(answer["Stacks"][0]["StackStatus"])
    return None if status == "DELETE_COMPLETE" else status


def action_for(stack: str, status: str | None) -> StackAction:
    """CREATE for a missing stack, UPDATE for a settled one; refuse busy or dead stacks."""
    if status is None or status == "REVIEW_IN_PROGRESS":  # no stack, or one never executed
        return StackAction.CREATE
    if status.endswith(_BUSY_SUFFIX):
        raise Conflict(f"stack {stack} is {status}; wait for it to finish")
    if status in _DEAD:
        raise Conflict(f"stack {stack} is {status}; run `catdog destroy --stack {stack}` first")
    return StackAction.UPDATE


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    answer = cloudformation.describe_stacks(StackName=stack)
    outputs = answer["Stacks"][0].get("Outputs", [])
    return {str(o["OutputKey"]): str(o["OutputValue"]) for o in outputs}


def stack_parameters(cloudformation: Any, stack: str) -> dict[str, str]:
    answer = cloudformation.describe_stacks(StackName=stack)
    parameters = answer["Stacks"][0].get("Parameters", [])
    return {str(p["ParameterKey"]): str(p.get("ParameterValue", "")) for p in parameters}


def stack_buckets(cloudformation: Any, stack: str) -> list[str]:
    """Names of the S3 buckets the stack created."""
    paginator = cloudformation.get_paginator("list_stack_resources")
    return sorted(
        str(resource["PhysicalResourceId"])
        for page in paginator.paginate(StackName=stack)
        for resource in page["StackResourceSummaries"]
        if resource["ResourceType"] == "AWS::S3::Bucket" and resource.get("PhysicalResourceId")
    )


def failure_reasons(cloudformation: Any, stack: str, limit: int = 10) -> list[str]:
    """The most recent ``*_FAILED`` events: which resource failed, and why."""
    try:
        events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    except ClientError:
        return []
    failed = [e for e in events if str(e.get("ResourceStatus", "")).endswith("_FAILED")]
    return [
        f"{e['LogicalResourceId']} ({e['ResourceType']}): {e.get('ResourceStatusReason', '')}"
        for e in failed[:limit]
    ]


def _is_missing(error: ClientError) -> bool:
    # CloudFormation has no error code of its own for a missing stack: it answers
    # ValidationError "Stack with id NAME does not exist".
    message = str(error.response.get("Error", {}).get("Message", ""))
    return "does not exist" in message
