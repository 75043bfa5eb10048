"""What only the AWS adapters face: DynamoDB's transaction conflicts, endpoints, setup.

moto never reports TransactionConflict (real DynamoDB does when two transactions
touch one item at once), so a client wrapper injects it; the adapters must retry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer

from catdog.domain import CatalogCounts, ModelStatus, ModelVersion, Trigger
from catdog.settings import AwsResources, Settings
from catdog.storage.aws import S3BlobStore, build_aws_storage, create_aws_resources
from catdog.storage.aws.schema import IMAGE_INDEXES, bucket_names
from catdog.storage.ports import Storage

from .support import MakeImage, at


class ConflictingClient:
    """A DynamoDB client whose next ``conflicts`` transactions are cancelled by a conflict."""

    def __init__(self, client: Any, conflicts: int) -> None:
        self._client = client
        self.conflicts = conflicts
        self.cancelled = 0

    def transact_write_items(self, **kwargs: Any) -> Any:
        if self.conflicts > 0:
            self.conflicts -= 1
            self.cancelled += 1
            reasons = [{"Code": "None"} for _ in kwargs["TransactItems"]]
            reasons[0] = {"Code": "TransactionConflict", "Message": "conflict"}
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                    "CancellationReasons": reasons,
                },
                "TransactWriteItems",
            )
        return self._client.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class RecordingClient:
    """A DynamoDB client that records each call's name and how many items it returned."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method) or name.startswith(("get_paginator", "get_waiter")):
            return method

        def call(**kwargs: Any) -> Any:
            response = method(**kwargs)
            self.calls.append((name, len(response.get("Items", []))))
            return response

        return call


@pytest.fixture
def aws_settings() -> Settings:
    return Settings(backend="aws", aws=AwsResources(region="eu-west-1"))


@pytest.fixture
def conflicting(
    aws_settings: Settings, aws_session: boto3.session.Session
) -> Iterator[tuple[Storage, ConflictingClient]]:
    with mock_aws():
        create_aws_resources(aws_settings, aws_session)
        client = ConflictingClient(aws_session.client("dynamodb", region_name="eu-west-1"), 0)
        storage = build_aws_storage(aws_settings, session=aws_session, dynamodb_client=client)
        yield storage, client


def test_transaction_conflicts_are_retried(
    conflicting: tuple[Storage, ConflictingClient], make_image: MakeImage
) -> None:
    storage, client = conflicting
    client.conflicts = 3
    storage.catalog.create(make_image("a"))
    client.conflicts = 2
    storage.catalog.set_label("a", "cat", "alice", at(1))
    client.conflicts = 2
    run = storage.runs.create("run-1", Trigger.MANUAL, at(1))
    storage.registry.register(ModelVersion("v1", "models/v1", ModelStatus.CANDIDATE, at(1)))
    client.conflicts = 2
    storage.registry.promote("v1", None, "pipeline", "first", at(2))

    assert client.cancelled == 9
    assert storage.catalog.counts() == CatalogCounts(images=1, labeled=1)
    assert len(storage.catalog.label_history("a")) == 1
    assert storage.runs.active() == run
    assert len(storage.registry.history()) == 1


def test_create_aws_resources_is_idempotent_and_makes_every_index(
    aws_settings: Settings, aws_session: boto3.session.Session
) -> None:
    with mock_aws():
        create_aws_resources(aws_settings, aws_session)
        create_aws_resources(aws_settings, aws_session)

        dynamodb = aws_session.client("dynamodb", region_name="eu-west-1")
        table = dynamodb.describe_table(TableName=aws_settings.aws.images_table)["Table"]
        s3 = aws_session.client("s3", region_name="eu-west-1")
        buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}

    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
        index.name for index in IMAGE_INDEXES
    }
    assert buckets == {"catdog-images", "catdog-models", "catdog-static"}


def test_adapters_reach_aws_through_an_endpoint_url(
    aws_session: boto3.session.Session, make_image: MakeImage
) -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        aws = AwsResources(region="us-east-1", endpoint_url=f"http://{host}:{port}")
        settings = Settings(backend="aws", aws=aws)
        create_aws_resources(settings, aws_session)
        storage = build_aws_storage(settings, session=aws_session)

        storage.blobs.put("images", "original/a.jpg", b"jpeg", "image/jpeg")
        storage.catalog.create(make_image("a.jpg"))

        assert storage.blobs.get("images", "original/a.jpg").content_type == "image/jpeg"
        assert [r.key for r in storage.catalog.list_all().items] == ["a.jpg"]
    finally:
        server.stop()


def test_listings_read_one_page_and_never_scan(
    aws_settings: Settings, aws_session: boto3.session.Session, make_image: MakeImage
) -> None:
    with mock_aws():
        create_aws_resources(aws_settings, aws_session)
        client = RecordingClient(aws_session.client("dynamodb", region_name="eu-west-1"))
        storage = build_aws_storage(aws_settings, session=aws_session, dynamodb_client=client)
        for i in range(60):
            storage.catalog.create(make_image(f"k{i:02d}", uploaded=i, prediction=("cat", 0.9)))
        client.calls.clear()

        page = storage.catalog.list_all(limit=5)
        storage.catalog.list_all(cursor=page.next_cursor, limit=5)
        storage.catalog.list_by_prediction("cat", limit=5)
        storage.catalog.list_unlabeled_by_uncertainty(limit=5)
        storage.catalog.find_by_sha256("sha-k07")

    assert client.calls == [("query", 6), ("query", 6), ("query", 6), ("query", 6), ("query", 1)]


def test_blob_listing_follows_every_s3_page(
    aws_settings: Settings, aws_session: boto3.session.Session
) -> None:
    names = [f"v{i}/model.keras" for i in range(7)]
    with mock_aws():
        create_aws_resources(aws_settings, aws_session)
        s3 = aws_session.client("s3", region_name="eu-west-1")
        blobs = S3BlobStore(s3, bucket_names(aws_settings.aws), page_size=2)
        for name in names:
            blobs.put("models", name, b"", "application/octet-stream")

        assert list(blobs.list("models")) == names
        assert list(blobs.list("models", "v6")) == ["v6/model.keras"]
