"""A whole training run on tiny generated images: artifact order, metrics, canaries,
determinism and warm start."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import training_job.job as job_module
from catdog.artifacts import fetch_artifact, is_complete, read_metrics
from catdog.errors import InvalidInput
from catdog.preprocessing import preprocess_bytes
from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from inference_server.classifier import Classifier
from tests.training_job.conftest import TINY_CONFIG, RecordingBlobStore
from tests.training_job.training_images import class_image_bytes, write_class_folder
from training_job.artifact import BlobArtifactSink, DirectoryArtifactSink
from training_job.data import (
    Side,
    SplitFractions,
    example_from_bytes,
    folder_examples,
    split_examples,
)
from training_job.evaluate import load_model
from training_job.job import Champion, run_training
from training_job.model import make_model, trainable_core
from training_job.train import seed_everything

pytestmark = pytest.mark.slow

LEARNABLE_PER_CLASS = 40
LEARNING_EPOCHS = 4


@dataclass
class Trained:
    metrics: dict[str, Any]
    blobs: RecordingBlobStore
    cache: Path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    root = tmp_path_factory.mktemp("trained")
    storage = build_local_storage(Settings(data_dir=root / "data"))
    blobs = RecordingBlobStore(storage.blobs)
    # Learnable stand-ins and enough epochs that learning is required to pass the floors.
    examples = folder_examples(write_class_folder(root / "dataset", per_class=LEARNABLE_PER_CLASS))
    metrics = run_training(
        examples,
        replace(TINY_CONFIG, epochs=LEARNING_EPOCHS),
        BlobArtifactSink(blobs, "v1"),
        version="v1",
    )
    return Trained(metrics, blobs, root / "cache")


def test_artifact_is_written_model_first_and_success_last(trained: Trained) -> None:
    names = [name for bucket, name in trained.blobs.puts if bucket == "models"]
    assert names[0] == "v1/model.keras"
    assert names[-2:] == ["v1/metrics.json", "v1/_SUCCESS"]
    assert sorted(n for n in names if n.startswith("v1/canary/")) == sorted(
        f"v1/canary/{entry['name']}" for entry in trained.metrics["canary"]
    )
    assert is_complete(trained.blobs, "v1")


def test_metrics_describe_the_run(trained: Trained) -> None:
    metrics = read_metrics(trained.blobs, "v1")
    assert metrics == json.loads(json.dumps(trained.metrics))
    assert metrics["version"] == "v1"
    assert metrics["arch"] == "small_cnn"
    assert metrics["input_size"] == 32
    # Chance is 0.5; the stand-ins are easy, so a model that learned scores near 1.
    assert metrics["accuracy"] >= 0.9
    assert metrics["validation"]["accuracy"] >= 0.9
    assert set(metrics["per_class"]) == {"cat", "dog"}
    assert {"precision", "recall", "f1", "support"} <= set(metrics["per_class"]["cat"])
    counts = metrics["counts"]
    for label in ("cat", "dog"):
        sides = ("train", "validation", "evaluation")
        assert sum(counts[side][label] for side in sides) == LEARNABLE_PER_CLASS
    # The headline figures are the evaluation set's, never trained on nor used to choose.
    n_evaluation = counts["evaluation"]["cat"] + counts["evaluation"]["dog"]
    assert metrics["n"] == n_evaluation > 0
    assert sum(map(sum, metrics["confusion_matrix"])) == n_evaluation
    assert metrics["gate_evidence"]["n"] == n_evaluation
    assert metrics["gate_evidence"]["champion_accuracy"] is None
    assert [entry["epoch"] for entry in metrics["history"]] == list(range(1, LEARNING_EPOCHS + 1))
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(metrics["history"][0])
    assert metrics["wall_time_s"] > 0 and metrics["images_per_second"] > 0
    assert metrics["code_version"]["catdog"] == "0.1.0"
    assert metrics["champion_version"] is None
    assert metrics["data_cutoff"] is None
    assert metrics["roc_auc"] >= 0.9


def test_canaries_are_validation_images_with_reproducible_probabilities(trained: Trained) -> None:
    model_dir = fetch_artifact(trained.blobs, "v1", trained.cache)
    classifier = Classifier.load(model_dir)
    again = write_class_folder(trained.cache / "again", per_class=LEARNABLE_PER_CLASS)
    examples = folder_examples(again)
    validation = {e.sha256 for e in split_examples(examples).validation}
    canaries = trained.metrics["canary"]
    assert len(canaries) == min(8, len(validation))
    assert {entry["label"] for entry in canaries} == {"cat", "dog"}
    for entry in canaries:
        data = (model_dir / "canary" / entry["name"]).read_bytes()
        assert entry["sha256"] in validation
        probabilities = classifier.predict_one(preprocess_bytes(data, classifier.input_size))
        assert probabilities.dog == pytest.approx(entry["probabilities"]["dog"], abs=1e-5)
        assert entry["probabilities"]["cat"] + entry["probabilities"]["dog"] == pytest.approx(1.0)


def test_a_crash_before_success_leaves_no_success(tmp_path: Path, class_folder: Path) -> None:
    storage = build_local_storage(Settings(data_dir=tmp_path / "data"))
    blobs = RecordingBlobStore(storage.blobs, fail_on="metrics.json")
    with pytest.raises(OSError, match="injected crash"):
        run_training(
            folder_examples(class_folder),
            replace(TINY_CONFIG, epochs=1),
            BlobArtifactSink(blobs, "v2"),
            version="v2",
        )
    assert blobs.exists("models", "v2/model.keras")
    assert not blobs.exists("models", "v2/_SUCCESS")
    assert not is_complete(blobs, "v2")


def test_model_directory_crash_leaves_no_success(tmp_path: Path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / "_SUCCESS").write_bytes(b"")  # from an earlier, complete model
    model_file = tmp_path / "model.keras"
    model_file.write_bytes(b"weights")
    with pytest.raises(TypeError):
        DirectoryArtifactSink(out).write(model_file, {"bad": object()}, {"0.img": b"x"})
    assert (out / "model.keras").read_bytes() == b"weights"
    assert not (out / "_SUCCESS").exists()
    DirectoryArtifactSink(out).write(model_file, {"ok": 1}, {"0.img": b"x"})
    assert (out / "_SUCCESS").exists() and json.loads((out / "metrics.json").read_text()) == {
        "ok": 1
    }


def test_same_seed_gives_the_same_model(tmp_path: Path, class_folder: Path) -> None:
    examples = folder_examples(class_folder)
    outputs = []
    for name in ("a", "b"):
        run_training(
            examples,
            TINY_CONFIG,
            DirectoryArtifactSink(tmp_path / name),
            version=name,
        )
        outputs.append(trainable_core(load_model(tmp_path / name)).get_weights())
    for first, second in zip(*outputs, strict=True):
        np.testing.assert_array_equal(first, second)
    # Equal because training is deterministic, not because it did nothing: the
    # trained weights moved away from the same seed's initial weights.
    seed_everything(TINY_CONFIG.seed)
    initial = make_model("small_cnn", TINY_CONFIG.input_size).get_weights()
    moved = [not np.allclose(a, b) for a, b in zip(outputs[0], initial, strict=True)]
    assert sum(moved) > len(moved) // 2


def test_warm_start_begins_from_the_champion_weights(
    tmp_path: Path, class_folder: Path, trained: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    champion_model = load_model(fetch_artifact(trained.blobs, "v1", trained.cache))
    # The served champion is flip-averaged; training continues on the network inside.
    assert champion_model.name == "small_cnn_flip_averaged"
    champion_weights = [w.copy() for w in trainable_core(champion_model).get_weights()]
    seen: dict[str, Any] = {}
    real_fit = job_module.fit

    def spy_fit(model: Any, *args: Any, **kwargs: Any) -> Any:
        seen["weights"] = [w.copy() for w in model.get_weights()]
        seen["warm"] = kwargs["warm"]
        return real_fit(model, *args, **kwargs)

    monkeypatch.setattr(job_module, "fit", spy_fit)
    # A different requested size: a warm start takes the champion's architecture and size.
    config = replace(TINY_CONFIG, input_size=48, epochs=1)
    metrics = run_training(
        folder_examples(class_folder),
        config,
        DirectoryArtifactSink(tmp_path / "challenger"),
        version="v3",
        champion=Champion("v1", champion_model),
    )
    assert seen["warm"] is True
    for started, original in zip(seen["weights"], champion_weights, strict=True):
        np.testing.assert_array_equal(started, original)
    # The champion itself is untouched, and was measured on the same validation images.
    for now, original in zip(
        trainable_core(champion_model).get_weights(), champion_weights, strict=True
    ):
        np.testing.assert_array_equal(now, original)
    assert metrics["warm_started_from"] == "v1"
    assert metrics["champion_version"] == "v1"
    assert metrics["input_size"] == 32
    # Both scored on the same evaluation images; the trained champion has learned.
    evidence = metrics["gate_evidence"]
    assert evidence["champion_version"] == "v1"
    assert evidence["champion_accuracy"] >= 0.9
    assert evidence["n"] == metrics["n"]
    assert metrics["flip_averaged"] is True  # served like the champion it continues
    # An incremental run scores only what the gate needs: no validation re-scoring.
    assert "validation" not in metrics and metrics["training_selection"]["mode"] == "incremental"


def test_the_time_budget_bounds_a_full_retrain_but_not_a_warm_start(
    tmp_path: Path, class_folder: Path, trained: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    champion = Champion("v1", load_model(fetch_artifact(trained.blobs, "v1", trained.cache)))
    budgets: list[float | None] = []
    real_fit = job_module.fit

    def spy_fit(model: Any, train: Any, validation: Any, config: Any, **kwargs: Any) -> Any:
        budgets.append(config.time_budget_s)
        return real_fit(model, train, validation, config, **kwargs)

    monkeypatch.setattr(job_module, "fit", spy_fit)
    budgeted = replace(TINY_CONFIG, epochs=1, time_budget_s=3600.0)
    for mode in ("incremental", "full"):
        run_training(
            folder_examples(class_folder),
            replace(budgeted, retrain_mode=mode),
            DirectoryArtifactSink(tmp_path / mode),
            version=mode,
            champion=champion,
        )
    # A warm start is bounded by its steps, so its schedule does not depend on the clock.
    assert budgets == [None, 3600.0]


def test_a_class_found_only_on_the_evaluation_side_is_a_clear_error(tmp_path: Path) -> None:
    fractions = SplitFractions()
    cats = [example_from_bytes(f"c{i}", class_image_bytes("cat", i), 0) for i in range(6)]
    dogs = []
    for seed in range(10_000):
        data = class_image_bytes("dog", seed)
        if fractions.side(hashlib.sha256(data).hexdigest()) is Side.EVALUATION:
            dogs.append(example_from_bytes(f"d{seed}", data, 1))
        if len(dogs) == 2:
            break
    with pytest.raises(InvalidInput) as raised:
        run_training(
            cats + dogs,
            TINY_CONFIG,
            DirectoryArtifactSink(tmp_path / "none"),
            version="none",
        )
    message = str(raised.value)
    assert message.startswith("no training images labeled dog (")
    assert "(dog: 0 training, 0 validation, 2 evaluation;" in message
    assert message.endswith("label more images")
    assert not (tmp_path / "none" / "_SUCCESS").exists()


def test_a_warm_start_from_a_single_view_champion_is_served_single_view(
    tmp_path: Path, class_folder: Path, trained: Trained
) -> None:
    served = load_model(fetch_artifact(trained.blobs, "v1", trained.cache))
    single_view = trainable_core(served)
    metrics = run_training(
        folder_examples(class_folder),
        replace(TINY_CONFIG, epochs=1),
        DirectoryArtifactSink(tmp_path / "single"),
        version="v4",
        champion=Champion("v1-core", single_view),
    )
    assert metrics["flip_averaged"] is False
    assert load_model(tmp_path / "single").name == single_view.name


def test_the_saved_model_carries_no_optimizer_state(trained: Trained, tmp_path: Path) -> None:
    import zipfile

    import h5py

    model_dir = fetch_artifact(trained.blobs, "v1", trained.cache)
    with zipfile.ZipFile(model_dir / "model.keras") as archive:
        archive.extract("model.weights.h5", tmp_path)
    names: list[str] = []
    with h5py.File(tmp_path / "model.weights.h5") as weights:
        weights.visit(names.append)
    assert names and not [name for name in names if "optimizer" in name]
    params = load_model(model_dir).count_params()
    assert trained.metrics["model_bytes"] < 5 * params + 200_000
