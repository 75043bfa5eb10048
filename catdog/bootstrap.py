"""First start: make the shipped baseline the champion when the registry is empty."""

from __future__ import annotations

import contextlib
from pathlib import Path

from catdog.artifacts import (
    MODEL_FILE,
    artifact_prefix,
    is_complete,
    read_metrics,
    upload_model_dir,
)
from catdog.clock import Clock, utc_now
from catdog.domain import ModelStatus, ModelVersion
from catdog.errors import ChampionChanged
from catdog.settings import Settings
from catdog.storage.ports import Storage

BASELINE_VERSION = "baseline"


def default_baseline_dir(settings: Settings) -> Path:
    """``settings.baseline_dir``, else ``models/baseline`` of this checkout."""
    if settings.baseline_dir is not None:
        return settings.baseline_dir
    return Path(__file__).resolve().parent.parent / "models" / "baseline"


def ensure_champion(
    storage: Storage, baseline_dir: Path, clock: Clock = utc_now
) -> ModelVersion | None:
    """Return the champion, promoting the baseline first if there is none.

    Safe to run from several processes at once: the upload is idempotent and
    the promotion is a compare-and-set that expects no champion.
    """
    champion = storage.registry.champion()
    if champion is not None or not (baseline_dir / MODEL_FILE).is_file():
        return champion
    if not is_complete(storage.blobs, BASELINE_VERSION):
        upload_model_dir(storage.blobs, BASELINE_VERSION, baseline_dir)
    storage.registry.register(
        ModelVersion(
            version=BASELINE_VERSION,
            artifact=artifact_prefix(BASELINE_VERSION),
            status=ModelStatus.CANDIDATE,
            created_at=clock(),
            metrics=read_metrics(storage.blobs, BASELINE_VERSION),
        )
    )
    with contextlib.suppress(ChampionChanged):
        storage.registry.promote(
            BASELINE_VERSION,
            expected_champion=None,
            by="catdog",
            reason="shipped baseline model, first champion",
            at=clock(),
        )
    return storage.registry.champion()
