from __future__ import annotations

import json
from pathlib import Path

from catdog.artifacts import is_complete
from catdog.bootstrap import BASELINE_VERSION, ensure_champion
from catdog.domain import ModelStatus
from catdog.storage.ports import Storage


def fake_baseline(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "model.keras").write_bytes(b"model bytes")
    (root / "metrics.json").write_text(json.dumps({"accuracy": 0.93, "canary": []}))
    (root / "canary").mkdir()
    (root / "canary" / "0.jpg").write_bytes(b"canary image")
    return root


def test_baseline_becomes_first_champion(storage: Storage, tmp_path: Path) -> None:
    champion = ensure_champion(storage, fake_baseline(tmp_path / "baseline"))
    assert champion is not None
    assert (champion.version, champion.status, champion.accuracy) == (
        BASELINE_VERSION,
        ModelStatus.CHAMPION,
        0.93,
    )
    assert is_complete(storage.blobs, BASELINE_VERSION)
    assert storage.blobs.get("models", "baseline/canary/0.jpg").data == b"canary image"
    history = storage.registry.history()
    assert [(h.from_version, h.to_version) for h in history] == [(None, BASELINE_VERSION)]


def test_existing_champion_is_kept_and_bootstrap_is_idempotent(
    storage: Storage, tmp_path: Path
) -> None:
    baseline = fake_baseline(tmp_path / "baseline")
    ensure_champion(storage, baseline)
    ensure_champion(storage, baseline)
    assert len(storage.registry.history()) == 1


def test_no_baseline_means_no_champion(storage: Storage, tmp_path: Path) -> None:
    assert ensure_champion(storage, tmp_path / "missing") is None
    assert storage.registry.champion() is None
