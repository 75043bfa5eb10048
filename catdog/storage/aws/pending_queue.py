"""The AWS adapter of ``catdog.pending.PendingQueue``: an SQS queue."""

from __future__ import annotations

import json
from typing import Any

from catdog.errors import ServiceUnavailable


class SqsPendingQueue:
    """One message per pending upload (body ``{"key": ...}``)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def announce(self, key: str) -> None:
        """Raises ServiceUnavailable when SQS refuses (the image then stays pending
        in the catalog, found by its pending index; see docs/aws.md)."""
        try:
            self._client.send_message(
                QueueUrl=self._queue_url, MessageBody=json.dumps({"key": key})
            )
        except Exception as exc:  # botocore's errors: one domain error for the caller
            raise ServiceUnavailable(f"cannot announce pending image {key!r}: {exc}") from exc

    def retry_later(self, receipt: str, delay_seconds: int) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=receipt, VisibilityTimeout=delay_seconds
        )
