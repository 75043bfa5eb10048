"""SageMaker-compatible mode: train on the ``training`` channel (``DIR/cat``,
``DIR/dog``) and write a model directory to ``SM_MODEL_DIR``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catdog.errors import ConfigurationError
from catdog.settings import Settings
from training_job.artifact import DirectoryArtifactSink
from training_job.data import folder_examples
from training_job.job import run_training
from training_job.train import TrainingConfig

DEFAULT_MODEL_DIR = "/opt/ml/model"
# Hyperparameters we accept from SageMaker, with the config field each sets.
HYPERPARAMETERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "arch": ("arch", str),
    "epochs": ("epochs", int),
    "input_size": ("input_size", int),
    "input-size": ("input_size", int),
    "batch_size": ("batch_size", int),
    "batch-size": ("batch_size", int),
    "seed": ("seed", int),
    "learning_rate": ("learning_rate", float),
    "learning-rate": ("learning_rate", float),
}


@dataclass(frozen=True)
class SageMakerEnv:
    training_dir: Path
    model_dir: Path
    job_name: str = "sagemaker"
    hyperparameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SageMakerEnv | None:
        """Parse the ``SM_*`` variables; None when ``SM_CHANNEL_TRAINING`` is not set."""
        channel = env.get("SM_CHANNEL_TRAINING")
        if not channel:
            return None
        training_env = _json(env, "SM_TRAINING_ENV")
        hyperparameters = _json(env, "SM_HPS")
        return cls(
            training_dir=Path(channel),
            model_dir=Path(env.get("SM_MODEL_DIR") or DEFAULT_MODEL_DIR),
            job_name=str(training_env.get("job_name") or "sagemaker"),
            hyperparameters=hyperparameters,
        )

    def config_overrides(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Config fields from the hyperparameters (``extra``, from the command line, wins)."""
        overrides: dict[str, Any] = {}
        for source in (self.hyperparameters, extra or {}):
            for name, value in source.items():
                if name in HYPERPARAMETERS and value is not None:
                    target, convert = HYPERPARAMETERS[name]
                    try:
                        overrides[target] = convert(value)
                    except (TypeError, ValueError):
                        raise ConfigurationError(
                            f"hyperparameter {name} has an invalid value {value!r}"
                        ) from None
        return overrides


def _json(env: Mapping[str, str], name: str) -> dict[str, Any]:
    raw = env.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigurationError(f"{name} is not valid JSON") from None
    return value if isinstance(value, dict) else {}


def run_sagemaker(
    sm: SageMakerEnv,
    settings: Settings,
    *,
    extra_hyperparameters: Mapping[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
    **training_options: Any,
) -> dict[str, Any]:
    """Train on the channel and write the model directory; returns the metrics."""
    config = TrainingConfig.from_settings(settings, **sm.config_overrides(extra_hyperparameters))
    return run_training(
        folder_examples(sm.training_dir),
        config,
        DirectoryArtifactSink(sm.model_dir),
        version=sm.job_name,
        log=log,
        **training_options,
    )
