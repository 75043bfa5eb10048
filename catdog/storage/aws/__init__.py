"""AWS adapters: S3 for blobs, DynamoDB for the rest. The only modules that import boto3.

Table and bucket layout: ``catdog.storage.aws.schema``.
"""

from __future__ import annotations

from typing import Any

from catdog.settings import Settings
from catdog.storage.aws.alerts import DynamoAlerts
from catdog.storage.aws.blobs import S3BlobStore
from catdog.storage.aws.catalog import DynamoImageCatalog
from catdog.storage.aws.clients import aws_clients
from catdog.storage.aws.registry import DynamoModelRegistry
from catdog.storage.aws.resources import create_aws_resources
from catdog.storage.aws.runs import DynamoTrainingRuns
from catdog.storage.aws.schema import bucket_names
from catdog.storage.aws.settings_store import DynamoSettingsStore
from catdog.storage.ports import Storage


def build_aws_storage(
    settings: Settings,
    *,
    session: Any = None,
    s3_client: Any = None,
    dynamodb_client: Any = None,
) -> Storage:
    """Every adapter on AWS; clients come from ``session`` unless given (tests inject them)."""
    if s3_client is None or dynamodb_client is None:
        s3, dynamodb = aws_clients(settings, session)
        s3_client = s3_client or s3
        dynamodb_client = dynamodb_client or dynamodb
    aws = settings.aws
    return Storage(
        blobs=S3BlobStore(s3_client, bucket_names(aws)),
        catalog=DynamoImageCatalog(dynamodb_client, aws.images_table),
        settings=DynamoSettingsStore(dynamodb_client, aws.settings_table),
        runs=DynamoTrainingRuns(dynamodb_client, aws.runs_table),
        registry=DynamoModelRegistry(dynamodb_client, aws.models_table),
        alerts=DynamoAlerts(dynamodb_client, aws.runs_table),
    )


__all__ = [
    "DynamoImageCatalog",
    "DynamoModelRegistry",
    "DynamoSettingsStore",
    "DynamoTrainingRuns",
    "S3BlobStore",
    "build_aws_storage",
    "create_aws_resources",
]
