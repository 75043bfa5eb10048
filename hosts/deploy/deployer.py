"""``catdog deploy``: plan first (what is uploaded, create or update), then execute.

Executing uploads the missing artifacts to the artifacts bucket (created, private
and encrypted, when it does not exist), creates a change set from the template
there, executes it, waits, and returns the stack's outputs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from catdog.errors import DeploymentFailed, InvalidInput
from hosts.deploy.clients import DeployClients
from hosts.deploy.package import PackageManifest
from hosts.deploy.stack import StackAction, action_for, failure_reasons, stack_outputs
from hosts.deploy.stack import stack_status as read_stack_status

STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{1,19}$")
CAPABILITIES = ["CAPABILITY_IAM"]
ARTIFACT_PARAMETERS = {
    "LambdaBundleKey": "lambda",
    "WebBundleKey": "web",
    "AppBundleKey": "app",
    "DefinitionKey": "definition",
}
Say = Callable[[str], None]


@dataclass(frozen=True)
class Upload:
    name: str
    path: Path
    key: str
    needed: bool


@dataclass(frozen=True)
class DeployPlan:
    stack: str
    region: str
    action: StackAction
    bucket: str
    bucket_exists: bool
    uploads: tuple[Upload, ...]
    parameters: dict[str, str]
    template_key: str

    @property
    def template_url(self) -> str:
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{self.template_key}"

    @property
    def change_set_name(self) -> str:
        """The same for the same template and parameters (a retry finds its change set)."""
        inputs = repr((self.template_key, sorted(self.parameters.items())))
        return "catdog-" + hashlib.sha256(inputs.encode()).hexdigest()[:24]

    def describe(self) -> list[str]:
        lines = [f"stack {self.stack} in {self.region}: {self.action.value}"]
        state = "exists" if self.bucket_exists else "will be created (private, encrypted)"
        lines.append(f"artifacts bucket {self.bucket}: {state}")
        for upload in self.uploads:
            verb = "upload" if upload.needed else "keep  "
            lines.append(f"  {verb} s3://{self.bucket}/{upload.key}  ({upload.name})")
        lines.extend(f"  parameter {k}={v}" for k, v in sorted(self.parameters.items()))
        return lines


def default_bucket(stack: str, account: str, region: str) -> str:
    return f"{stack}-artifacts-{account}-{region}"


def plan_deploy(
    clients: DeployClients,
    manifest: PackageManifest,
    stack: str,
    bucket: str | None = None,
    overrides: Mapping[str, str] | None = None,
) -> DeployPlan:
    """Decide what ``execute_deploy`` will do; reads AWS, changes nothing."""
    if not STACK_NAME.match(stack):
        raise InvalidInput(
            f"stack name {stack!r}: 2-20 lower-case letters, digits or '-', starting with "
            "a letter (it prefixes every resource name)"
        )
    account = str(clients.sts.get_caller_identity()["Account"])
    bucket = bucket or default_bucket(stack, account, clients.region)
    exists = _bucket_exists(clients.s3, bucket)
    uploads = tuple(
        Upload(name, manifest.path(name), a.key, not exists or not _has(clients, bucket, a.key))
        for name, a in sorted(manifest.artifacts.items())
    )
    parameters = {"NamePrefix": stack, "ArtifactsBucket": bucket}
    parameters.update({p: manifest.artifacts[n].key for p, n in ARTIFACT_PARAMETERS.items()})
    parameters.update(overrides or {})
    action = action_for(stack, read_stack_status(clients.cloudformation, stack))
    return DeployPlan(
        stack, clients.region, action, bucket, exists, uploads, parameters,
        manifest.artifacts["template"].key,
    )  # fmt: skip


def execute_deploy(
    clients: DeployClients, plan: DeployPlan, say: Say, poll_seconds: int = 10
) -> dict[str, str]:
    """Carry out ``plan``; returns the stack outputs. Raises DeploymentFailed with the
    failed resources' reasons when the stack does not reach a complete state."""
    if not plan.bucket_exists:
        say(f"creating artifacts bucket {plan.bucket}")
        create_private_bucket(clients.s3, plan.bucket, plan.region)
    for upload in plan.uploads:
        if upload.needed:
            say(f"uploading {upload.name} -> s3://{plan.bucket}/{upload.key}")
            clients.s3.upload_file(str(upload.path), plan.bucket, upload.key)
    cfn = clients.cloudformation
    name = plan.change_set_name
    say(f"creating change set {name} ({plan.action.value})")
    cfn.create_change_set(
        StackName=plan.stack,
        ChangeSetName=name,
        ChangeSetType=plan.action.value,
        TemplateURL=plan.template_url,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in plan.parameters.items()],
        Capabilities=CAPABILITIES,
        Tags=[{"Key": "catdog:stack", "Value": plan.stack}],
    )
    waiter_config = {"Delay": poll_seconds, "MaxAttempts": 720}
    if not _change_set_ready(cfn, plan.stack, name, waiter_config):
        say("no changes: the stack already matches this package")
        return stack_outputs(cfn, plan.stack)
    say(f"executing change set {name}; waiting for the stack")
    cfn.execute_change_set(StackName=plan.stack, ChangeSetName=name)
    waiter_name = (
        "stack_create_complete" if plan.action is StackAction.CREATE else "stack_update_complete"
    )
    try:
        cfn.get_waiter(waiter_name).wait(StackName=plan.stack, WaiterConfig=waiter_config)
    except WaiterError as error:
        reasons = "\n  ".join(failure_reasons(cfn, plan.stack)) or str(error)
        raise DeploymentFailed(f"stack {plan.stack} did not deploy:\n  {reasons}") from None
    return stack_outputs(cfn, plan.stack)


def create_private_bucket(s3: Any, bucket: str, region: str) -> None:
    """A bucket with public access blocked, SSE-S3 encryption and TLS-only access."""
    arguments: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":  # the one region that rejects a location constraint
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**arguments)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=tls_only_policy(bucket, region))


def tls_only_policy(bucket: str, region: str) -> str:
    """A bucket policy refusing every request not made over TLS."""
    arn = f"arn:{_partition(region)}:s3:::{bucket}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TlsOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _change_set_ready(cfn: Any, stack: str, name: str, waiter_config: dict[str, int]) -> bool:
    """True when the change set can be executed; False when it holds no changes."""
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=stack, ChangeSetName=name, WaiterConfig=waiter_config
        )
        return True
    except WaiterError:
        answer = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
        reason = str(answer.get("StatusReason", ""))
        # CloudFormation reports an empty change set only in this text, with no code.
        if "didn't contain changes" in reason or "No updates are to be performed" in reason:
            cfn.delete_change_set(StackName=stack, ChangeSetName=name)
            return False
        raise DeploymentFailed(f"change set {name} failed: {reason}") from None


def _bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchBucket"):
            return False
        if code in ("403", "AccessDenied"):
            raise DeploymentFailed(
                f"bucket {bucket} exists but this account cannot use it; pass --bucket"
            ) from None
        raise


def _has(clients: DeployClients, bucket: str, key: str) -> bool:
    try:
        clients.s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
