"""SettingsStore contract: defaults until stored, then exactly what was stored."""

from __future__ import annotations

from catdog.domain import ManagerSettings, Mode
from catdog.storage.ports import Storage


def test_defaults_when_nothing_was_stored(storage: Storage) -> None:
    assert storage.settings.get() == ManagerSettings(
        mode=Mode.MANUAL, label_threshold=20, min_accuracy=0.80, max_accuracy_drop=0.01
    )


def test_put_then_get(storage: Storage) -> None:
    stored = ManagerSettings(
        mode=Mode.AUTO, label_threshold=7, min_accuracy=0.925, max_accuracy_drop=0.0
    )

    storage.settings.put(stored)

    got = storage.settings.get()
    assert got == stored
    assert isinstance(got.label_threshold, int)
    assert got.mode is Mode.AUTO


def test_put_replaces_previous_settings(storage: Storage) -> None:
    storage.settings.put(ManagerSettings(mode=Mode.AUTO, label_threshold=5))
    storage.settings.put(ManagerSettings(mode=Mode.MANUAL, label_threshold=50, min_accuracy=1))

    assert storage.settings.get() == ManagerSettings(
        mode=Mode.MANUAL, label_threshold=50, min_accuracy=1, max_accuracy_drop=0.01
    )
