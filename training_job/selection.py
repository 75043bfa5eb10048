"""What a run trains on: every training image (full retrain) or, continuing from the
champion, the labels that arrived since its data cutoff plus a replay sample of
older images, stratified by class (incremental retrain).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from catdog.domain import LABELS, RetrainMode
from training_job.data import Example


@dataclass(frozen=True)
class TrainingSelection:
    examples: list[Example]
    mode: RetrainMode
    new: int
    replay: int

    def to_dict(self) -> dict[str, object]:
        return {"mode": self.mode.value, "new": self.new, "replay": self.replay}


def select_training(
    train: Sequence[Example],
    *,
    incremental: bool,
    since: datetime | None,
    replay_size: int,
    seed: int,
    max_examples: int | None = None,
) -> TrainingSelection:
    """The training-side examples a run fits on.

    Incremental: examples labeled after ``since`` (all catalog labels when the
    champion has no cutoff) plus up to ``replay_size`` older ones, each class
    represented in proportion to its share of the older images, chosen by a
    seeded hash of the content (deterministic, different per seed). At most
    ``max_examples`` in all (the run's step budget): new labels first, sampled
    the same way when there are more.
    """
    if not incremental:
        return TrainingSelection(list(train), RetrainMode.FULL, len(train), 0)
    cap = len(train) if max_examples is None else max_examples
    new = stratified_sample([e for e in train if _is_new(e, since)], cap, seed)
    older = [e for e in train if not _is_new(e, since)]
    replay = stratified_sample(older, min(replay_size, cap - len(new)), seed)
    return TrainingSelection(new + replay, RetrainMode.INCREMENTAL, len(new), len(replay))


def _is_new(example: Example, since: datetime | None) -> bool:
    if example.labeled_at is None:
        return False
    return since is None or example.labeled_at > since


def stratified_sample(examples: Sequence[Example], size: int, seed: int) -> list[Example]:
    """Up to ``size`` examples with each class in proportion to its share."""
    if size >= len(examples):
        return list(examples)
    if size <= 0:
        return []
    by_class = [[e for e in examples if e.label == index] for index in range(len(LABELS))]
    quotas = [round(size * len(group) / len(examples)) for group in by_class]
    # Rounding can leave the total one off; settle it on the largest class.
    largest = max(range(len(by_class)), key=lambda index: len(by_class[index]))
    quotas[largest] += size - sum(quotas)
    chosen: list[Example] = []
    for group, quota in zip(by_class, quotas, strict=True):
        ranked = sorted(group, key=lambda e: _rank(seed, e.sha256))
        chosen.extend(ranked[: max(0, quota)])
    return chosen


def _rank(seed: int, sha256: str) -> bytes:
    return hashlib.sha256(f"catdog-replay:{seed}:{sha256}".encode()).digest()
