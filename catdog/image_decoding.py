"""Decoding untrusted image bytes: the type is what Pillow decodes, never the file name.

Every decode is planned from the header first (see catdog.decode_budget), then
done once, at the smallest size its use needs: JPEGs at a reduced DCT scale
(draft mode), other formats reduced in strips of rows while they are converted
to RGB, so no full-size RGB, float or 16-bit copy ever exists besides the
decoded frame itself. Only the first frame of an animation is decoded.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from catdog.decode_budget import DecodeBudget, plan_decode, strip_rows
from catdog.errors import ImageTooLarge, InvalidImage

# PNG text chunks are never used, but Pillow keeps up to 64 MB of them per image while
# it reads the header, before any decode budget applies: a 74 KB PNG of zTXt chunks
# made a process allocate 69 MB. One chunk stays bounded by MAX_TEXT_CHUNK (1 MB).
MAX_PNG_TEXT_BYTES = 1024 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = MAX_PNG_TEXT_BYTES

# Formats we accept from users, with the content type we serve them back with.
# MPO (the multi-picture JPEG phones write) is a JPEG whose first picture we use.
ACCEPTED_FORMATS: dict[str, str] = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
}
_OPENERS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
_JPEG_FAMILY = frozenset({"JPEG", "MPO"})
_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIXTEEN_BIT = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
_WITH_ALPHA = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
# What decoders raise on corrupt input (Pillow's plugins are not uniform about it).
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
)
# Fit: "cover" keeps both sides at least ``size`` (model input, squashed to a square
# later); "contain" keeps the longer side at least ``size`` (thumbnails).
Fit = Literal["cover", "contain"]
# Reduce while at least this many times the final size remains (as Pillow's
# resize with reducing_gap=3), so the final resampling still sees enough pixels.
REDUCING_GAP = 3


@dataclass(frozen=True)
class ImageInfo:
    """The accepted format and the size as displayed (EXIF orientation applied)."""

    format: str
    content_type: str
    width: int
    height: int


def inspect_image(data: bytes, max_pixels: int) -> tuple[Image.Image, ImageInfo]:
    """Open ``data`` and read its header; no pixel is decoded.

    Raises InvalidImage (not an image, unsupported format, corrupt header) or
    ImageTooLarge (more than ``max_pixels`` pixels).
    """
    if not data:
        raise InvalidImage("the file is empty")
    with _decode_errors():
        image = Image.open(io.BytesIO(data), formats=_OPENERS)
        width, height = image.size
        if width < 1 or height < 1:
            raise InvalidImage("the image has no pixels")
        if width * height > max_pixels:
            raise ImageTooLarge(
                f"the image has {width}x{height} pixels; the limit is {max_pixels:,} pixels"
            )
        if image.format not in ACCEPTED_FORMATS:
            raise InvalidImage("the file is not a supported image (JPEG, PNG, GIF, WebP or BMP)")
        if _orientation(image) in (5, 6, 7, 8):
            width, height = height, width
    fmt = str(image.format)
    return image, ImageInfo(fmt, ACCEPTED_FORMATS[fmt], width, height)


def decode_rgb(
    data: bytes, max_pixels: int, budget: DecodeBudget, size: int, fit: Fit
) -> tuple[Image.Image, ImageInfo]:
    """Upright RGB pixels of ``data``'s first frame, at the smallest size that still
    leaves at least ``size`` pixels per ``fit``; alpha composited onto white.

    Raises what ``inspect_image`` raises, ImageTooLarge when the decode would need
    more memory than the budget allows per image, DecoderBusy when the budget's
    pool stays full.
    """
    image, info = inspect_image(data, max_pixels)
    with _decode_errors():
        if image.format in _JPEG_FAMILY:
            image.draft(None, (size, size))
        factor = reduce_factor(image.size, size, fit)
        animated = image.format == "WEBP" and bool(getattr(image, "is_animated", False))
        plan = plan_decode(str(image.format), image.mode, image.size, factor, animated)
        orientation = _orientation(image)
        with budget.reserve(plan):
            image.load()
            rgb = _reduced_rgb(image, factor)
            method = _TRANSPOSE.get(orientation)
            return (rgb.transpose(method) if method is not None else rgb), info


def reduce_factor(decoded: tuple[int, int], size: int, fit: Fit) -> tuple[int, int]:
    """The integer box-reduction (x, y) that keeps ``REDUCING_GAP`` times ``size`` pixels:
    per axis for "cover" (the model input is squashed to a square anyway, as Pillow's
    own ``resize(reducing_gap=...)`` reduces), the same on both for "contain"."""
    width, height = decoded
    keep = size * REDUCING_GAP
    if fit == "cover":
        return max(1, width // keep), max(1, height // keep)
    both = max(1, max(width, height) // keep)
    return both, both


def thumbnail_jpeg(rgb: Image.Image, size: int) -> bytes:
    """A JPEG no larger than ``size`` on its longer side, aspect ratio kept."""
    small = rgb.copy()
    small.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def _reduced_rgb(image: Image.Image, factor: tuple[int, int]) -> Image.Image:
    """``image`` as RGB reduced by ``factor`` (x, y), converted a strip of rows at a time."""
    if image.mode == "RGB" and factor == (1, 1):
        return image
    width, height = image.size
    peak = _sixteen_bit_peak(image)
    out = Image.new("RGB", (-(-width // factor[0]), -(-height // factor[1])))
    rows = strip_rows(factor[1])
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(height, top + rows)))
        out.paste(_strip_to_rgb(strip, peak, factor), (0, top // factor[1]))
    return out


def _strip_to_rgb(strip: Image.Image, peak: int, factor: tuple[int, int]) -> Image.Image:
    """One strip as RGB, reduced by ``factor``."""
    reducing = factor != (1, 1)
    if strip.mode in _SIXTEEN_BIT:
        # Averaged at 32 bits first (a factor squared fewer values to scale), then
        # scaled to 8 bits: Pillow would clip 16-bit values instead of scaling them.
        deep = strip.convert("I") if strip.mode != "I" else strip
        values = np.asarray(deep.reduce(factor) if reducing else deep).astype(np.int64)
        return Image.fromarray(np.clip(values * 255 // peak, 0, 255).astype(np.uint8), "L").convert(
            "RGB"
        )
    rgb = _to_rgb(strip)
    return rgb.reduce(factor) if reducing else rgb


def _to_rgb(strip: Image.Image) -> Image.Image:
    if strip.mode == "P" and "transparency" in strip.info:
        strip = strip.convert("RGBA")
    if strip.mode in _WITH_ALPHA:
        rgba = strip.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        strip = Image.alpha_composite(white, rgba)
    return strip.convert("RGB") if strip.mode != "RGB" else strip


def _sixteen_bit_peak(image: Image.Image) -> int:
    """The value that maps to white: 65535 for 16-bit data, 255 for 32-bit integers that
    only hold 8-bit values."""
    if image.mode not in _SIXTEEN_BIT:
        return 255
    if image.mode.startswith("I;16"):
        return 65535
    extrema = image.getextrema()
    high = extrema[1] if isinstance(extrema[1], int | float) else 0
    return 65535 if high > 255 else 255


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # corrupt metadata: the pixels still decide, shown as stored
        return 1
    return value if isinstance(value, int) else 1


@contextmanager
def _decode_errors() -> Iterator[None]:
    """Decoder exceptions become InvalidImage or ImageTooLarge with a user-facing message
    (never the decoder's own text)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (ImageTooLarge, InvalidImage):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge("the image has too many pixels") from None
    except UnidentifiedImageError:
        raise InvalidImage(
            "the file is not a supported image (JPEG, PNG, GIF, WebP or BMP)"
        ) from None
    except _DECODE_ERRORS:
        raise InvalidImage("the image is corrupt or truncated") from None
