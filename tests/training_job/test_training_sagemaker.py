"""SageMaker-compatible mode: the training channel in, a model directory out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catdog.artifacts import METRICS_FILE, MODEL_FILE, SUCCESS_FILE
from catdog.errors import ConfigurationError
from training_job.__main__ import main
from training_job.evaluate import load_model
from training_job.sagemaker import SageMakerEnv


def test_without_the_training_channel_it_is_not_sagemaker_mode() -> None:
    assert SageMakerEnv.from_env({"SM_MODEL_DIR": "/opt/ml/model"}) is None


def test_sm_variables_are_parsed() -> None:
    sm = SageMakerEnv.from_env(
        {
            "SM_CHANNEL_TRAINING": "/opt/ml/input/data/training",
            "SM_MODEL_DIR": "/tmp/model",
            "SM_HPS": json.dumps({"epochs": "3", "input_size": 64, "unknown": 1}),
            "SM_TRAINING_ENV": json.dumps({"job_name": "catdog-2026"}),
        }
    )
    assert sm is not None
    assert sm.training_dir == Path("/opt/ml/input/data/training")
    assert sm.model_dir == Path("/tmp/model")
    assert sm.job_name == "catdog-2026"
    assert sm.config_overrides() == {"epochs": 3, "input_size": 64}
    # Command-line hyperparameters win over SM_HPS.
    assert sm.config_overrides({"epochs": "5", "seed": None}) == {"epochs": 5, "input_size": 64}


def test_default_model_dir_and_bad_values() -> None:
    sm = SageMakerEnv.from_env({"SM_CHANNEL_TRAINING": "/data"})
    assert sm is not None and sm.model_dir == Path("/opt/ml/model") and sm.job_name == "sagemaker"
    with pytest.raises(ConfigurationError):
        SageMakerEnv.from_env({"SM_CHANNEL_TRAINING": "/data", "SM_HPS": "{not json"})
    with pytest.raises(ConfigurationError):
        SageMakerEnv(Path("/d"), Path("/m"), hyperparameters={"epochs": "many"}).config_overrides()


@pytest.mark.slow
def test_sagemaker_mode_trains_on_the_channel_and_writes_sm_model_dir(
    tmp_path: Path, class_folder: Path
) -> None:
    model_dir = tmp_path / "opt-ml-model"
    env = {
        "CATDOG_DATA_DIR": str(tmp_path / "data"),
        "SM_CHANNEL_TRAINING": str(class_folder),
        "SM_MODEL_DIR": str(model_dir),
        "SM_HPS": json.dumps({"epochs": 1, "input_size": 32, "batch_size": 8}),
        "SM_TRAINING_ENV": json.dumps({"job_name": "sm-job-1"}),
    }
    assert main(["--seed", "4"], env=env) == 0
    assert (model_dir / SUCCESS_FILE).exists()
    metrics = json.loads((model_dir / METRICS_FILE).read_text())
    assert metrics["version"] == "sm-job-1"
    assert metrics["epochs_run"] == 1
    assert metrics["config"]["seed"] == 4
    sides = ("train", "validation", "evaluation")
    assert sum(metrics["counts"][side]["cat"] for side in sides) == 16
    assert sorted(p.name for p in (model_dir / "canary").iterdir()) == sorted(
        entry["name"] for entry in metrics["canary"]
    )
    assert load_model(model_dir / MODEL_FILE).input_shape[1:] == (32, 32, 3)


def test_sagemaker_mode_with_an_empty_channel_fails(tmp_path: Path) -> None:
    env = {
        "CATDOG_DATA_DIR": str(tmp_path / "data"),
        "SM_CHANNEL_TRAINING": str(tmp_path / "empty"),
        "SM_MODEL_DIR": str(tmp_path / "model"),
    }
    assert main([], env=env) == 2
    assert not (tmp_path / "model" / SUCCESS_FILE).exists()
