"""Paired scoring for the promotion gate: the challenger and the champion, each in
its served form, scored on the same frozen evaluation images (the manifest).

The manifest (sha256 and label of every evaluation image, in order) and each
model's P(dog) per image go into ``catdog.artifacts.EVALUATION_FILE`` beside the model, so a
decision can be audited and re-run; ``metrics.json`` carries the counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from catdog.decision import DOG_THRESHOLD
from catdog.domain import LABELS
from catdog.errors import InvalidInput
from catdog.gate import PairedEvidence
from training_job.data import DecodedSet, Example, decode_examples, folder_examples
from training_job.evaluate import classification_metrics, load_model, predict
from training_job.model import model_input_size


def manifest_id(entries: Sequence[tuple[str, int]]) -> str:
    """A digest of the ordered (sha256, label) pairs: equal ids, equal evaluation sets."""
    text = "\n".join(f"{sha256} {LABELS[label]}" for sha256, label in entries)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ModelScores:
    """One model's P(dog) on a manifest."""

    version: str | None
    manifest_id: str
    p_dog: np.ndarray

    def correct(self, labels: np.ndarray) -> list[bool]:
        predicted = (self.p_dog >= DOG_THRESHOLD).astype(np.int64)
        return [bool(p == t) for p, t in zip(predicted, labels.astype(np.int64), strict=True)]

    def summary(self, labels: np.ndarray) -> dict[str, Any]:
        return {
            "version": self.version,
            "manifest_id": self.manifest_id,
            "correct": sum(self.correct(labels)),
            "n": len(labels),
        }


@dataclass(frozen=True)
class EvaluationResult:
    """Everything the gate and the manager pages need about one run's evaluation."""

    decoded: DecodedSet
    manifest_id: str
    challenger: ModelScores
    champion: ModelScores | None

    @property
    def labels(self) -> np.ndarray:
        return self.decoded.labels

    def evidence(self) -> PairedEvidence:
        labels = [int(label) for label in self.labels]
        return PairedEvidence.from_correctness(
            self.manifest_id,
            labels,
            self.challenger.correct(self.labels),
            None if self.champion is None else self.champion.correct(self.labels),
            None if self.champion is None else self.champion.version,
        )

    def metrics(self) -> dict[str, Any]:
        """What goes into metrics.json: the challenger's measurements on the evaluation
        set, both models' score summaries and the paired evidence."""
        measured = classification_metrics(self.labels, self.challenger.p_dog)
        return {
            **measured,
            "manifest_id": self.manifest_id,
            "scores": {
                "challenger": self.challenger.summary(self.labels),
                "champion": None if self.champion is None else self.champion.summary(self.labels),
            },
            "gate_evidence": self.evidence().to_dict(),
        }

    def manifest_file(self, split: dict[str, Any]) -> bytes:
        images = []
        for index, example in enumerate(self.decoded.examples):
            entry: dict[str, Any] = {
                "sha256": example.sha256,
                "label": LABELS[example.label],
                "challenger_p_dog": float(self.challenger.p_dog[index]),
            }
            if self.champion is not None:
                entry["champion_p_dog"] = float(self.champion.p_dog[index])
            images.append(entry)
        document = {
            "manifest_id": self.manifest_id,
            "split": split,
            "challenger": self.challenger.version,
            "champion": None if self.champion is None else self.champion.version,
            "images": images,
        }
        return json.dumps(document, indent=1).encode()


def compare_folder(model_path: Path, against_path: Path, data_dir: Path) -> dict[str, Any]:
    """``catdog evaluate --model A --against B``: both models on every image in
    ``data_dir/{cat,dog}``, paired as the gate pairs them (A is the challenger)."""
    examples = folder_examples(data_dir)
    if not examples:
        raise InvalidInput(f"{data_dir} has no images in cat/ or dog/")
    result = score_evaluation(
        examples,
        load_model(model_path),
        challenger_version=str(model_path),
        champion=load_model(against_path),
        champion_version=str(against_path),
    )
    evidence = result.evidence().to_dict()
    return {
        "model": str(model_path),
        "against": str(against_path),
        "data": str(data_dir),
        "skipped": len(result.decoded.skipped),
        **evidence,
        "model_accuracy": evidence["challenger_accuracy"],
        "model_interval": evidence["challenger_interval"],
        "against_accuracy": evidence["champion_accuracy"],
        "against_interval": evidence["champion_interval"],
        "model_only_right": evidence["challenger_only"],
        "against_only_right": evidence["champion_only"],
    }


def score_evaluation(
    examples: Sequence[Example],
    challenger: Any,
    *,
    challenger_version: str,
    champion: Any | None = None,
    champion_version: str | None = None,
) -> EvaluationResult:
    """Decode the evaluation images once per input size and score both served models.

    Images that cannot be decoded are left out of the manifest for both models alike.
    """
    size = model_input_size(challenger)
    decoded = decode_examples(examples, size)
    entries = [(e.sha256, e.label) for e in decoded.examples]
    identity = manifest_id(entries)
    challenger_scores = ModelScores(
        challenger_version, identity, predict(challenger, decoded.pixels).probabilities
    )
    champion_scores = None
    if champion is not None:
        champion_size = model_input_size(champion)
        pixels = decoded.pixels
        if champion_size != size:
            again = decode_examples(decoded.examples, champion_size)
            if [e.sha256 for e in again.examples] != [sha for sha, _ in entries]:
                raise ValueError("the champion's decode of the evaluation set differs")
            pixels = again.pixels
        champion_scores = ModelScores(
            champion_version, identity, predict(champion, pixels).probabilities
        )
    return EvaluationResult(decoded, identity, challenger_scores, champion_scores)
