"""Orphaned blobs (a crash between the blob writes and the catalog write) are swept."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from catdog.composition import build_ingest
from catdog.domain import original_blob_name, thumbnail_blob_name
from catdog.errors import ServiceUnavailable
from catdog.orphans import OrphanSweeper, PeriodicSweep, blob_sha256
from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from catdog.storage.local.blobs import LocalBlobStore
from tests.factories import noise_image_bytes
from tests.polling import wait_until
from tests.storage_support import crashing_before_the_record

DAY = 24 * 3600.0


def age(blobs: LocalBlobStore, name: str, seconds: float) -> None:
    path = blobs.local_path("images", name)
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_crash_before_the_record_leaves_orphans_that_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path)
    storage = build_local_storage(settings)
    blobs = storage.blobs
    assert isinstance(blobs, LocalBlobStore)
    crashing = crashing_before_the_record(
        settings, ServiceUnavailable("the process died here"), monkeypatch
    )
    orphan = noise_image_bytes(1)
    with pytest.raises(ServiceUnavailable):
        build_ingest(settings, crashing).ingest("lost", orphan)
    kept = noise_image_bytes(2)
    build_ingest(settings, storage).ingest("kept", kept)
    orphan_sha, kept_sha = (hashlib.sha256(d).hexdigest() for d in (orphan, kept))
    names = {
        sha: (original_blob_name(sha), thumbnail_blob_name(sha)) for sha in (orphan_sha, kept_sha)
    }
    assert all(blobs.exists("images", n) for pair in names.values() for n in pair)
    assert blobs.is_pending("images", names[orphan_sha][0])
    assert not blobs.is_pending("images", names[kept_sha][0])  # settled after the record

    sweeper = OrphanSweeper(blobs, storage.catalog, blobs.modified_at, grace_s=DAY)
    assert sweeper.sweep().removed == []  # within the grace period: maybe still uploading
    for pair in names.values():
        for name in pair:
            age(blobs, name, 2 * DAY)
    report = sweeper.sweep()
    assert sorted(report.removed) == sorted(names[orphan_sha])
    assert report.examined == 4
    assert not any(blobs.exists("images", n) for n in names[orphan_sha])
    assert all(blobs.exists("images", n) for n in names[kept_sha])
    assert storage.catalog.get("kept").sha256 == kept_sha


def test_only_image_blob_names_are_considered() -> None:
    sha = "ab" * 32
    assert blob_sha256(original_blob_name(sha)) == sha
    assert blob_sha256(thumbnail_blob_name(sha)) == sha
    assert blob_sha256("models/v1/model.keras") is None
    assert blob_sha256("originals/ab/not-a-sha") is None


def test_the_periodic_sweep_runs_until_stopped(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    storage = build_local_storage(settings)
    blobs = storage.blobs
    assert isinstance(blobs, LocalBlobStore)
    orphan = "originals/ab/" + "ab" * 32
    blobs.put("images", orphan, b"x", "image/jpeg", pending=True)
    age(blobs, orphan, 2 * DAY)
    sweeper = OrphanSweeper(blobs, storage.catalog, blobs.modified_at, grace_s=DAY)
    periodic = PeriodicSweep(sweeper, interval_s=0.01)
    periodic.start()
    try:
        wait_until(
            lambda: not blobs.exists("images", orphan),
            what="the periodic sweep to remove the orphan",
            timeout=10,
            interval=0.01,
        )
    finally:
        periodic.stop()
    assert periodic.sweeps >= 1
