"""A crash between the blob write and the catalog write leaves no half-visible image.

Uploads write the blobs first and the catalog record last: the record is what
makes an image exist. These tests stop after the blob write and check that
nothing shows the image, and that the retried upload then succeeds.
"""

from __future__ import annotations

import pytest

from catdog.domain import CatalogCounts
from catdog.errors import NotFound
from catdog.storage.ports import Storage

from .support import MakeImage


def test_blob_without_a_record_is_invisible(storage: Storage, make_image: MakeImage) -> None:
    record = make_image("orphan.jpg", sha256="orphan-sha")
    storage.blobs.put("images", record.blob_name, b"jpeg bytes", "image/jpeg")
    # ... the process dies here, before catalog.create(record).

    with pytest.raises(NotFound):
        storage.catalog.get("orphan.jpg")
    assert storage.catalog.find_by_sha256("orphan-sha") is None
    assert storage.catalog.list_all().items == []
    assert storage.catalog.list_pending() == []
    assert storage.catalog.counts() == CatalogCounts(images=0, labeled=0)


def test_retried_upload_after_a_crash_succeeds(storage: Storage, make_image: MakeImage) -> None:
    record = make_image("retry.jpg")
    storage.blobs.put("images", record.blob_name, b"partial attempt", "image/jpeg")

    storage.blobs.put("images", record.blob_name, b"full image", "image/jpeg")
    storage.catalog.create(record)

    assert storage.catalog.get("retry.jpg") == record
    assert storage.blobs.get("images", record.blob_name).data == b"full image"
    assert storage.catalog.counts() == CatalogCounts(images=1, labeled=0)
