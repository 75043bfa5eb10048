"""Pending classification: uploads the inference tier could not classify at once.

An upload is stored first; when the inference tier does not answer, its record
stays "pending" and the upload is announced on a ``PendingQueue``. Two adapters:

- locally, ``CatalogScan``: announcing does nothing, because ``catdog up``'s
  ``PendingClassifier`` finds pending records by scanning the catalog;
- on AWS, ``SqsPendingQueue`` (``catdog/storage/aws/pending_queue.py``): one SQS
  message per upload, consumed by the classify-pending Lambda
  (``classify_announced`` below). A message whose image cannot be classified yet
  is hidden for an exponentially growing delay, and after the queue's
  ``maxReceiveCount`` deliveries it moves to a dead-letter queue; the record
  stays pending either way, so nothing is lost.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from catdog.classification import Outcome, Predictor, classify_key
from catdog.errors import InvalidInput, ServiceUnavailable
from catdog.storage.ports import Storage

log = logging.getLogger(__name__)


class PendingQueue(Protocol):
    def announce(self, key: str) -> None:
        """Say that the image under ``key`` is stored but not classified yet."""
        ...

    def retry_later(self, receipt: str, delay_seconds: int) -> None:
        """Deliver the received message ``receipt`` again in ``delay_seconds``."""
        ...


class CatalogScan:
    """The local adapter: pending records are found in the catalog, not announced."""

    def announce(self, key: str) -> None:
        return None

    def retry_later(self, receipt: str, delay_seconds: int) -> None:
        return None


@dataclass(frozen=True)
class PendingMessage:
    """One announcement as received: the image key, the receipt, the delivery count."""

    key: str
    receipt: str
    attempt: int


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: int
    max_seconds: int

    def delay(self, attempt: int) -> int:
        """``base * 2^(attempt - 1)`` seconds, capped at ``max_seconds``."""
        exponent = min(max(attempt, 1) - 1, 30)
        return int(min(self.base_seconds * 2**exponent, self.max_seconds))


@dataclass
class BatchResult:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    deferred: list[str] = field(default_factory=list)


def classify_announced(
    storage: Storage,
    predictor: Predictor,
    queue: PendingQueue,
    messages: list[PendingMessage],
    retry: RetryPolicy,
) -> BatchResult:
    """Classify the announced images in order.

    At the first ServiceUnavailable the tier is down: that message and every one
    after it is deferred with ``retry.delay(attempt)`` and listed in ``deferred``
    (the caller then fails the batch, so they are not deleted).
    """
    result = BatchResult()
    for index, message in enumerate(messages):
        try:
            result.outcomes[message.key] = classify_key(storage, predictor, message.key)
        except ServiceUnavailable as exc:
            log.info("inference tier unavailable, deferring %d images: %s", len(messages), exc)
            for later in messages[index:]:
                queue.retry_later(later.receipt, retry.delay(later.attempt))
                result.deferred.append(later.key)
            break
    return result


@dataclass(frozen=True)
class PendingDeps:
    """What the classify-pending consumer needs (built once per Lambda container)."""

    storage: Storage
    predictor: Predictor
    queue: PendingQueue
    retry: RetryPolicy


def parse_sqs_event(event: dict[str, Any]) -> list[PendingMessage]:
    """The messages of a Lambda SQS event (``Records`` with ``body`` ``{"key": ...}``)."""
    messages = []
    for record in event.get("Records", []):
        try:
            key = json.loads(record["body"])["key"]
            receipt = record["receiptHandle"]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"not a pending-image message: {exc!r}") from exc
        attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        messages.append(PendingMessage(str(key), str(receipt), attempt))
    return messages
