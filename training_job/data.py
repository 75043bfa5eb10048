"""Dataset assembly: labeled images from a folder and the catalog, a stable split,
and one decode into memory (the tf.data pipelines are in ``training_job.pipeline``).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from catdog.domain import LABELS
from catdog.errors import CatdogError, InvalidInput
from catdog.preprocessing import preprocess_bytes
from catdog.storage.ports import BlobStore, ImageCatalog

# Where an image falls in [0, 1) decides its side: [0, EVALUATION_FRACTION) is the
# frozen evaluation set (the promotion gate), the next VALIDATION_FRACTION is
# validation (early stopping and other training-time choices), the rest is training.
EVALUATION_FRACTION = 0.1
VALIDATION_FRACTION = 0.1
# Salt for the split hash, so the split is not correlated with anything else keyed by sha256.
SPLIT_SALT = b"catdog-split-v1:"
_HASH_SPACE = 2**64


@dataclass(frozen=True)
class Example:
    """One labeled image: its identity, label (0 = cat, 1 = dog) and how to read its
    bytes. Bytes are read on demand, so a run that trains on a sample of a large
    catalog reads only the images it uses."""

    name: str
    sha256: str
    label: int
    load: Callable[[], bytes] = field(repr=False, compare=False)
    labeled_at: datetime | None = None

    @property
    def data(self) -> bytes:
        return self.load()


class Side(StrEnum):
    TRAIN = "train"
    VALIDATION = "validation"
    EVALUATION = "evaluation"


@dataclass(frozen=True)
class SplitFractions:
    """The share of images on the evaluation and validation sides (training gets the rest)."""

    evaluation: float = EVALUATION_FRACTION
    validation: float = VALIDATION_FRACTION

    def __post_init__(self) -> None:
        if self.evaluation < 0 or self.validation < 0 or self.evaluation + self.validation >= 1:
            raise ValueError("split fractions must be >= 0 and leave room for training")

    def side(self, sha256: str) -> Side:
        position = split_position(sha256)
        if position < self.evaluation:
            return Side.EVALUATION
        if position < self.evaluation + self.validation:
            return Side.VALIDATION
        return Side.TRAIN

    @classmethod
    def from_dict(cls, recorded: dict[str, Any]) -> SplitFractions:
        """The fractions a run recorded (runs before the three-way split had no evaluation)."""
        return cls(
            float(recorded.get("evaluation_fraction", 0.0)),
            float(recorded["validation_fraction"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "sha256-hash",
            "salt": SPLIT_SALT.decode(),
            "evaluation_fraction": self.evaluation,
            "validation_fraction": self.validation,
        }


@dataclass(frozen=True)
class Split:
    train: list[Example]
    validation: list[Example]
    evaluation: list[Example]


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
    return Example(name, hashlib.sha256(data).hexdigest(), label, lambda: data, labeled_at)


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
                sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
                examples.append(
                    Example(f"{LABELS[index]}/{path.name}", sha256, index, path.read_bytes)
                )
    return examples


def catalog_examples(catalog: ImageCatalog, blobs: BlobStore) -> list[Example]:
    """Every manager-labeled image in the catalog; bytes come from the ``images`` bucket
    when a run reads them."""
    examples = []
    for record in catalog.iter_labeled():
        if record.label is None:
            continue
        examples.append(
            Example(
                f"catalog/{record.key}",
                record.sha256,
                LABELS.index(record.label),
                partial(_image_bytes, blobs, record.blob_name),
                record.labeled_at,
            )
        )
    return examples


def _image_bytes(blobs: BlobStore, blob_name: str) -> bytes:
    return blobs.get("images", blob_name).data


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


def split_examples(examples: Sequence[Example], fractions: SplitFractions | None = None) -> Split:
    """Deterministic three-way split by a hash of each image's sha256.

    An image's side never depends on the other images or on their order, so the
    champion and a challenger are scored on the same evaluation images, and an
    image never changes side as the catalog grows. The evaluation side is exactly
    the images the hash puts there. Training and validation may trade one image per
    class on tiny sets, so that training sees every class it can and validation
    sees both classes where a class has two images to spare; that never touches
    the evaluation side.
    """
    fractions = fractions or SplitFractions()
    ordered = sorted(examples, key=_order)
    sides: dict[Side, list[Example]] = {side: [] for side in Side}
    for example in ordered:
        sides[fractions.side(example.sha256)].append(example)
    train, validation = sides[Side.TRAIN], sides[Side.VALIDATION]
    for label in range(len(LABELS)):
        in_train = [e for e in train if e.label == label]
        in_validation = [e for e in validation if e.label == label]
        if in_validation and not in_train:
            moved = max(in_validation, key=lambda e: split_position(e.sha256))
            validation.remove(moved)
            train.append(moved)
        elif len(in_train) >= 2 and not in_validation and fractions.validation > 0:
            moved = min(in_train, key=lambda e: split_position(e.sha256))
            train.remove(moved)
            validation.append(moved)
    return Split(
        sorted(train, key=_order),
        sorted(validation, key=_order),
        sorted(sides[Side.EVALUATION], key=_order),
    )


def _order(example: Example) -> tuple[int, str]:
    return (example.label, example.sha256)


def decode_examples(
    examples: Sequence[Example],
    input_size: int,
    *,
    progress: bool = False,
    on_decoded: Callable[[int], None] | None = None,
) -> DecodedSet:
    """Decode every example once with the shared preprocessing; undecodable ones are
    skipped. ``on_decoded`` is told how many examples were handled after each one."""
    pixels = np.zeros((len(examples), input_size, input_size, 3), dtype=np.uint8)
    kept: list[Example] = []
    skipped: list[str] = []
    for index, example in enumerate(_maybe_progress(examples, progress, "decoding")):
        if on_decoded is not None and index:
            on_decoded(index)
        try:
            array = preprocess_bytes(example.data, input_size)
        except CatdogError as exc:
            skipped.append(f"{example.name}: {exc}")
            continue
        pixels[len(kept)] = array.astype(np.uint8)
        kept.append(example)
    if on_decoded is not None and examples:
        on_decoded(len(examples))
    labels = np.array([example.label for example in kept], dtype=np.float32)
    return DecodedSet(pixels[: len(kept)], labels, kept, skipped)


def _maybe_progress(items: Sequence[Example], enabled: bool, description: str) -> Iterable[Example]:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=description, unit="img", file=sys.stderr, leave=False)


def class_counts(labels: np.ndarray) -> dict[str, int]:
    return {name: int(np.sum(labels == index)) for index, name in enumerate(LABELS)}
