"""Decoding untrusted image bytes: the type is what Pillow decodes, never the file name."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from catdog.errors import ImageTooLarge, InvalidImage

# Formats we accept from users, with the content type we serve them back with.
ACCEPTED_FORMATS: dict[str, str] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
}
_ACCEPTED_NAMES = tuple(ACCEPTED_FORMATS)


@dataclass(frozen=True)
class ImageInfo:
    format: str
    content_type: str
    width: int
    height: int


def open_image(
    data: bytes, max_pixels: int, draft_size: int | None = None
) -> tuple[Image.Image, ImageInfo]:
    """Open ``data`` as an accepted image, checking size before decoding any pixels.

    With ``draft_size``, a JPEG is decoded at the smallest DCT scale that keeps
    both sides at least ``draft_size`` (much faster for large photos); the
    returned info still gives the original dimensions.

    Raises InvalidImage (not an image, unsupported format, corrupt or truncated)
    or ImageTooLarge (more than ``max_pixels`` pixels). The returned image is
    fully decoded (first frame for animations).
    """
    if not data:
        raise InvalidImage("the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_ACCEPTED_NAMES)
            width, height = image.size
            if width < 1 or height < 1:
                raise InvalidImage("the image has no pixels")
            if width * height > max_pixels:
                raise ImageTooLarge(
                    f"the image has {width}x{height} pixels; the limit is {max_pixels:,} pixels"
                )
            if draft_size is not None and image.format == "JPEG":
                image.draft(None, (draft_size, draft_size))
            image.load()
    except (ImageTooLarge, InvalidImage):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge("the image has too many pixels") from None
    except UnidentifiedImageError:
        raise InvalidImage(
            "the file is not a supported image (JPEG, PNG, GIF, WebP or BMP)"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(f"the image is corrupt or truncated ({exc})") from None
    fmt = image.format or ""
    return image, ImageInfo(fmt, ACCEPTED_FORMATS[fmt], width, height)


def to_rgb(image: Image.Image) -> Image.Image:
    """Upright RGB: EXIF orientation applied, alpha composited onto white,
    grayscale, 16-bit, CMYK and palette images converted."""
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # Pillow clips 16-bit values when converting; scale them to 8 bits instead.
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / peak * 255.0, 0, 255).astype(np.uint8), "L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB") if image.mode != "RGB" else image


def thumbnail_jpeg(image: Image.Image, size: int) -> bytes:
    """A JPEG no larger than ``size`` on its longer side, aspect ratio kept."""
    rgb = to_rgb(image).copy()
    rgb.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()
