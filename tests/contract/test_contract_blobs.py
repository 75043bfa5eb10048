"""BlobStore contract: raw bytes with content types, by bucket and (nested) name."""

from __future__ import annotations

import pytest

from catdog.errors import InvalidInput, NotFound
from catdog.storage.aws.blobs import S3BlobStore
from catdog.storage.local.blobs import LocalBlobStore
from catdog.storage.ports import Blob, Storage

from .support import unchecked

PAYLOAD = bytes(range(256)) * 3  # every byte value, NUL included


def test_put_then_get_returns_bytes_and_content_type(storage: Storage) -> None:
    storage.blobs.put("images", "original/cat-1.jpg", PAYLOAD, "image/jpeg")

    assert storage.blobs.get("images", "original/cat-1.jpg") == Blob(PAYLOAD, "image/jpeg")


def test_put_overwrites_whole_object_and_its_content_type(storage: Storage) -> None:
    storage.blobs.put("static", "app.js", b"old contents, longer", "text/plain")
    storage.blobs.put("static", "app.js", b"new", "application/javascript")

    assert storage.blobs.get("static", "app.js") == Blob(b"new", "application/javascript")


def test_empty_object_round_trips(storage: Storage) -> None:
    storage.blobs.put("models", "v1/_SUCCESS", b"", "application/octet-stream")

    assert storage.blobs.get("models", "v1/_SUCCESS") == Blob(b"", "application/octet-stream")
    assert storage.blobs.exists("models", "v1/_SUCCESS")


def test_get_missing_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        storage.blobs.get("images", "original/missing.jpg")


def test_exists_and_delete(storage: Storage) -> None:
    storage.blobs.put("images", "thumbnail/a.jpg", b"x", "image/jpeg")
    assert storage.blobs.exists("images", "thumbnail/a.jpg")
    assert not storage.blobs.exists("images", "thumbnail/b.jpg")

    storage.blobs.delete("images", "thumbnail/a.jpg")

    assert not storage.blobs.exists("images", "thumbnail/a.jpg")
    with pytest.raises(NotFound):
        storage.blobs.get("images", "thumbnail/a.jpg")


def test_deleting_a_missing_object_is_not_an_error(storage: Storage) -> None:
    storage.blobs.delete("images", "never/written.jpg")

    assert list(storage.blobs.list("images")) == []


def test_buckets_are_separate(storage: Storage) -> None:
    storage.blobs.put("models", "same-name", b"model", "application/octet-stream")

    assert not storage.blobs.exists("images", "same-name")
    assert list(storage.blobs.list("static")) == []
    assert list(storage.blobs.list("models")) == ["same-name"]


def test_list_is_lexicographic_and_includes_nested_names(storage: Storage) -> None:
    names = ["b.txt", "a/z.txt", "a/b/c.txt", "a-1.txt", "A.txt", "v2/model.keras"]
    for name in names:
        storage.blobs.put("models", name, name.encode(), "text/plain")

    assert list(storage.blobs.list("models")) == sorted(names)


def test_list_filters_by_prefix(storage: Storage) -> None:
    for name in ["v1/model.keras", "v1/metrics.json", "v10/model.keras", "v2/model.keras"]:
        storage.blobs.put("models", name, b"x", "application/octet-stream")

    assert list(storage.blobs.list("models", "v1/")) == ["v1/metrics.json", "v1/model.keras"]
    assert list(storage.blobs.list("models", "v1")) == [
        "v1/metrics.json",
        "v1/model.keras",
        "v10/model.keras",
    ]
    assert list(storage.blobs.list("models", "v3")) == []


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../escape", "a/../../b", ".hidden"])
def test_unsafe_names_are_rejected(storage: Storage, name: str) -> None:
    with pytest.raises(InvalidInput):
        storage.blobs.put("images", name, b"x", "text/plain")
    with pytest.raises(InvalidInput):
        storage.blobs.get("images", name)


def test_unknown_bucket_is_rejected(storage: Storage) -> None:
    with pytest.raises(InvalidInput):
        storage.blobs.put(unchecked("secrets"), "a", b"x", "text/plain")


def test_a_pending_blob_is_settled_once_referenced(storage: Storage) -> None:
    """Blobs of an upload are pending until its record exists: what stays pending is an
    orphan for the backend's sweeper (local sweeper, S3 lifecycle rule on the tag)."""
    blobs = storage.blobs
    # Pending is each backend's own mark (local metadata, an S3 tag), not part of the port.
    assert isinstance(blobs, LocalBlobStore | S3BlobStore)
    blobs.put("images", "originals/ab/pending", b"x", "image/jpeg", pending=True)
    blobs.put("images", "originals/ab/plain", b"y", "image/jpeg")
    assert blobs.is_pending("images", "originals/ab/pending")
    assert not blobs.is_pending("images", "originals/ab/plain")
    blobs.settle("images", "originals/ab/pending")
    assert not blobs.is_pending("images", "originals/ab/pending")
    assert blobs.get("images", "originals/ab/pending") == Blob(b"x", "image/jpeg")
