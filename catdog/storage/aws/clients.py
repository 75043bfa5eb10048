"""boto3 clients for the AWS adapters, built from settings (never at import time)."""

from __future__ import annotations

from typing import Any

import boto3

from catdog.settings import Settings


def aws_clients(settings: Settings, session: Any = None) -> tuple[Any, Any]:
    """(S3 client, DynamoDB client) in ``settings.aws.region``, at its endpoint when set."""
    session = session or boto3.session.Session()
    options: dict[str, Any] = {"region_name": settings.aws.region}
    if settings.aws.endpoint_url:
        options["endpoint_url"] = settings.aws.endpoint_url
    return session.client("s3", **options), session.client("dynamodb", **options)


def service_client(settings: Settings, service: str, session: Any = None) -> Any:
    """One boto3 client for ``service`` (sqs, secretsmanager...) in ``settings.aws.region``,
    at its endpoint when set."""
    session = session or boto3.session.Session()
    options: dict[str, Any] = {"region_name": settings.aws.region}
    if settings.aws.endpoint_url:
        options["endpoint_url"] = settings.aws.endpoint_url
    return session.client(service, **options)
