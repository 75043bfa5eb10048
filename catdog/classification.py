"""Classifying images that were stored while the inference server was unavailable."""

from __future__ import annotations

import logging
import threading
from typing import Literal, Protocol

from catdog.domain import ImageRecord, Prediction, parse_label
from catdog.errors import CatdogError, NotFound, ServiceUnavailable
from catdog.storage.ports import Storage

log = logging.getLogger(__name__)


class PredictionResultLike(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def confidence(self) -> float: ...

    @property
    def model_version(self) -> str: ...


class Predictor(Protocol):
    def predict(self, data: bytes, content_type: str) -> PredictionResultLike: ...


def to_prediction(result: PredictionResultLike) -> Prediction:
    return Prediction(parse_label(result.label), float(result.confidence), result.model_version)


Outcome = Literal["classified", "already_classified", "gone", "refused"]


def classify_record(storage: Storage, predictor: Predictor, record: ImageRecord) -> Outcome:
    """Ask the inference tier about one stored image and record its prediction.

    Raises ServiceUnavailable when the tier does not answer (try later); an image
    the tier refuses is logged and reported as "refused".
    """
    blob = storage.blobs.get("images", record.blob_name)
    try:
        result = predictor.predict(blob.data, blob.content_type)
    except ServiceUnavailable:
        raise
    except CatdogError as exc:
        log.warning("cannot classify %s: %s", record.key, exc)
        return "refused"
    storage.catalog.set_prediction(record.key, to_prediction(result))
    return "classified"


def classify_key(storage: Storage, predictor: Predictor, key: str) -> Outcome:
    """``classify_record`` for the image under ``key``, if it is still pending.

    Idempotent: an image classified meanwhile, or deleted, is left alone.
    """
    try:
        record = storage.catalog.get(key)
    except NotFound:
        return "gone"
    if record.prediction is not None:
        return "already_classified"
    return classify_record(storage, predictor, record)


def classify_pending(storage: Storage, predictor: Predictor, limit: int = 100) -> int:
    """Classify up to ``limit`` pending images; returns how many were classified.

    Stops at the first ServiceUnavailable (the server is down: try later).
    An image that the server refuses is logged and skipped.
    """
    done = 0
    for record in storage.catalog.list_pending(limit):
        try:
            outcome = classify_record(storage, predictor, record)
        except ServiceUnavailable:
            break
        done += outcome == "classified"
    return done


class PendingClassifier:
    """A background thread that classifies pending images every ``interval`` seconds."""

    def __init__(self, storage: Storage, predictor: Predictor, interval: float = 5.0) -> None:
        self._storage = storage
        self._predictor = predictor
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pending-classifier", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                while classify_pending(self._storage, self._predictor) and not self._stop.is_set():
                    pass
            except Exception:  # keep the loop alive; the next round retries
                log.exception("classifying pending images failed")
            self._stop.wait(self._interval)
