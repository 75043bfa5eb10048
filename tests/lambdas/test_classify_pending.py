"""ClassifyPending: the SQS consumer classifies what it can and keeps the rest queued."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catdog.composition import build_ingest
from catdog.errors import ServiceUnavailable
from catdog.pending import PendingDeps, RetryPolicy
from catdog.settings import Settings
from catdog.storage.ports import Storage
from lambdas import handlers
from tests.core.test_classification import Result, ScriptedPredictor
from tests.core.test_pending import RecordingQueue
from tests.factories import noise_image_bytes

EVENT = json.loads((Path(__file__).parent / "events" / "pending_batch.json").read_text())


def _deps(settings: Settings, storage: Storage, answers: list[object]) -> PendingDeps:
    ingest = build_ingest(settings, storage)
    ingest.ingest("cat-1", noise_image_bytes(1))
    ingest.ingest("dog-1", noise_image_bytes(2))
    return PendingDeps(storage, ScriptedPredictor(answers), RecordingQueue(), RetryPolicy(30, 900))


def test_a_batch_the_tier_answers_is_classified(settings: Settings, storage: Storage) -> None:
    deps = _deps(settings, storage, [Result("cat", 0.9, "v1"), Result("dog", 0.7, "v1")])
    answer = handlers.classify_pending(EVENT, None, deps)
    assert answer == {"outcomes": {"cat-1": "classified", "dog-1": "classified"}}
    assert storage.catalog.list_pending() == []


def test_a_batch_the_tier_cannot_answer_fails_after_setting_the_backoff(
    settings: Settings, storage: Storage
) -> None:
    deps = _deps(settings, storage, [Result("cat", 0.9, "v1"), ServiceUnavailable("down")])
    with pytest.raises(ServiceUnavailable):
        handlers.classify_pending(EVENT, None, deps)
    assert isinstance(deps.queue, RecordingQueue)
    assert deps.queue.retries == [("receipt-dog", 240)]  # its fourth delivery
    assert [r.key for r in storage.catalog.list_pending()] == ["dog-1"]
