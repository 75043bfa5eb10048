"""Measuring a model the same way every time: predictions on decoded images, then
accuracy, loss, per-class precision/recall/F1, ROC AUC and the confusion matrix.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from catdog.artifacts import MODEL_FILE
from catdog.decision import DOG_THRESHOLD
from catdog.domain import LABELS
from catdog.errors import InvalidInput, NotFound
from training_job.data import DecodedSet, decode_examples, folder_examples
from training_job.pipeline import evaluation_dataset

EVAL_BATCH_SIZE = 64
_EPSILON = 1e-7


@dataclass(frozen=True)
class Predictions:
    probabilities: np.ndarray
    seconds: float

    @property
    def images_per_second(self) -> float:
        return len(self.probabilities) / self.seconds if self.seconds > 0 else 0.0


def predict(
    model: Any,
    pixels: np.ndarray,
    *,
    batch_size: int = EVAL_BATCH_SIZE,
    timer: Callable[[], float] = time.perf_counter,
    on_batch: Callable[[int], None] | None = None,
) -> Predictions:
    """P(dog) for each image in an (N, S, S, 3) uint8 or float32 array."""
    if len(pixels) == 0:
        return Predictions(np.zeros(0), 0.0)
    started = timer()
    outputs = []
    for batch in evaluation_dataset(pixels, batch_size):
        outputs.append(np.asarray(model(batch, training=False)).reshape(-1))
        if on_batch is not None:
            on_batch(len(outputs[-1]))
    return Predictions(np.concatenate(outputs).astype(np.float64), timer() - started)


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Metrics for binary labels (0 = cat, 1 = dog) and predicted P(dog).

    ``confusion_matrix[i][j]`` counts images of true class i predicted as class j,
    in the order of ``labels`` (cat, dog).
    """
    truth = np.asarray(labels).astype(np.int64).reshape(-1)
    p_dog = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    if truth.shape != p_dog.shape:
        raise ValueError("labels and probabilities differ in length")
    n = len(truth)
    predicted = (p_dog >= DOG_THRESHOLD).astype(np.int64)
    matrix = [[int(np.sum((truth == t) & (predicted == p))) for p in (0, 1)] for t in (0, 1)]
    per_class = {}
    for index, name in enumerate(LABELS):
        true_positive = matrix[index][index]
        predicted_count = matrix[0][index] + matrix[1][index]
        support = sum(matrix[index])
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": support,
        }
    clipped = np.clip(p_dog, _EPSILON, 1 - _EPSILON)
    loss = (
        float(-np.mean(truth * np.log(clipped) + (1 - truth) * np.log(1 - clipped))) if n else None
    )
    return {
        "n": n,
        "accuracy": float(np.mean(predicted == truth)) if n else None,
        "loss": loss,
        "per_class": per_class,
        "confusion_matrix": matrix,
        "confusion_matrix_labels": list(LABELS),
        "roc_auc": roc_auc(truth, p_dog),
        "threshold": DOG_THRESHOLD,
    }


def roc_auc(truth: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties);
    None when only one class is present."""
    positives = int(np.sum(truth == 1))
    negatives = int(np.sum(truth == 0))
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    rank_sum = float(np.sum(ranks[truth == 1]))
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def load_model(model_path: Path) -> Any:
    """Load a model from a model directory or a ``.keras`` file, for inference."""
    import keras

    file = model_path / MODEL_FILE if model_path.is_dir() else model_path
    if not file.is_file():
        raise NotFound(f"no model at {model_path} (expected a folder with {MODEL_FILE})")
    try:
        return keras.models.load_model(file, compile=False)
    except Exception as exc:  # Keras raises many types for a bad file (zip, JSON, h5, ...)
        raise InvalidInput(f"{file} is not a readable Keras model ({exc})") from None


def evaluate_decoded(model: Any, decoded: DecodedSet, **predict_options: Any) -> dict[str, Any]:
    predictions = predict(model, decoded.pixels, **predict_options)
    metrics = classification_metrics(decoded.labels, predictions.probabilities)
    metrics["images_per_second"] = predictions.images_per_second
    metrics["skipped"] = len(decoded.skipped)
    return metrics


def evaluate_folder(model_path: Path, data_dir: Path, *, progress: bool = False) -> dict[str, Any]:
    """Measure the model at ``model_path`` on every image in ``data_dir/{cat,dog}``."""
    model = load_model(model_path)
    size = int(model.input_shape[1])
    examples = folder_examples(data_dir)
    if not examples:
        raise InvalidInput(f"{data_dir} has no images in cat/ or dog/")
    started = time.perf_counter()
    decoded = decode_examples(examples, size, progress=progress)
    bar = _progress_bar(len(decoded)) if progress else None
    metrics = evaluate_decoded(model, decoded, on_batch=bar.update if bar else None)
    if bar is not None:
        bar.close()
    metrics["model"] = str(model_path)
    metrics["data"] = str(data_dir)
    metrics["input_size"] = size
    metrics["wall_time_s"] = time.perf_counter() - started
    return metrics


def _progress_bar(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="evaluating", unit="img", file=sys.stderr, leave=False)
