"""A loaded cat/dog model and its compiled prediction function.

Model format (every architecture): a Keras 3 model saved as ``model.keras`` whose
input is float32 RGB pixels in [0, 255] of shape (None, S, S, 3) (rescaling is a
layer inside the model) and whose output is (None, 1): the probability of "dog".
Class index 0 is "cat", 1 is "dog". The input size S is read from the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from catdog.artifacts import METRICS_FILE, MODEL_FILE
from catdog.decision import confidence_of, label_for
from catdog.domain import Label


@dataclass(frozen=True)
class ClassProbabilities:
    dog: float

    @property
    def cat(self) -> float:
        return 1.0 - self.dog

    @property
    def label(self) -> Label:
        return label_for(self.dog)

    @property
    def confidence(self) -> float:
        return confidence_of(self.dog)

    def to_dict(self) -> dict[str, float]:
        return {"cat": self.cat, "dog": self.dog}


@dataclass
class Classifier:
    """A Keras model wrapped in a tf.function with a fixed input signature (no retracing)."""

    model: Any
    version: str
    metrics: dict[str, Any] = field(default_factory=dict)
    model_dir: Path | None = None

    def __post_init__(self) -> None:
        import tensorflow as tf

        shape = self.model.input_shape
        self.input_size = int(shape[1])
        spec = tf.TensorSpec([None, self.input_size, self.input_size, 3], tf.float32)
        model = self.model
        self._predict = tf.function(
            lambda batch: model(batch, training=False),
            input_signature=[spec],
            reduce_retracing=True,
        )

    @classmethod
    def load(cls, model_dir: Path, version: str | None = None) -> Classifier:
        """Load ``model_dir/model.keras`` (and its metrics.json when present) for serving."""
        import keras

        model = keras.models.load_model(model_dir / MODEL_FILE, compile=False)
        metrics_path = model_dir / METRICS_FILE
        metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
        return cls(model, version or metrics.get("version") or model_dir.name, metrics, model_dir)

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """Probability of "dog" for each row of a (N, S, S, 3) float32 batch."""
        result = self._predict(np.asarray(batch, dtype=np.float32))
        return np.asarray(result).reshape(-1).astype(np.float64)

    def predict_one(self, pixels: np.ndarray) -> ClassProbabilities:
        return ClassProbabilities(float(self.predict_batch(pixels[np.newaxis])[0]))
