"""An upload from start to finish: store it, then ask the inference server.

Flask-free, so the API and the pages share it. Storing comes first and is all
that must succeed: when the inference server is down the image stays stored
as "pending classification" and is announced to the pending queue (SQS on
AWS; locally the background classifier scans the catalog).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from catdog.decision import is_unsure
from catdog.domain import ImageRecord, Prediction, parse_label
from catdog.errors import CatdogError, ServiceUnavailable
from catdog.ingest import ImageIngest
from catdog.pending import CatalogScan, PendingQueue
from catdog.storage.ports import ImageCatalog
from web.ports import Inference
from web.url_import import UrlImporter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageView:
    """A stored image as the pages and the API show it."""

    record: ImageRecord
    unsure_threshold: float

    @property
    def key(self) -> str:
        return self.record.key

    @property
    def prediction(self) -> Prediction | None:
        return self.record.prediction

    @property
    def pending(self) -> bool:
        return self.record.prediction is None

    @property
    def unsure(self) -> bool:
        prediction = self.record.prediction
        return prediction is not None and is_unsure(prediction.confidence, self.unsure_threshold)

    @property
    def disagrees(self) -> bool:
        prediction = self.record.prediction
        label = self.record.label
        return prediction is not None and label is not None and prediction.label != label

    def to_dict(self) -> dict[str, object]:
        return {
            **self.record.to_dict(),
            "status": "pending" if self.pending else "classified",
            "unsure": self.unsure,
        }


class UploadService:
    def __init__(
        self,
        ingest: ImageIngest,
        catalog: ImageCatalog,
        inference: Inference,
        url_importer: UrlImporter,
        unsure_threshold: float,
        pending: PendingQueue | None = None,
    ) -> None:
        self._ingest = ingest
        self._pending = pending or CatalogScan()
        self._catalog = catalog
        self._inference = inference
        self._url_importer = url_importer
        self._unsure_threshold = unsure_threshold

    def upload(self, key: str, data: bytes) -> ImageView:
        """Store ``data`` under ``key`` and classify it if the server answers.

        Raises what ImageIngest raises (InvalidKey, InvalidImage, ImageTooLarge,
        KeyConflict); inference failures never fail the upload.
        """
        record = self._ingest.ingest(key, data)
        return self.view(self._classify(record, data))

    def import_url(self, key: str, url: str) -> ImageView:
        """Like ``upload`` with the bytes fetched from ``url`` (UrlRefused, UrlFetchFailed)."""
        return self.upload(key, self.fetch_url(url))

    def fetch_url(self, url: str) -> bytes:
        """The bytes at ``url`` (UrlRefused, UrlFetchFailed, ImageTooLarge); nothing stored."""
        return self._url_importer.fetch(url).data

    def view(self, record: ImageRecord) -> ImageView:
        return ImageView(record, self._unsure_threshold)

    def _classify(self, record: ImageRecord, data: bytes) -> ImageRecord:
        try:
            result = self._inference.predict(data, record.content_type)
            prediction = Prediction(
                parse_label(result.label), float(result.confidence), str(result.model_version)
            )
        except ServiceUnavailable as exc:
            log.info("inference unavailable, %s stays pending: %s", record.key, exc)
            self._announce_pending(record.key)
            return record
        except CatdogError as exc:
            log.warning("the inference server refused %s: %s", record.key, exc)
            return record
        self._catalog.set_prediction(record.key, prediction)
        return self._catalog.get(record.key)

    def _announce_pending(self, key: str) -> None:
        try:
            self._pending.announce(key)
        except ServiceUnavailable as exc:  # the upload is stored: never fail it for this
            log.error("pending image %s was not announced: %s", key, exc)
