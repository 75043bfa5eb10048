"""Small, learnable cat/dog stand-ins made by the tests: "cats" are bluish with
horizontal stripes, "dogs" reddish with vertical stripes, each with its own noise."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from catdog.domain import LABELS, ImageRecord, Label
from catdog.storage.ports import Storage

SIZE = 40


def class_image_bytes(label: Label, seed: int, size: int = SIZE, fmt: str = "PNG") -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 60, size=(size, size, 3)).astype(np.int64)
    stripes = (np.arange(size) // 4) % 2 == 0
    if label == "cat":
        pixels[:, :, 2] += 150
        pixels[stripes, :, :] += 40
    else:
        pixels[:, :, 0] += 150
        pixels[:, stripes, :] += 40
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(out, format=fmt)
    return out.getvalue()


def write_class_folder(root: Path, per_class: int, seed: int = 0) -> Path:
    """``root/cat`` and ``root/dog`` with ``per_class`` images each."""
    for offset, label in enumerate(LABELS):
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            data = class_image_bytes(label, seed * 100_000 + offset * 10_000 + index)
            (folder / f"{label}-{index:03d}.png").write_bytes(data)
    return root


def add_labeled_images(
    storage: Storage, per_class: int, seed: int = 7, at: datetime | None = None
) -> datetime:
    """Catalog records with blobs and manager labels; returns the latest label time."""
    import hashlib

    moment = at or datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    latest: datetime | None = None
    for offset, label in enumerate(LABELS):
        for index in range(per_class):
            data = class_image_bytes(label, seed * 100_000 + offset * 10_000 + index)
            key = f"{label}-{seed}-{index}.png"
            record = ImageRecord(
                key=key,
                content_type="image/png",
                size=len(data),
                width=SIZE,
                height=SIZE,
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_at=moment,
            )
            storage.blobs.put("images", record.blob_name, data, "image/png")
            storage.catalog.create(record)
            labeled_at = moment.replace(second=index % 60, minute=offset)
            storage.catalog.set_label(key, label, "manager", labeled_at)
            latest = labeled_at if latest is None else max(latest, labeled_at)
    assert latest is not None, "per_class must be at least 1"
    return latest
