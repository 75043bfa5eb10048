"""The served model: load, warm up, check against the canary set, then swap in one step.

A new model is loaded and checked outside any lock the request path takes, so
requests never wait for a load; only the final reference swap is locked. A
model that fails any step is dropped and the model served before stays.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from catdog.artifacts import MODEL_FILE, canary_images
from catdog.clock import Clock, utc_now
from catdog.errors import CanaryMismatch, CatdogError, ModelLoadFailed, ModelNotLoaded
from catdog.preprocessing import DEFAULT_MAX_PIXELS, preprocess_bytes
from inference_server.classifier import Classifier

ModelLoader = Callable[[Path, str | None], Classifier]

CANARY_TOLERANCE = 1e-3

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class ServedModel:
    """A loaded, warmed-up and checked classifier; identity matters (eq=False)."""

    classifier: Classifier
    version: str
    loaded_at: datetime
    model_dir: Path | None = None

    @property
    def input_size(self) -> int:
        return self.classifier.input_size

    @property
    def metrics(self) -> dict[str, Any]:
        return self.classifier.metrics


class ModelHolder:
    """Holds the current model; ``load_and_swap`` replaces it, or raises and keeps it."""

    def __init__(
        self,
        loader: ModelLoader = Classifier.load,
        clock: Clock = utc_now,
        warmup_batch_sizes: Sequence[int] = (1,),
        canary_tolerance: float = CANARY_TOLERANCE,
        max_image_pixels: int = DEFAULT_MAX_PIXELS,
        require_canaries: bool = True,
    ) -> None:
        self._loader = loader
        self._clock = clock
        self._warmup_batch_sizes = tuple(sorted(set(warmup_batch_sizes)))
        self._tolerance = canary_tolerance
        self._max_pixels = max_image_pixels
        self._require_canaries = require_canaries
        self._current: ServedModel | None = None
        self._swap_lock = threading.Lock()
        self._reload_lock = threading.Lock()

    def current(self) -> ServedModel | None:
        return self._current

    def require(self) -> ServedModel:
        """The current model; raises ModelNotLoaded before the first successful load."""
        model = self._current
        if model is None:
            raise ModelNotLoaded("no model is loaded yet")
        return model

    def load_and_swap(self, model_dir: Path, version: str | None = None) -> ServedModel:
        """Load ``model_dir``, warm it up, check its canaries, then serve it.

        Concurrent calls run one after another. Raises ModelLoadFailed or
        CanaryMismatch (the previous model keeps serving).
        """
        with self._reload_lock:
            started = time.perf_counter()
            classifier = self._load(model_dir, version)
            loaded = time.perf_counter()
            self._warm_up(classifier)
            warmed = time.perf_counter()
            checked = self._check_canaries(classifier, model_dir)
            model = ServedModel(classifier, classifier.version, self._clock(), model_dir)
            with self._swap_lock:
                previous, self._current = self._current, model
            done = time.perf_counter()
            log.info(
                "event=model_swapped version=%s previous=%s input_size=%d canaries=%d "
                "load_ms=%.0f warmup_ms=%.0f canary_ms=%.0f",
                model.version,
                previous.version if previous else None,
                model.input_size,
                checked,
                (loaded - started) * 1000,
                (warmed - loaded) * 1000,
                (done - warmed) * 1000,
                extra={"model_version": model.version},
            )
            return model

    def _load(self, model_dir: Path, version: str | None) -> Classifier:
        if not (model_dir / MODEL_FILE).is_file():
            raise ModelLoadFailed(f"{model_dir} has no {MODEL_FILE}")
        try:
            classifier = self._loader(model_dir, version)
        except CatdogError:
            raise
        except Exception as exc:  # any failure to deserialize is the artifact's fault
            raise ModelLoadFailed(
                f"model {version or model_dir.name} does not load: {exc}"
            ) from exc
        shape = tuple(classifier.model.input_shape)
        if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3:
            raise ModelLoadFailed(
                f"model {classifier.version} takes input of shape {shape}, not (None, S, S, 3)"
            )
        return classifier

    def _warm_up(self, classifier: Classifier) -> None:
        """Run one batch of each warm-up size, so the first requests pay no tracing.

        The signature's batch dimension is None, so one trace serves every batch
        size; a size of 1 is enough, and the canary batch exercises a larger one.
        """
        size = classifier.input_size
        for batch_size in self._warmup_batch_sizes:
            batch = np.zeros((batch_size, size, size, 3), dtype=np.float32)
            try:
                result = classifier.predict_batch(batch)
            except Exception as exc:
                raise ModelLoadFailed(
                    f"model {classifier.version} fails to predict: {exc}"
                ) from exc
            if result.shape != (batch_size,) or not np.all((result >= 0) & (result <= 1)):
                raise ModelLoadFailed(
                    f"model {classifier.version} does not output one probability per image"
                )

    def _check_canaries(self, classifier: Classifier, model_dir: Path) -> int:
        """Compare predictions with the probabilities recorded at training; return the count."""
        try:
            canaries = canary_images(model_dir, classifier.metrics)
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ModelLoadFailed(
                f"model {classifier.version} has an incomplete canary set: {exc}"
            ) from exc
        if not canaries:
            if self._require_canaries:
                raise ModelLoadFailed(f"model {classifier.version} has no canary set to check")
            return 0
        pixels = []
        for canary, data in canaries:
            if hashlib.sha256(data).hexdigest() != canary.sha256:
                raise CanaryMismatch(f"canary image {canary.name} does not match its sha256")
            pixels.append(preprocess_bytes(data, classifier.input_size, self._max_pixels))
        dogs = classifier.predict_batch(np.stack(pixels))
        for (canary, _), dog in zip(canaries, dogs, strict=True):
            recorded = canary.probabilities
            expected_dog = float(recorded.get("dog", 1.0 - float(recorded.get("cat", 0.0))))
            if abs(float(dog) - expected_dog) > self._tolerance:
                raise CanaryMismatch(
                    f"model {classifier.version} gives canary {canary.name} p(dog)={dog:.6f}, "
                    f"recorded {expected_dog:.6f} (tolerance {self._tolerance:g})"
                )
        return len(canaries)
