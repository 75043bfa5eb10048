"""How much memory decoding an image may take, decided before any pixel is decoded.

A pixel limit alone does not bound memory: a 77 KB 16-bit PNG of 6300 x 6300
pixels is under 40 M pixels yet decodes to 80 MB, and naive conversions
multiply that. So every decode is planned first: from the header (mode, bit
depth, size, the JPEG scale actually decoded) we estimate the bytes the decode
and its conversion need, refuse what exceeds the per-image budget, and reserve
the estimate from a per-process pool, so that many large images at once wait
for each other instead of adding up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from catdog.errors import DecoderBusy, ImageTooLarge

# Bytes Pillow keeps per pixel for a decoded image, by mode. Multi-band modes use
# one 32-bit word per pixel (RGB too); 16-bit modes two bytes; the rest one.
_BYTES_PER_PIXEL: dict[str, int] = {
    "1": 1,
    "L": 1,
    "P": 1,
    "I;16": 2,
    "I;16B": 2,
    "I;16L": 2,
    "I;16N": 2,
}
_DEFAULT_BYTES_PER_PIXEL = 4
# Full-size copies a format's decoder holds at once, measured (peak RSS) on Pillow 13:
# libwebp decodes into its own buffer, which becomes a Python bytes object, then
# Pillow's image (about 4 frames' worth at the peak; one more for an animation's
# canvas). PNG, GIF, BMP and JPEG decode straight into Pillow's image.
_DECODER_COPIES: dict[str, int] = {"WEBP": 4}
_ANIMATION_COPIES: dict[str, int] = {"WEBP": 1}
# Rows converted at a time when downscaling (see catdog.image_decoding).
STRIP_ROWS = 64
# The strip, its RGBA conversion and its composite on white exist at once.
_STRIP_COPIES = 3
MIB = 1024 * 1024
# Decoder state, Python objects and rounding, measured at up to about 2 MB per decode.
_FIXED_OVERHEAD = 4 * MIB


@dataclass(frozen=True)
class DecodePlan:
    """What one decode will cost: the size decoded and the bytes it needs at the peak."""

    mode: str
    decoded_size: tuple[int, int]
    reduce_factor: tuple[int, int]
    estimated_bytes: int


def plan_decode(
    fmt: str,
    mode: str,
    decoded_size: tuple[int, int],
    reduce_factor: tuple[int, int],
    animated: bool = False,
) -> DecodePlan:
    """Estimate the peak bytes of decoding ``decoded_size`` pixels of ``mode``,
    converting them to RGB in strips, and keeping the result reduced by
    ``reduce_factor`` (x, y). Only the first frame is ever decoded, so further frames
    cost nothing, except the canvas an animated WebP decoder keeps."""
    width, height = decoded_size
    factor_x, factor_y = max(1, reduce_factor[0]), max(1, reduce_factor[1])
    per_pixel = _BYTES_PER_PIXEL.get(mode, _DEFAULT_BYTES_PER_PIXEL)
    copies = _DECODER_COPIES.get(fmt, 1) + (_ANIMATION_COPIES.get(fmt, 0) if animated else 0)
    decoded = width * height * per_pixel * copies
    strip = width * min(height, strip_rows(factor_y)) * _DEFAULT_BYTES_PER_PIXEL * _STRIP_COPIES
    reduced = -(-width // factor_x) * -(-height // factor_y) * _DEFAULT_BYTES_PER_PIXEL
    # A reduced copy exists twice while it is turned upright (EXIF orientation).
    peak = decoded + strip + 2 * reduced + _FIXED_OVERHEAD
    return DecodePlan(mode, decoded_size, (factor_x, factor_y), peak)


def strip_rows(factor_y: int) -> int:
    """Rows converted at a time: about STRIP_ROWS, a whole multiple of the reduction."""
    return factor_y * max(1, STRIP_ROWS // factor_y)


class DecodeBudget:
    """The per-image limit and the per-process pool of decode memory.

    ``reserve`` refuses a plan over ``max_image_bytes`` (ImageTooLarge) and
    otherwise waits until the pool of ``pool_bytes`` has room; a wait longer
    than ``wait_s`` ends in DecoderBusy (answered 429 with Retry-After).
    """

    def __init__(self, max_image_bytes: int, pool_bytes: int, wait_s: float = 20.0) -> None:
        if max_image_bytes < 1 or pool_bytes < max_image_bytes:
            raise ValueError("the pool must hold at least one image of the largest allowed size")
        self.max_image_bytes = max_image_bytes
        self.pool_bytes = pool_bytes
        self._wait_s = wait_s
        self._in_use = 0
        self._changed = threading.Condition()

    @property
    def in_use(self) -> int:
        with self._changed:
            return self._in_use

    def check(self, plan: DecodePlan) -> None:
        """Raises ImageTooLarge when ``plan`` needs more than one image may use."""
        if plan.estimated_bytes > self.max_image_bytes:
            width, height = plan.decoded_size
            raise ImageTooLarge(
                f"decoding this {width}x{height} {plan.mode} image needs about "
                f"{_mib(plan.estimated_bytes)} MB of memory; the limit is "
                f"{_mib(self.max_image_bytes)} MB (send a smaller image)"
            )

    @contextmanager
    def reserve(self, plan: DecodePlan) -> Iterator[None]:
        """Hold ``plan``'s bytes of the pool while the block decodes."""
        self.check(plan)
        amount = plan.estimated_bytes
        with self._changed:
            if not self._changed.wait_for(
                lambda: self._in_use + amount <= self.pool_bytes, self._wait_s
            ):
                raise DecoderBusy("the server is decoding many large images; try again shortly")
            self._in_use += amount
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= amount
                self._changed.notify_all()


def unlimited_budget() -> DecodeBudget:
    """No per-image limit beyond the pixel limit and no pool (tools and training)."""
    huge = 1 << 62
    return DecodeBudget(huge, huge)


def _mib(size: int) -> str:
    return f"{size / MIB:,.0f}"
