"""The one preprocessing function, shared by training, evaluation and serving.

Models take float32 RGB pixels in [0, 255] of shape (size, size, 3); rescaling
happens inside the model, so no caller can get it wrong.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from catdog.imaging import open_image, to_rgb

DEFAULT_MAX_PIXELS = 40_000_000


def preprocess_image(image: Image.Image, input_size: int) -> np.ndarray:
    """An opened image → model input of shape (input_size, input_size, 3), float32."""
    rgb = to_rgb(image)
    if rgb.size != (input_size, input_size):
        rgb = rgb.resize((input_size, input_size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return np.asarray(rgb, dtype=np.float32)


def preprocess_bytes(
    data: bytes, input_size: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Encoded image bytes → model input. Decodes in memory; raises InvalidImage/ImageTooLarge."""
    image, _ = open_image(data, max_pixels, draft_size=input_size)
    return preprocess_image(image, input_size)
