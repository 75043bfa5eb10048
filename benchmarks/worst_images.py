"""The worst-case images of the decode budget: the largest image of each format and
mode that the default settings accept (shared by the decode benchmarks)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from catdog.decode_budget import plan_decode
from catdog.image_decoding import Fit, reduce_factor
from catdog.settings import Settings

# (format, mode, save options): 16 uploads, every accepted format and the modes that
# cost the most bytes per pixel.
WORST_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("PNG", "I;16", {}),
    ("PNG", "RGBA", {}),
    ("PNG", "RGB", {}),
    ("PNG", "LA", {}),
    ("PNG", "L", {}),
    ("PNG", "P", {"transparency": 0}),
    ("PNG", "1", {}),
    ("WEBP", "RGBA", {"quality": 60, "alpha_quality": 60}),
    ("WEBP", "RGB", {"quality": 60}),
    ("GIF", "P", {}),
    ("JPEG", "RGB", {}),
    ("JPEG", "CMYK", {}),
    ("JPEG", "L", {}),
    ("MPO", "RGB", {}),
    ("BMP", "1", {}),
    ("BMP", "RGB", {}),
]


def accepted(fmt: str, mode: str, side: int, settings: Settings) -> bool:
    """Both uses (thumbnail in the web app, model input in the inference server) stay
    within the per-image budget, and the pixel limit holds."""
    if side * side > settings.max_image_pixels:
        return False
    uses: tuple[tuple[int, Fit], ...] = (
        (settings.thumbnail_size, "contain"),
        (settings.training_input_size, "cover"),
    )
    for size, fit in uses:
        decoded: tuple[int, int] = (side, side)
        if fmt in ("JPEG", "MPO"):
            scale = next(s for s in (8, 4, 2, 1) if side // s >= size or s == 1)
            decoded = (-(-side // scale), -(-side // scale))
        plan = plan_decode(fmt, mode, decoded, reduce_factor(decoded, size, fit))
        if plan.estimated_bytes > settings.max_decode_bytes:
            return False
    return True


def largest_side(fmt: str, mode: str, settings: Settings) -> int:
    low, high = 1, 20_000
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if accepted(fmt, mode, middle, settings) else (low, middle - 1)
    if fmt == "BMP":  # uncompressed: the file itself must fit the upload limit
        bits = {"1": 1, "L": 8, "P": 8}.get(mode, 24)
        low = min(low, int((settings.max_upload_bytes * 8 / bits) ** 0.5) - 64)
    return low


def worst_image(fmt: str, mode: str, side: int, options: dict[str, Any]) -> bytes:
    """A gradient (so encoders cannot shrink it to nothing) of ``side`` x ``side``."""
    gradient = Image.linear_gradient("L").resize((side, side), Image.Resampling.NEAREST)
    if mode == "I;16":
        picture = Image.new("I;16", (side, side), 30_000)
    elif mode in ("RGB", "RGBA", "CMYK", "LA"):
        picture = Image.merge(mode, [gradient] * len(mode))
    else:
        picture = gradient.convert(mode)
    out = io.BytesIO()
    extra = {"save_all": True, "append_images": [picture]} if fmt == "MPO" else {}
    picture.save(out, format=fmt, **options, **extra)
    return out.getvalue()


def worst_case_files(settings: Settings) -> dict[str, bytes]:
    """Every worst case, encoded, by a name saying format, mode and size."""
    files: dict[str, bytes] = {}
    for fmt, mode, options in WORST_CASES:
        side = largest_side(fmt, mode, settings)
        files[f"{fmt}-{mode}-{side}x{side}".replace(";", "")] = worst_image(
            fmt, mode, side, options
        )
    return files
