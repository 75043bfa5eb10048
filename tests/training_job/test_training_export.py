"""Re-packaging a trained model directory in its served (flip-averaged) form."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from catdog.errors import InvalidInput
from catdog.preprocessing import preprocess_bytes
from inference_server.classifier import Classifier
from tests.training_job.conftest import TINY_CONFIG
from tests.training_job.training_images import write_class_folder
from training_job.artifact import DirectoryArtifactSink
from training_job.data import folder_examples
from training_job.export import export_model_dir
from training_job.job import run_training
from training_job.model import trainable_core

pytestmark = pytest.mark.slow


def test_export_keeps_the_network_and_history_and_redoes_the_measurements(
    tmp_path: Path, class_folder: Path
) -> None:
    single = tmp_path / "single"
    config = replace(TINY_CONFIG, epochs=1, flip_average=False)
    trained = run_training(
        folder_examples(class_folder), config, DirectoryArtifactSink(single), version="v9"
    )
    assert trained["flip_averaged"] is False
    assert "single_view_accuracy" not in trained["validation"]

    served = tmp_path / "served"
    exported = export_model_dir(single, class_folder, served)

    assert (served / "_SUCCESS").exists()
    on_disk = json.loads((served / "metrics.json").read_text())
    assert on_disk["flip_averaged"] is True
    assert on_disk["history"] == trained["history"]
    assert on_disk["counts"] == trained["counts"]
    assert on_disk["version"] == "v9"
    single_view = on_disk["validation"]["single_view_accuracy"]
    assert single_view == pytest.approx(trained["validation"]["accuracy"])
    assert on_disk["repackaged_from"]["accuracy"] == pytest.approx(trained["accuracy"])
    # The same evaluation images, now scored in the served form.
    assert exported["n"] == trained["n"] > 0
    assert exported["manifest_id"] == trained["manifest_id"]
    assert (
        json.loads((served / "evaluation.json").read_text())["manifest_id"]
        == (trained["manifest_id"])
    )
    assert [c["sha256"] for c in on_disk["canary"]] == [c["sha256"] for c in trained["canary"]]

    # Same weights inside; the served model averages the photo and its mirror.
    before = Classifier.load(single)
    after = Classifier.load(served)
    for a, b in zip(
        before.model.get_weights(), trainable_core(after.model).get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    for entry in on_disk["canary"]:
        pixels = preprocess_bytes((served / "canary" / entry["name"]).read_bytes(), 32)
        mirrored = pixels[:, ::-1]
        expected = (before.predict_one(pixels).dog + before.predict_one(mirrored).dog) / 2
        assert after.predict_one(pixels).dog == pytest.approx(expected, abs=1e-5)
        assert entry["probabilities"]["dog"] == pytest.approx(expected, abs=1e-5)


def test_export_refuses_other_data(tmp_path: Path, class_folder: Path) -> None:
    single = tmp_path / "single"
    config = replace(TINY_CONFIG, epochs=1, flip_average=False)
    run_training(folder_examples(class_folder), config, DirectoryArtifactSink(single), version="v")
    other = write_class_folder(tmp_path / "other", per_class=40, seed=5)
    with pytest.raises(InvalidInput):
        export_model_dir(single, other, tmp_path / "served")
    assert not (tmp_path / "served" / "_SUCCESS").exists()
