"""Typed reads of storage state that many tests assert on."""

from __future__ import annotations

import pytest

from catdog.domain import ImageRecord
from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from catdog.storage.ports import ModelRegistry, Storage


def champion_version(registry: ModelRegistry) -> str | None:
    """The champion's version, or None while there is no champion."""
    champion = registry.champion()
    return None if champion is None else champion.version


def crashing_before_the_record(
    settings: Settings, error: Exception, monkeypatch: pytest.MonkeyPatch
) -> Storage:
    """A second handle on the same local storage whose catalog raises ``error`` when a
    record is created: the process that died between writing the blobs and the record."""
    storage = build_local_storage(settings)

    def create(record: ImageRecord) -> None:
        raise error

    monkeypatch.setattr(storage.catalog, "create", create)
    return storage
