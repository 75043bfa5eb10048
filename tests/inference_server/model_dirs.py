"""Tiny deterministic Keras models saved as model directories, and generated images."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from catdog.artifacts import CANARY_DIR, METRICS_FILE, MODEL_FILE, SUCCESS_FILE
from catdog.preprocessing import preprocess_bytes
from inference_server.classifier import Classifier


def image_bytes(seed: int, size: int = 64, fmt: str = "JPEG") -> bytes:
    """A colourful gradient image, different for every seed."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=3)
    ramp = np.linspace(0, 255, size)
    pixels = np.empty((size, size, 3), dtype=np.float64)
    pixels[..., 0] = (base[0] + ramp[None, :]) % 256
    pixels[..., 1] = (base[1] + ramp[:, None]) % 256
    pixels[..., 2] = (base[2] + rng.integers(0, 256, size=(size, size)) * 0.2) % 256
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(out, format=fmt)
    return out.getvalue()


def build_keras_model(input_size: int, seed: int):
    import keras

    inputs = keras.Input((input_size, input_size, 3))
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu", name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="head")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.6, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def write_model_dir(
    path: Path,
    version: str,
    seed: int,
    input_size: int = 32,
    canaries: int = 3,
    canary_offset: float = 0.0,
    accuracy: float = 0.9,
) -> Path:
    """Save a model directory with metrics.json, a canary set and _SUCCESS.

    ``canary_offset`` shifts the recorded probabilities, making the canary check fail.
    """
    path.mkdir(parents=True, exist_ok=True)
    model = build_keras_model(input_size, seed)
    model.save(path / MODEL_FILE)
    classifier = Classifier(model, version)
    entries = []
    (path / CANARY_DIR).mkdir(exist_ok=True)
    for i in range(canaries):
        data = image_bytes(1000 + i, fmt="PNG")
        (path / CANARY_DIR / f"{i}.img").write_bytes(data)
        dog = classifier.predict_one(preprocess_bytes(data, input_size)).dog
        dog = dog - canary_offset if dog > 0.5 else dog + canary_offset
        entries.append(
            {
                "name": f"{i}.img",
                "sha256": hashlib.sha256(data).hexdigest(),
                "probabilities": {"cat": 1.0 - dog, "dog": dog},
            }
        )
    metrics = {"version": version, "accuracy": accuracy, "canary": entries}
    (path / METRICS_FILE).write_text(json.dumps(metrics))
    (path / SUCCESS_FILE).write_bytes(b"")
    return path
