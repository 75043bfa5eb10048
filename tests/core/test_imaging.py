from __future__ import annotations

import io

import pytest
from PIL import Image

from catdog.errors import ImageTooLarge, InvalidImage
from catdog.imaging import open_image, thumbnail_jpeg, to_rgb
from tests.factories import image_bytes


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
    ],
)
def test_accepted_formats_report_their_content_type(fmt: str, content_type: str) -> None:
    _, info = open_image(image_bytes(fmt, size=(30, 20)), max_pixels=10_000)
    assert (info.format, info.content_type, info.width, info.height) == (fmt, content_type, 30, 20)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<html><body>not an image</body></html>", "not a supported image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "not a supported image"),
        (image_bytes("JPEG", size=(200, 200))[:300], "corrupt or truncated"),
        (image_bytes("TIFF"), "not a supported image"),
    ],
)
def test_bad_bytes_are_invalid_images(data: bytes, message: str) -> None:
    with pytest.raises(InvalidImage, match=message):
        open_image(data, max_pixels=1_000_000)


def test_pixel_limit_is_checked_before_decoding() -> None:
    data = image_bytes("PNG", size=(1000, 1000), color=(0, 0, 0))
    with pytest.raises(ImageTooLarge, match="1000x1000"):
        open_image(data, max_pixels=999_999)


def test_alpha_is_composited_onto_white() -> None:
    image, _ = open_image(image_bytes("PNG", color=(0, 0, 0, 0), mode="RGBA"), 10_000)
    assert to_rgb(image).getpixel((0, 0)) == (255, 255, 255)


def test_thumbnail_keeps_aspect_ratio_and_is_jpeg() -> None:
    image, _ = open_image(image_bytes("PNG", size=(400, 100)), 1_000_000)
    thumb = Image.open(io.BytesIO(thumbnail_jpeg(image, 128)))
    assert thumb.format == "JPEG"
    assert thumb.size == (128, 32)
