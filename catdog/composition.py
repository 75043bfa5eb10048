"""Factories for image ingest (its limits and decode budget) from the settings, and the
embedded default's generated secrets. Each unit's composition root (``web/deps.py``,
``inference_server/server.py``, ``lambdas/adapter.py``, ``hosts/``) calls these."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from catdog.decode_budget import DecodeBudget
from catdog.ingest import ImageIngest, IngestLimits
from catdog.settings import Settings
from catdog.storage.factory import build_storage
from catdog.storage.ports import Storage

SECRETS_FILE = "secrets.json"


def ingest_limits(settings: Settings) -> IngestLimits:
    return IngestLimits(
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
        thumbnail_size=settings.thumbnail_size,
    )


def decode_budget(settings: Settings) -> DecodeBudget:
    """One per process: the per-image decode limit and the pool all decodes share."""
    return DecodeBudget(settings.max_decode_bytes, settings.decode_pool_bytes)


def build_ingest(
    settings: Settings, storage: Storage | None = None, budget: DecodeBudget | None = None
) -> ImageIngest:
    return ImageIngest(
        storage or build_storage(settings),
        ingest_limits(settings),
        budget=budget or decode_budget(settings),
    )


def with_local_secrets(settings: Settings) -> Settings:
    """Fill the inference admin token and web secret key from the data directory.

    They are generated once on first start and kept in ``<data_dir>/secrets.json``
    (mode 0600), so restarts keep sessions valid; values from the environment win.
    """
    path = settings.data_dir / SECRETS_FILE
    stored = _read_or_create_secrets(path)
    return settings.with_changes(
        inference_admin_token=settings.inference_admin_token or stored["inference_admin_token"],
        secret_key=settings.secret_key or stored["secret_key"],
    )


def _read_or_create_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "inference_admin_token": secrets.token_urlsafe(32),
        "secret_key": secrets.token_urlsafe(32),
    }
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return _read_or_create_secrets(path)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    return data
