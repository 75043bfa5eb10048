"""Images made by the tests themselves (tests never read the shared datasets)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def image_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    color: tuple[int, ...] | int = (200, 30, 30),
    mode: str = "RGB",
    **save_args: object,
) -> bytes:
    """A solid-colour image encoded as ``fmt``."""
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt, **save_args)
    return out.getvalue()


def noise_image_bytes(seed: int, size: tuple[int, int] = (64, 64), fmt: str = "JPEG") -> bytes:
    """A random RGB image: distinct bytes (and sha256) for each seed."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format=fmt)
    return out.getvalue()
