"""Pending classification: announcing an unclassified upload, and consuming announcements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catdog.composition import build_ingest
from catdog.domain import Prediction
from catdog.errors import InvalidImage, InvalidInput, ServiceUnavailable
from catdog.pending import (
    PendingMessage,
    PendingQueue,
    RetryPolicy,
    classify_announced,
    parse_sqs_event,
)
from catdog.settings import Settings
from catdog.storage.aws.pending_queue import SqsPendingQueue
from catdog.storage.ports import Storage
from tests.core.test_classification import Result, ScriptedPredictor
from tests.factories import noise_image_bytes
from tests.web.fakes import FakeInference
from web.uploads import UploadService
from web.url_import import UrlImporter

RETRY = RetryPolicy(base_seconds=30, max_seconds=900)


class RecordingQueue(PendingQueue):
    def __init__(self, refuse: bool = False) -> None:
        self.announced: list[str] = []
        self.retries: list[tuple[str, int]] = []
        self.refuse = refuse

    def announce(self, key: str) -> None:
        if self.refuse:
            raise ServiceUnavailable("SQS is down too")
        self.announced.append(key)

    def retry_later(self, receipt: str, delay_seconds: int) -> None:
        self.retries.append((receipt, delay_seconds))


def _message(key: str, attempt: int = 1) -> PendingMessage:
    return PendingMessage(key, f"receipt-{key}", attempt)


def _store(settings: Settings, storage: Storage, *keys: str) -> None:
    ingest = build_ingest(settings, storage)
    for seed, key in enumerate(keys):
        ingest.ingest(key, noise_image_bytes(seed))


def test_the_delay_doubles_from_the_base_up_to_the_cap() -> None:
    assert [RETRY.delay(attempt) for attempt in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]
    assert RETRY.delay(10_000) == 900
    assert RETRY.delay(0) == 30


def test_announced_images_are_classified_and_the_rest_deferred_when_the_tier_goes_down(
    settings: Settings, storage: Storage
) -> None:
    _store(settings, storage, "a", "b", "c")
    queue = RecordingQueue()
    predictor = ScriptedPredictor([Result("cat", 0.9, "v1"), ServiceUnavailable("down")])
    messages = [_message("a"), _message("b", attempt=3), _message("c", attempt=7)]

    result = classify_announced(storage, predictor, queue, messages, RETRY)

    assert result.outcomes == {"a": "classified"}
    assert result.deferred == ["b", "c"]
    assert queue.retries == [("receipt-b", 120), ("receipt-c", 900)]
    assert storage.catalog.get("a").prediction == Prediction("cat", 0.9, "v1")
    assert {r.key for r in storage.catalog.list_pending()} == {"b", "c"}


def test_a_redelivered_or_deleted_image_is_left_alone_and_a_refused_one_is_dropped(
    settings: Settings, storage: Storage
) -> None:
    _store(settings, storage, "done", "odd")
    storage.catalog.set_prediction("done", Prediction("dog", 0.8, "v1"))
    predictor = ScriptedPredictor([InvalidImage("not a photo")])
    messages = [_message("done"), _message("never-stored"), _message("odd")]

    result = classify_announced(storage, predictor, RecordingQueue(), messages, RETRY)

    assert result.outcomes == {
        "done": "already_classified",
        "never-stored": "gone",
        "odd": "refused",
    }
    assert result.deferred == []
    assert len(predictor.seen) == 1  # only "odd" was sent to the tier
    assert storage.catalog.get("done").prediction == Prediction("dog", 0.8, "v1")


def test_an_sqs_event_becomes_messages_with_their_delivery_counts() -> None:
    event = {
        "Records": [
            {"body": '{"key": "k1"}', "receiptHandle": "r1", "attributes": {}},
            {
                "body": '{"key": "k2"}',
                "receiptHandle": "r2",
                "attributes": {"ApproximateReceiveCount": "5"},
            },
        ]
    }
    assert parse_sqs_event(event) == [PendingMessage("k1", "r1", 1), PendingMessage("k2", "r2", 5)]
    with pytest.raises(InvalidInput):
        parse_sqs_event({"Records": [{"body": "not json", "receiptHandle": "r"}]})


def _uploads(settings: Settings, storage: Storage, queue: RecordingQueue) -> UploadService:
    return UploadService(
        build_ingest(settings, storage),
        storage.catalog,
        FakeInference(down=True),
        UrlImporter(settings.max_upload_bytes, settings.url_import_timeout_s),
        settings.unsure_threshold,
        queue,
    )


def test_an_upload_the_tier_cannot_classify_is_stored_pending_and_announced(
    settings: Settings, storage: Storage
) -> None:
    queue = RecordingQueue()
    view = _uploads(settings, storage, queue).upload("late", noise_image_bytes(5))
    assert view.pending
    assert queue.announced == ["late"]


def test_an_announcement_that_fails_never_fails_the_upload(
    settings: Settings, storage: Storage
) -> None:
    view = _uploads(settings, storage, RecordingQueue(refuse=True)).upload(
        "x", noise_image_bytes(6)
    )
    assert view.pending
    assert [r.key for r in storage.catalog.list_pending()] == ["x"]


@pytest.fixture
def sqs() -> Iterator[tuple[Any, str]]:
    """moto's SQS: the client (boto3's clients are untyped here) and the queue url."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )
    with mock_aws():
        client = session.client("sqs", region_name="eu-west-1")
        url = client.create_queue(QueueName="pending")["QueueUrl"]
        yield client, url


def test_the_sqs_adapter_announces_one_message_and_hides_it_for_the_backoff(
    sqs: tuple[Any, str],
) -> None:
    client, url = sqs
    queue = SqsPendingQueue(client, url)
    queue.announce("cat-1")

    (received,) = client.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])[
        "Messages"
    ]
    (message,) = parse_sqs_event(
        {
            "Records": [
                {
                    "body": received["Body"],
                    "receiptHandle": received["ReceiptHandle"],
                    "attributes": received["Attributes"],
                }
            ]
        }
    )
    assert (message.key, message.attempt) == ("cat-1", 1)

    queue.retry_later(message.receipt, 600)
    assert "Messages" not in client.receive_message(QueueUrl=url)
    queue.retry_later(message.receipt, 0)
    (again,) = client.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])[
        "Messages"
    ]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_the_sqs_adapter_reports_a_refused_send_as_service_unavailable(
    sqs: tuple[Any, str],
) -> None:
    client, url = sqs
    with pytest.raises(ServiceUnavailable):
        SqsPendingQueue(client, url + "-missing").announce("k")
