"""AWS adapter: the boto3 clients the pipeline uses, built from the settings.

The only pipeline module that imports boto3. Locally the Step Functions and
Lambda clients point at the moto server that ``catdog up`` runs on
``127.0.0.1:<CATDOG_STEPFUNCTIONS_PORT>``, with placeholder credentials.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from catdog.settings import Settings

# Served by the local moto server of `catdog up` (IAM only to hold the functions' role).
LOCAL_SERVICES = frozenset({"stepfunctions", "lambda", "iam"})
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


def local_endpoint(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _client(service: str, settings: Settings, timeout: float) -> Any:
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2})
    if settings.backend == "local" and service in LOCAL_SERVICES:
        return boto3.client(
            service,
            region_name=settings.aws.region,
            endpoint_url=local_endpoint(settings.stepfunctions_port),
            config=config,
            **LOCAL_CREDENTIALS,
        )
    return boto3.client(
        service,
        region_name=settings.aws.region,
        endpoint_url=settings.aws.endpoint_url,
        config=config,
    )


def stepfunctions_client(settings: Settings, timeout: float = 10.0) -> Any:
    return _client("stepfunctions", settings, timeout)


def lambda_client(settings: Settings, timeout: float = 10.0) -> Any:
    return _client("lambda", settings, timeout)


def ec2_client(settings: Settings, timeout: float = 10.0) -> Any:
    return _client("ec2", settings, timeout)


def iam_client(settings: Settings, timeout: float = 10.0) -> Any:
    return _client("iam", settings, timeout)


def autoscaling_client(settings: Settings, timeout: float = 10.0) -> Any:
    return _client("autoscaling", settings, timeout)
