"""Storage adapters for the settings: local files and SQLite, or S3, DynamoDB and
SQS (``settings.backend``)."""

from __future__ import annotations

from catdog.pending import CatalogScan, PendingQueue
from catdog.settings import Settings
from catdog.storage.ports import Storage


def build_storage(settings: Settings) -> Storage:
    if settings.backend == "aws":
        from catdog.storage.aws import build_aws_storage

        return build_aws_storage(settings)
    from catdog.storage.local import build_local_storage

    return build_local_storage(settings)


def build_pending_queue(settings: Settings) -> PendingQueue:
    """SQS on AWS (when the stack gives a queue); locally the catalog is scanned instead."""
    if settings.backend == "aws" and settings.aws.pending_queue_url:
        from catdog.storage.aws.clients import service_client
        from catdog.storage.aws.pending_queue import SqsPendingQueue

        return SqsPendingQueue(service_client(settings, "sqs"), settings.aws.pending_queue_url)
    return CatalogScan()
