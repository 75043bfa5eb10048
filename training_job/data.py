"""Dataset assembly: labeled images from a folder and the catalog, a stable split,
and one decode into memory (the tf.data pipelines are in ``training_job.pipeline``).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from catdog.domain import LABELS
from catdog.errors import CatdogError, InvalidInput
from catdog.preprocessing import preprocess_bytes
from catdog.storage.ports import BlobStore, ImageCatalog

VALIDATION_FRACTION = 0.2
# Salt for the split hash, so the split is not correlated with anything else keyed by sha256.
SPLIT_SALT = b"catdog-split-v1:"
_HASH_SPACE = 2**64


@dataclass(frozen=True)
class Example:
    """One labeled image: its bytes, identity and label (0 = cat, 1 = dog)."""

    name: str
    sha256: str
    label: int
    data: bytes = field(repr=False)
    labeled_at: datetime | None = None


@dataclass(frozen=True)
class Split:
    train: list[Example]
    validation: list[Example]


@dataclass(frozen=True)
class DecodedSet:
    """Images decoded once to (N, S, S, 3) uint8, with labels and the examples kept."""

    pixels: np.ndarray
    labels: np.ndarray
    examples: list[Example]
    skipped: list[str]

    def __len__(self) -> int:
        return len(self.examples)


def example_from_bytes(
    name: str, data: bytes, label: int, labeled_at: datetime | None = None
) -> Example:
    return Example(name, hashlib.sha256(data).hexdigest(), label, data, labeled_at)


def folder_examples(data_dir: Path) -> list[Example]:
    """Every file in ``data_dir/cat`` and ``data_dir/dog`` (hidden files ignored).

    Raises InvalidInput when the folder has neither class folder.
    """
    class_dirs = [(index, data_dir / label) for index, label in enumerate(LABELS)]
    if not data_dir.is_dir() or not any(path.is_dir() for _, path in class_dirs):
        raise InvalidInput(f"{data_dir} is not a folder with cat/ and dog/ subfolders")
    examples = []
    for index, class_dir in class_dirs:
        if not class_dir.is_dir():
            continue
        for path in sorted(class_dir.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                examples.append(
                    example_from_bytes(f"{LABELS[index]}/{path.name}", path.read_bytes(), index)
                )
    return examples


def catalog_examples(catalog: ImageCatalog, blobs: BlobStore) -> list[Example]:
    """Every manager-labeled image in the catalog, fetched from the ``images`` bucket."""
    examples = []
    for record in catalog.iter_labeled():
        if record.label is None:
            continue
        data = blobs.get("images", record.blob_name).data
        examples.append(
            Example(
                f"catalog/{record.key}",
                record.sha256,
                LABELS.index(record.label),
                data,
                record.labeled_at,
            )
        )
    return examples


def merge_examples(*groups: Iterable[Example]) -> list[Example]:
    """One example per sha256; a later group's label wins (catalog labels over folders)."""
    by_sha: dict[str, Example] = {}
    for group in groups:
        for example in group:
            by_sha[example.sha256] = example
    return sorted(by_sha.values(), key=_order)


def data_cutoff(examples: Iterable[Example]) -> datetime | None:
    """The latest label time among catalog examples (None when none came from the catalog)."""
    moments = [example.labeled_at for example in examples if example.labeled_at is not None]
    return max(moments) if moments else None


def split_position(sha256: str) -> float:
    """Where an image falls in [0, 1): a fixed function of its content alone."""
    digest = hashlib.sha256(SPLIT_SALT + sha256.encode()).digest()
    return int.from_bytes(digest[:8], "big") / _HASH_SPACE


def is_validation(sha256: str, fraction: float = VALIDATION_FRACTION) -> bool:
    return split_position(sha256) < fraction


def split_examples(examples: Sequence[Example], fraction: float = VALIDATION_FRACTION) -> Split:
    """Deterministic split by a hash of each image's sha256.

    An image's side never depends on the other images or on their order, so the
    champion and a challenger see the same validation images. Each class is
    split by the same rule, so each gets about ``fraction`` of its images in
    validation; a class with images on only one side gets its most
    validation-like image moved across, so both sides see both classes.
    """
    ordered = sorted(examples, key=_order)
    train = [e for e in ordered if not is_validation(e.sha256, fraction)]
    validation = [e for e in ordered if is_validation(e.sha256, fraction)]
    for label in range(len(LABELS)):
        in_class = [e for e in ordered if e.label == label]
        if len(in_class) < 2 or fraction <= 0:
            continue
        if not any(e.label == label for e in validation):
            first = min(in_class, key=lambda e: split_position(e.sha256))
            train.remove(first)
            validation.append(first)
        elif not any(e.label == label for e in train):
            last = max(in_class, key=lambda e: split_position(e.sha256))
            validation.remove(last)
            train.append(last)
    return Split(sorted(train, key=_order), sorted(validation, key=_order))


def _order(example: Example) -> tuple[int, str]:
    return (example.label, example.sha256)


def decode_examples(
    examples: Sequence[Example], input_size: int, *, progress: bool = False
) -> DecodedSet:
    """Decode every example once with the shared preprocessing; undecodable ones are skipped."""
    pixels = np.zeros((len(examples), input_size, input_size, 3), dtype=np.uint8)
    kept: list[Example] = []
    skipped: list[str] = []
    for example in _maybe_progress(examples, progress, "decoding"):
        try:
            array = preprocess_bytes(example.data, input_size)
        except CatdogError as exc:
            skipped.append(f"{example.name}: {exc}")
            continue
        pixels[len(kept)] = array.astype(np.uint8)
        kept.append(example)
    labels = np.array([example.label for example in kept], dtype=np.float32)
    return DecodedSet(pixels[: len(kept)], labels, kept, skipped)


def _maybe_progress(items: Sequence[Example], enabled: bool, description: str) -> Iterable[Example]:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=description, unit="img", file=sys.stderr, leave=False)


def class_counts(labels: np.ndarray) -> dict[str, int]:
    return {name: int(np.sum(labels == index)) for index, name in enumerate(LABELS)}
