from __future__ import annotations

import io

import pytest
from PIL import Image

from catdog.decode_budget import unlimited_budget
from catdog.errors import ImageTooLarge, InvalidImage
from catdog.image_decoding import decode_rgb, inspect_image, thumbnail_jpeg
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
    _, info = inspect_image(image_bytes(fmt, size=(30, 20)), max_pixels=10_000)
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
        decode_rgb(data, 1_000_000, unlimited_budget(), 32, "cover")


def test_pixel_limit_is_checked_before_decoding() -> None:
    data = image_bytes("PNG", size=(1000, 1000), color=(0, 0, 0))
    with pytest.raises(ImageTooLarge, match="1000x1000"):
        inspect_image(data, max_pixels=999_999)


def test_alpha_is_composited_onto_white() -> None:
    data = image_bytes("PNG", color=(0, 0, 0, 0), mode="RGBA")
    rgb, _ = decode_rgb(data, 10_000, unlimited_budget(), 8, "cover")
    assert rgb.getpixel((0, 0)) == (255, 255, 255)


def test_thumbnail_keeps_aspect_ratio_and_is_jpeg() -> None:
    rgb, _ = decode_rgb(
        image_bytes("PNG", size=(400, 100)), 1_000_000, unlimited_budget(), 128, "contain"
    )
    thumb = Image.open(io.BytesIO(thumbnail_jpeg(rgb, 128)))
    assert thumb.format == "JPEG"
    assert thumb.size == (128, 32)
