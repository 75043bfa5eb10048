"""The one preprocessing function, shared by training, evaluation and serving.

Models take float32 RGB pixels in [0, 255] of shape (size, size, 3); rescaling
happens inside the model, so no caller can get it wrong.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from catdog.decode_budget import DecodeBudget, unlimited_budget
from catdog.image_decoding import decode_rgb

DEFAULT_MAX_PIXELS = 40_000_000
_UNLIMITED = unlimited_budget()


def preprocess_image(rgb: Image.Image, input_size: int) -> np.ndarray:
    """Upright RGB pixels → model input of shape (input_size, input_size, 3), float32."""
    if rgb.size != (input_size, input_size):
        rgb = rgb.resize((input_size, input_size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return np.asarray(rgb, dtype=np.float32)


def preprocess_bytes(
    data: bytes,
    input_size: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    budget: DecodeBudget | None = None,
) -> np.ndarray:
    """Encoded image bytes → model input, decoded once at the smallest size that serves.

    Raises InvalidImage, ImageTooLarge (pixels, or memory over ``budget``'s per-image
    limit) and DecoderBusy (``budget``'s pool stayed full).
    """
    rgb, _ = decode_rgb(data, max_pixels, budget or _UNLIMITED, input_size, "cover")
    return preprocess_image(rgb, input_size)
