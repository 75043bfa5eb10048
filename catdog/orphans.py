"""Orphaned image blobs: written by an upload whose catalog record never came.

An upload writes the original and the thumbnail, then the record; a crash in
between leaves blobs nothing references. On the local backend this sweeper
removes image blobs that no record references once they are older than a grace
period (so an upload in progress is never touched). On S3 the same job is done
without listing the bucket: blobs are written tagged pending, untagged once the
record exists, and a lifecycle rule expires what stays tagged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from catdog.storage.ports import BlobStore, Bucket, ImageCatalog

log = logging.getLogger(__name__)
ModifiedAt = Callable[[Bucket, str], float | None]
_PREFIXES = ("originals/", "thumbnails/")


@dataclass
class SweepReport:
    examined: int = 0
    removed: list[str] = field(default_factory=list)


def blob_sha256(name: str) -> str | None:
    """The image sha256 an image blob name carries (``originals/ab/<sha>``,
    ``thumbnails/ab/<sha>.jpg``); None for any other name."""
    if not name.startswith(_PREFIXES):
        return None
    stem = name.rsplit("/", 1)[-1].removesuffix(".jpg")
    if len(stem) != 64 or any(c not in "0123456789abcdef" for c in stem):
        return None
    return stem


class OrphanSweeper:
    def __init__(
        self,
        blobs: BlobStore,
        catalog: ImageCatalog,
        modified_at: ModifiedAt,
        grace_s: float,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._blobs = blobs
        self._catalog = catalog
        self._modified_at = modified_at
        self._grace_s = grace_s
        self._now = now

    def sweep(self) -> SweepReport:
        """Remove every image blob older than the grace period that no record references."""
        report = SweepReport()
        cutoff = self._now() - self._grace_s
        for name in list(self._blobs.list("images")):
            sha256 = blob_sha256(name)
            if sha256 is None:
                continue
            report.examined += 1
            written = self._modified_at("images", name)
            if written is None or written > cutoff:
                continue
            if self._catalog.find_by_sha256(sha256) is None:
                self._blobs.delete("images", name)
                report.removed.append(name)
        return report


class PeriodicSweep:
    """Runs a sweeper every ``interval_s`` in a daemon thread (``catdog up``)."""

    def __init__(self, sweeper: OrphanSweeper, interval_s: float = 3600.0) -> None:
        self._sweeper = sweeper
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="orphan-sweeper", daemon=True)
        self.sweeps = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                report = self._sweeper.sweep()
            except Exception:  # a storage hiccup must not end the sweeping
                log.exception("event=orphan_sweep_failed")
                continue
            self.sweeps += 1
            if report.removed:
                log.info("event=orphans_removed count=%d", len(report.removed))
