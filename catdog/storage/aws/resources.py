"""Create the buckets and tables for tests and emulated AWS (CloudFormation does it on AWS)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from catdog.settings import Settings
from catdog.storage.aws.clients import aws_clients
from catdog.storage.aws.schema import bucket_names, table_definitions


def create_aws_resources(settings: Settings, session: Any = None) -> None:
    """Create every bucket and table in ``schema``; resources that already exist are kept."""
    s3, dynamodb = aws_clients(settings, session)
    for bucket in bucket_names(settings.aws).values():
        _create_bucket(s3, bucket, settings.aws.region)
    for definition in table_definitions(settings.aws):
        try:
            dynamodb.create_table(**definition)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
    waiter = dynamodb.get_waiter("table_exists")
    for definition in table_definitions(settings.aws):
        waiter.wait(TableName=definition["TableName"], WaiterConfig={"Delay": 1})


def _create_bucket(s3: Any, bucket: str, region: str) -> None:
    arguments: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":  # us-east-1 is the one region that rejects a location
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**arguments)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise
