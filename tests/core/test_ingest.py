from __future__ import annotations

import hashlib
import io
from dataclasses import replace

import pytest
from PIL import Image

from catdog.composition import build_ingest
from catdog.errors import ImageTooLarge, InvalidImage, InvalidKey, KeyConflict, NotFound
from catdog.settings import Settings
from catdog.storage.ports import Storage
from tests.factories import image_bytes, noise_image_bytes
from tests.storage_support import crashing_before_the_record


def test_ingest_stores_original_thumbnail_and_record(settings: Settings, storage: Storage) -> None:
    data = image_bytes("PNG", size=(600, 300))
    record = build_ingest(settings, storage).ingest("photo-1", data)
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert (record.content_type, record.width, record.height, record.size) == (
        "image/png",
        600,
        300,
        len(data),
    )
    assert storage.blobs.get("images", record.blob_name).data == data
    thumbnail = storage.blobs.get("images", record.thumbnail_name)
    assert thumbnail.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.data)).size == (256, 128)
    assert storage.catalog.get("photo-1") == record
    assert record.prediction is None


def test_labeled_ingest_records_an_audit_entry(settings: Settings, storage: Storage) -> None:
    record = build_ingest(settings, storage).ingest(
        "c1", image_bytes(), label="cat", labeled_by="ann"
    )
    assert record.label == "cat"
    assert [(c.old_label, c.new_label, c.by) for c in storage.catalog.label_history("c1")] == [
        (None, "cat", "ann")
    ]


def test_existing_key_is_never_overwritten(settings: Settings, storage: Storage) -> None:
    ingest = build_ingest(settings, storage)
    first = ingest.ingest("same", noise_image_bytes(1))
    with pytest.raises(KeyConflict):
        ingest.ingest("same", noise_image_bytes(2))
    assert storage.catalog.get("same") == first
    assert storage.blobs.get("images", first.blob_name).data == noise_image_bytes(1)


@pytest.mark.parametrize(
    ("key", "data", "error"),
    [
        ("../x", image_bytes(), InvalidKey),
        ("ok", b"GIF89a not really", InvalidImage),
        ("ok", b"", InvalidImage),
    ],
)
def test_bad_input_stores_nothing(
    settings: Settings, storage: Storage, key: str, data: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        build_ingest(settings, storage).ingest(key, data)
    assert storage.catalog.counts().images == 0
    assert list(storage.blobs.list("images")) == []


def test_size_limit(settings: Settings, storage: Storage) -> None:
    data = noise_image_bytes(3, size=(128, 128))
    small = replace(settings, max_upload_bytes=len(data) - 1)
    with pytest.raises(ImageTooLarge, match="limit"):
        build_ingest(small, storage).ingest("big", data)


def test_crash_between_blob_and_catalog_write_leaves_no_visible_image(
    settings: Settings, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashing = crashing_before_the_record(settings, RuntimeError("power cut"), monkeypatch)
    data = noise_image_bytes(4)
    with pytest.raises(RuntimeError):
        build_ingest(settings, crashing).ingest("k", data)
    with pytest.raises(NotFound):
        storage.catalog.get("k")
    assert storage.catalog.list_all().items == []
    # The retry after restart succeeds and stores the complete image.
    record = build_ingest(settings, storage).ingest("k", data)
    assert storage.blobs.get("images", record.blob_name).data == data
