"""Importing a folder of images: ``DIR/cat/*`` and ``DIR/dog/*`` labeled, the rest unlabeled."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from catdog.domain import LABELS, Label, parse_label
from catdog.errors import CatdogError, InvalidInput, KeyConflict
from catdog.ingest import ImageIngest
from catdog.keys import MAX_KEY_LENGTH
from catdog.storage.ports import ImageCatalog

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class Outcome(StrEnum):
    IMPORTED = "imported"
    DUPLICATE = "duplicate"
    KEY_TAKEN = "key_taken"
    INVALID = "invalid"


@dataclass(frozen=True)
class ImportItem:
    path: Path
    outcome: Outcome
    key: str
    reason: str = ""


@dataclass
class ImportSummary:
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    skipped: list[ImportItem] = field(default_factory=list)

    def add(self, item: ImportItem) -> None:
        self.counts[item.outcome] += 1
        if item.outcome != Outcome.IMPORTED:
            self.skipped.append(item)


def key_for(path: Path) -> str:
    """A valid image key from a file name (unsafe characters become '_')."""
    key = _UNSAFE.sub("_", path.name).lstrip(".") or "image"
    return key[-MAX_KEY_LENGTH:]


def find_images(root: Path) -> list[tuple[Path, Label | None]]:
    """Every file under ``root``, with its label when it sits in a ``cat``/``dog`` folder."""
    if not root.is_dir():
        raise InvalidInput(f"{root} is not a folder")
    found: list[tuple[Path, Label | None]] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        parts = path.relative_to(root).parts
        label = parse_label(parts[0]) if len(parts) > 1 and parts[0] in LABELS else None
        found.append((path, label))
    return found


class FolderImport:
    def __init__(self, ingest: ImageIngest, catalog: ImageCatalog, labeled_by: str) -> None:
        self._ingest = ingest
        self._catalog = catalog
        self._labeled_by = labeled_by

    def run(self, files: list[tuple[Path, Label | None]]) -> Iterator[ImportItem]:
        for path, label in files:
            yield self.import_one(path, label)

    def import_one(self, path: Path, label: Label | None) -> ImportItem:
        key = key_for(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            return ImportItem(path, Outcome.INVALID, key, f"cannot read: {exc.strerror}")
        existing = self._catalog.find_by_sha256(hashlib.sha256(data).hexdigest())
        if existing is not None:
            return ImportItem(path, Outcome.DUPLICATE, key, f"same bytes as image {existing.key}")
        try:
            self._ingest.ingest(key, data, label=label, labeled_by=self._labeled_by)
        except KeyConflict:
            return ImportItem(path, Outcome.KEY_TAKEN, key, "key exists with different content")
        except CatdogError as exc:
            return ImportItem(path, Outcome.INVALID, key, str(exc))
        return ImportItem(path, Outcome.IMPORTED, key)
