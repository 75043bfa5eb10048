"""Storing an uploaded image: validate, write the blobs, then the catalog record.

The catalog record is written last, so an image is visible only once its
original and thumbnail are complete; a crash in between leaves at most an
unreferenced blob, never a half-visible image.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from catdog.clock import Clock, utc_now
from catdog.decode_budget import DecodeBudget, unlimited_budget
from catdog.domain import (
    ImageRecord,
    Label,
    original_blob_name,
    parse_label,
    thumbnail_blob_name,
)
from catdog.errors import ImageTooLarge, KeyConflict, NotFound
from catdog.image_decoding import decode_rgb, thumbnail_jpeg
from catdog.keys import validate_key
from catdog.storage.ports import Storage


@dataclass(frozen=True)
class IngestLimits:
    max_bytes: int
    max_pixels: int
    thumbnail_size: int


class ImageIngest:
    """The one way images enter the catalog (web uploads, URL imports, folder imports)."""

    def __init__(
        self,
        storage: Storage,
        limits: IngestLimits,
        clock: Clock = utc_now,
        budget: DecodeBudget | None = None,
    ) -> None:
        self._storage = storage
        self._limits = limits
        self._clock = clock
        self._budget = budget or unlimited_budget()

    def ingest(
        self, key: str, data: bytes, label: Label | None = None, labeled_by: str | None = None
    ) -> ImageRecord:
        """Store ``data`` under ``key``. Raises InvalidKey, InvalidImage, ImageTooLarge,
        KeyConflict, DecoderBusy; on any error nothing already stored changes.

        The image is decoded once, only as large as its thumbnail needs; the record
        keeps the displayed (EXIF-rotated) width and height."""
        key = validate_key(key)
        if label is not None:
            label = parse_label(label)
        if len(data) > self._limits.max_bytes:
            raise ImageTooLarge(
                f"the file is {len(data):,} bytes; the limit is {self._limits.max_bytes:,} bytes"
            )
        if self._exists(key):
            raise KeyConflict(f"an image with key {key!r} already exists")
        size = self._limits.thumbnail_size
        rgb, info = decode_rgb(data, self._limits.max_pixels, self._budget, size, "contain")
        thumbnail = thumbnail_jpeg(rgb, size)
        del rgb
        sha256 = hashlib.sha256(data).hexdigest()
        blobs = self._storage.blobs
        # Pending until the record exists: a crash in between leaves orphans that the
        # backend sweeps (catdog.orphans locally, a lifecycle rule on S3).
        names = (original_blob_name(sha256), thumbnail_blob_name(sha256))
        blobs.put("images", names[0], data, info.content_type, pending=True)
        blobs.put("images", names[1], thumbnail, "image/jpeg", pending=True)
        record = ImageRecord(
            key=key,
            content_type=info.content_type,
            size=len(data),
            width=info.width,
            height=info.height,
            sha256=sha256,
            uploaded_at=self._clock(),
        )
        self._storage.catalog.create(record)
        for name in names:
            blobs.settle("images", name)
        if label is not None:
            self._storage.catalog.set_label(key, label, labeled_by or "import", self._clock())
            return self._storage.catalog.get(key)
        return record

    def _exists(self, key: str) -> bool:
        try:
            self._storage.catalog.get(key)
        except NotFound:
            return False
        return True
