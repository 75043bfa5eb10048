from __future__ import annotations

from pathlib import Path

import pytest

from catdog.errors import ConfigurationError
from catdog.settings import Settings


def test_defaults_are_the_embedded_backend() -> None:
    settings = Settings.from_env({})
    assert settings.backend == "local"
    assert settings.data_dir == Path("var")
    assert settings.web_port == 8000
    assert settings.inference_port == 8501
    assert settings.inference_base_url == "http://127.0.0.1:8501"


def test_environment_overrides_are_typed() -> None:
    settings = Settings.from_env(
        {
            "CATDOG_BACKEND": "aws",
            "CATDOG_DATA_DIR": "/tmp/x",
            "CATDOG_WEB_PORT": "9000",
            "CATDOG_UNSURE_THRESHOLD": "0.8",
            "CATDOG_AWS_IMAGES_BUCKET": "my-images",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    assert settings.backend == "aws"
    assert settings.data_dir == Path("/tmp/x")
    assert settings.web_port == 9000
    assert settings.unsure_threshold == 0.8
    assert settings.aws.images_bucket == "my-images"
    assert settings.aws.region == "eu-west-1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CATDOG_BACKEND": "gcp"}, "CATDOG_BACKEND"),
        ({"CATDOG_WEB_PORT": "eighty"}, "CATDOG_WEB_PORT must be a number"),
        ({"CATDOG_WEB_PORT": "70000"}, "port number"),
        ({"CATDOG_UNSURE_THRESHOLD": "0.2"}, "between 0.5 and 1.0"),
        ({"CATDOG_REPLAY_SIZE": "-1"}, "CATDOG_REPLAY_SIZE must be 0 or more"),
        ({"CATDOG_INCREMENTAL_STEPS": "0"}, "CATDOG_INCREMENTAL_STEPS must be at least 1"),
        ({"CATDOG_DEFAULT_EPOCHS": "0"}, "CATDOG_DEFAULT_EPOCHS must be at least 1"),
        (
            {"CATDOG_TRAINING_TIME_BUDGET_MINUTES": "-5"},
            "CATDOG_TRAINING_TIME_BUDGET_MINUTES must be 0 or more",
        ),
    ],
)
def test_bad_values_are_clear_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


def test_to_env_round_trips(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CATDOG_DATA_DIR": str(tmp_path),
            "CATDOG_INFERENCE_ADMIN_TOKEN": "t0k",
            "CATDOG_AWS_REGION": "us-west-2",
        }
    )
    assert Settings.from_env(settings.to_env()) == settings
