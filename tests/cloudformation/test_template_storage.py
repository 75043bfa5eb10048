"""Buckets and tables: exactly what catdog/storage/aws/schema.py describes, locked down."""

from __future__ import annotations

from typing import Any

from catdog.settings import AwsResources
from catdog.storage.aws.schema import table_definitions
from tests.cloudformation.support import of_type, render_name


def _by_name(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tables = of_type(resources, "AWS::DynamoDB::Table")
    return {render_name(t["Properties"]["TableName"]): t["Properties"] for t in tables.values()}


def _key_schema(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


def test_the_template_creates_exactly_the_schema_tables(resources):
    expected = {d["TableName"]: d for d in table_definitions(AwsResources())}
    assert set(_by_name(resources)) == set(expected)


def test_every_table_has_the_schema_keys_attributes_and_indexes(resources):
    tables = _by_name(resources)
    for definition in table_definitions(AwsResources()):
        table = tables[definition["TableName"]]
        assert table["BillingMode"] == definition["BillingMode"] == "PAY_PER_REQUEST"
        assert _key_schema(table["KeySchema"]) == _key_schema(definition["KeySchema"])
        declared = {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]}
        wanted = {
            (a["AttributeName"], a["AttributeType"]) for a in definition["AttributeDefinitions"]
        }
        assert declared == wanted, definition["TableName"]
        indexes = {
            i["IndexName"]: (_key_schema(i["KeySchema"]), i["Projection"])
            for i in table.get("GlobalSecondaryIndexes", [])
        }
        wanted_indexes = {
            i["IndexName"]: (_key_schema(i["KeySchema"]), i["Projection"])
            for i in definition.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == wanted_indexes, definition["TableName"]


def test_tables_are_encrypted_and_recoverable(resources):
    for name, table in _by_name(resources).items():
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["SSESpecification"] == {"SSEEnabled": True}, name


def test_buckets_are_encrypted_private_and_tls_only(resources):
    buckets = of_type(resources, "AWS::S3::Bucket")
    assert set(buckets) == {"ImagesBucket", "ModelsBucket", "StaticBucket"}
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
        for p in of_type(resources, "AWS::S3::BucketPolicy").values()
    }
    for logical_id, bucket in buckets.items():
        properties = bucket["Properties"]
        rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        assert all(properties["PublicAccessBlockConfiguration"].values())
        assert len(properties["PublicAccessBlockConfiguration"]) == 4
        statements = policies[logical_id]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), logical_id


def test_only_the_models_bucket_keeps_versions(resources):
    versioned = {
        logical_id
        for logical_id, bucket in of_type(resources, "AWS::S3::Bucket").items()
        if bucket["Properties"].get("VersioningConfiguration", {}).get("Status") == "Enabled"
    }
    assert versioned == {"ModelsBucket"}


def test_bucket_names_default_to_the_settings_names_with_account_and_region(resources):
    aws = AwsResources()
    for logical_id, default in (
        ("ImagesBucket", aws.images_bucket),
        ("ModelsBucket", aws.models_bucket),
        ("StaticBucket", aws.static_bucket),
    ):
        name = render_name(resources[logical_id]["Properties"]["BucketName"])
        assert name == default + "-${AWS::AccountId}-${AWS::Region}"
