from __future__ import annotations

from dataclasses import dataclass

from catdog.classification import Predictor, classify_pending
from catdog.composition import build_ingest
from catdog.errors import InvalidImage, ServiceUnavailable
from catdog.settings import Settings
from catdog.storage.ports import Storage
from tests.factories import noise_image_bytes


@dataclass
class Result:
    label: str
    confidence: float
    model_version: str


class ScriptedPredictor(Predictor):
    """Answers from a script: a Result, or an exception to raise."""

    def __init__(self, answers: list[object]) -> None:
        self.answers = answers
        self.seen: list[bytes] = []

    def predict(self, data: bytes, content_type: str) -> Result:
        self.seen.append(data)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, Result)
        return answer


def test_pending_images_get_classified(settings: Settings, storage: Storage) -> None:
    ingest = build_ingest(settings, storage)
    for i in range(3):
        ingest.ingest(f"k{i}", noise_image_bytes(i))
    predictor = ScriptedPredictor(
        [Result("cat", 0.9, "v1"), InvalidImage("odd"), Result("dog", 0.6, "v1")]
    )
    assert classify_pending(storage, predictor) == 2
    assert predictor.seen[0] == noise_image_bytes(0)
    k0 = storage.catalog.get("k0").prediction
    assert k0 is not None and (k0.label, k0.confidence, k0.model_version) == ("cat", 0.9, "v1")
    assert [r.key for r in storage.catalog.list_pending()] == ["k1"]


def test_server_down_stops_the_round_and_keeps_images_pending(
    settings: Settings, storage: Storage
) -> None:
    ingest = build_ingest(settings, storage)
    ingest.ingest("a", noise_image_bytes(1))
    ingest.ingest("b", noise_image_bytes(2))
    predictor = ScriptedPredictor([ServiceUnavailable("down")])
    assert classify_pending(storage, predictor) == 0
    assert len(predictor.seen) == 1
    assert {r.key for r in storage.catalog.list_pending()} == {"a", "b"}
