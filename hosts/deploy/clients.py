"""The AWS clients deployment uses, built in one place (the only boto3 import here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3


@dataclass(frozen=True)
class DeployClients:
    """CloudFormation, S3 and STS clients of one account and region."""

    cloudformation: Any
    s3: Any
    sts: Any
    region: str


def deploy_clients(region: str | None = None, session: Any = None) -> DeployClients:
    """Clients for ``region`` (else the session's default region, else us-east-1)."""
    session = session or boto3.session.Session()
    region = region or session.region_name or "us-east-1"
    return DeployClients(
        cloudformation=session.client("cloudformation", region_name=region),
        s3=session.client("s3", region_name=region),
        sts=session.client("sts", region_name=region),
        region=region,
    )
