"""The AWS clients deployment uses, built in one place (the only boto3 import here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from hosts.deploy.smoke import SmokeClients, SmokeHttp


@dataclass(frozen=True)
class DeployClients:
    """CloudFormation, S3 and STS clients of one account and region."""

    cloudformation: Any
    s3: Any
    sts: Any
    region: str


def deploy_clients(region: str | None = None, session: Any = None) -> DeployClients:
    """Clients for ``region`` (else the session's default region, else us-east-1)."""
    session, region = _session(region, session)
    return DeployClients(
        cloudformation=session.client("cloudformation", region_name=region),
        s3=session.client("s3", region_name=region),
        sts=session.client("sts", region_name=region),
        region=region,
    )


def smoke_clients(http: SmokeHttp, region: str | None = None, session: Any = None) -> SmokeClients:
    """What ``catdog smoke`` reads besides the API (the stack and its alarms), and ``http``."""
    session, region = _session(region, session)
    return SmokeClients(
        cloudformation=session.client("cloudformation", region_name=region),
        cloudwatch=session.client("cloudwatch", region_name=region),
        http=http,
    )


def _session(region: str | None, session: Any) -> tuple[Any, str]:
    """The session (a default one when None) and the region: given, else the session's,
    else us-east-1."""
    session = session or boto3.session.Session()
    return session, region or session.region_name or "us-east-1"
