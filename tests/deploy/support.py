"""Shared by the deployment and emulated-AWS tests: an offline installer, moto fixes.

moto 5.2.5 differs from AWS in two ways that matter to ``catdog deploy``;
``patch_moto`` makes it behave like AWS for them (each patch says why).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from moto.cloudformation.models import ChangeSet
from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket

from hosts.deploy.dependencies import DependencyInstaller

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


class FixedInstaller(DependencyInstaller):
    """Stands in for pip: the same small files every time (plus junk that must be left out)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def install(self, requirements: Sequence[str], target: Path) -> None:
        self.calls.append(tuple(requirements))
        (target / "fixeddep").mkdir(parents=True)
        (target / "fixeddep" / "__init__.py").write_text("VERSION = '1.0'\n")
        (target / "fixeddep" / "__pycache__").mkdir()
        (target / "fixeddep" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
        (target / "fixeddep-1.0.dist-info").mkdir()
        (target / "fixeddep-1.0.dist-info" / "RECORD").write_text("fixeddep/__init__.py,,\n")
        (target / "bin").mkdir()
        (target / "bin" / "fixeddep").write_text("#!/usr/bin/python\n")


def fake_credentials(patch: pytest.MonkeyPatch) -> None:
    """Credentials that can only reach moto, and no profile or endpoint from the machine."""
    for name, value in FAKE_CREDENTIALS.items():
        patch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        patch.delenv(name, raising=False)


def patch_moto(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(FakeBucket, "get_permission", _permission_over_tls)
    patch.setattr(ChangeSet, "apply", _apply_with_outputs)


_moto_get_permission = FakeBucket.get_permission
_moto_apply = ChangeSet.apply


def _permission_over_tls(bucket: FakeBucket, action: str, resource: str) -> Any:
    """moto ignores policy conditions, so the artifacts bucket's TLS-only Deny would deny
    everything; evaluate the policy as AWS does for our (TLS) requests: without it."""
    if bucket.policy is None:
        return _moto_get_permission(bucket, action, resource)
    policy = json.loads(bucket.policy)
    tls_only = {"Bool": {"aws:SecureTransport": "false"}}
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Condition") != tls_only]
    if not policy["Statement"]:
        return PermissionResult.NEUTRAL
    original = bucket.policy
    bucket.policy = json.dumps(policy).encode()
    try:
        return _moto_get_permission(bucket, action, resource)
    finally:
        bucket.policy = original


def _apply_with_outputs(change_set: ChangeSet) -> None:
    """moto 5.2 creates the stack of a CREATE change set with an empty template and
    builds its outputs from that, so they all come back empty; rebuild them from the
    change set's template once its resources exist."""
    _moto_apply(change_set)
    stack = change_set.stack
    stack.template = change_set.template
    stack._parse_template()
    stack.output_map = stack._create_output_map()
