"""``python -m training_job --run-id ID``: the run record moves and shows progress;
failures are recorded and never leave ``_SUCCESS``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import training_job.job as job_module
from catdog.artifacts import is_complete, read_metrics, upload_model_dir
from catdog.clock import to_iso
from catdog.domain import ModelStatus, ModelVersion, RunPhase, RunStatus, Trigger
from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from catdog.storage.ports import Storage
from tests.training_job.conftest import TINY_CONFIG
from tests.training_job.training_images import add_labeled_images, write_class_folder
from training_job.__main__ import main
from training_job.artifact import DirectoryArtifactSink
from training_job.data import folder_examples
from training_job.job import run_training
from training_job.run import run_job

pytestmark = pytest.mark.slow

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def env_for(settings: Settings) -> dict[str, str]:
    return {
        "CATDOG_DATA_DIR": str(settings.data_dir),
        "CATDOG_DEFAULT_EPOCHS": str(settings.default_epochs),
        "CATDOG_TRAINING_INPUT_SIZE": str(settings.training_input_size),
        "CATDOG_TRAINING_BATCH_SIZE": str(settings.training_batch_size),
        "CATDOG_TRAINING_SEED": str(settings.training_seed),
    }


def test_a_run_trains_on_catalog_labels_and_stays_in_training(
    tiny_settings: Settings, storage: Storage
) -> None:
    latest_label = add_labeled_images(storage, per_class=12)
    storage.runs.create("run-1", Trigger.MANUAL, NOW)

    assert main(["--run-id", "run-1"], env=env_for(tiny_settings)) == 0

    run = storage.runs.get("run-1")
    assert run.status is RunStatus.TRAINING
    assert run.error is None
    assert run.progress is not None
    # The last report is the scoring phase after the last epoch; the epochs' own figures
    # are in the history.
    assert run.progress.phase is RunPhase.SCORING
    assert (run.progress.epoch, run.progress.epochs) == (2, 2)
    assert run.progress.updated_at is not None
    assert [entry["epoch"] for entry in run.history] == [1, 2]
    assert run.history[-1]["eta_seconds"] == 0.0
    assert run.history[-1]["val_accuracy"] is not None
    assert is_complete(storage.blobs, "run-1")
    metrics = read_metrics(storage.blobs, "run-1")
    assert metrics["version"] == "run-1"
    assert metrics["data_cutoff"] == to_iso(latest_label)
    sides = ("train", "validation", "evaluation")
    assert sum(metrics["counts"][side]["cat"] for side in sides) == 12
    # No champion to continue from: a full fit on every training image.
    n_train = sum(metrics["counts"]["train"].values())
    assert metrics["training_selection"] == {"mode": "full", "new": n_train, "replay": 0}
    assert metrics["champion_version"] is None


def test_the_optional_folder_adds_to_catalog_images(
    tiny_settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    add_labeled_images(storage, per_class=6)
    folder = write_class_folder(tmp_path / "extra", per_class=6, seed=9)
    storage.runs.create("run-2", Trigger.MANUAL, NOW)
    settings = tiny_settings.with_changes(training_data_dir=folder, default_epochs=1)
    assert run_job("run-2", settings, storage) == 0
    counts = read_metrics(storage.blobs, "run-2")["counts"]
    assert sum(sum(counts[side].values()) for side in ("train", "validation", "evaluation")) == 24


def test_a_run_with_a_champion_warm_starts_and_compares(
    tiny_settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    champion_dir = tmp_path / "champion"
    run_training(
        folder_examples(write_class_folder(tmp_path / "seed", per_class=10)),
        replace(TINY_CONFIG, epochs=1),
        DirectoryArtifactSink(champion_dir),
        version="champ",
    )
    prefix = upload_model_dir(storage.blobs, "champ", champion_dir)
    storage.registry.register(ModelVersion("champ", prefix, ModelStatus.CANDIDATE, NOW))
    storage.registry.promote("champ", None, "test", "first", NOW)
    add_labeled_images(storage, per_class=8)
    storage.runs.create("run-3", Trigger.MANUAL, NOW)

    assert run_job("run-3", tiny_settings.with_changes(default_epochs=1), storage) == 0

    metrics = read_metrics(storage.blobs, "run-3")
    assert metrics["warm_started_from"] == "champ"
    assert metrics["champion_version"] == "champ"
    evidence = metrics["gate_evidence"]
    assert evidence["champion_version"] == "champ"
    assert isinstance(evidence["champion_accuracy"], float)
    assert evidence["manifest_id"] == metrics["manifest_id"]
    assert metrics["scores"]["champion"]["manifest_id"] == metrics["manifest_id"]
    assert metrics["training_selection"]["mode"] == "incremental"


def test_no_labeled_images_fails_the_run(tiny_settings: Settings, storage: Storage) -> None:
    storage.runs.create("run-4", Trigger.MANUAL, NOW)
    assert run_job("run-4", tiny_settings, storage) != 0
    run = storage.runs.get("run-4")
    assert run.status is RunStatus.FAILED
    assert run.error is not None and "no labeled images" in run.error
    assert not is_complete(storage.blobs, "run-4")


def test_a_crash_during_training_fails_the_run_without_success(
    tiny_settings: Settings, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_labeled_images(storage, per_class=6)
    storage.runs.create("run-5", Trigger.MANUAL, NOW)

    def exploding_fit(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("out of memory (injected)")

    monkeypatch.setattr(job_module, "fit", exploding_fit)
    assert main(["--run-id", "run-5"], env=env_for(tiny_settings)) == 1
    run = storage.runs.get("run-5")
    assert run.status is RunStatus.FAILED
    assert run.error == "RuntimeError: out of memory (injected)"
    assert list(storage.blobs.list("models", "run-5/")) == []


def test_a_run_that_is_no_longer_trainable_is_not_touched(
    tiny_settings: Settings, storage: Storage
) -> None:
    storage.runs.create("run-6", Trigger.MANUAL, NOW)
    storage.runs.transition(
        "run-6", RunStatus.FAILED, NOW, allowed_from=frozenset({RunStatus.PENDING}), error="stopped"
    )
    assert run_job("run-6", tiny_settings, storage) != 0
    assert storage.runs.get("run-6").error == "stopped"


def test_an_unknown_run_exits_non_zero(tiny_settings: Settings) -> None:
    build_local_storage(tiny_settings)
    assert main(["--run-id", "nope"], env=env_for(tiny_settings)) == 3


def test_without_run_id_or_sagemaker_the_entry_point_refuses(tiny_settings: Settings) -> None:
    assert main([], env=env_for(tiny_settings)) == 2
