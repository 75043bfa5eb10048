"""The shared preprocessing, as training sees it: every input kind ends as upright RGB."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from catdog.errors import InvalidImage
from catdog.preprocessing import preprocess_bytes
from training_job.data import decode_examples, example_from_bytes

SIZE = 32


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def test_jpeg_is_float_rgb_of_the_input_size() -> None:
    pixels = preprocess_bytes(encode(Image.new("RGB", (50, 30), (200, 30, 30)), "JPEG"), SIZE)
    assert pixels.shape == (SIZE, SIZE, 3)
    assert pixels.dtype == np.float32
    assert np.allclose(pixels[SIZE // 2, SIZE // 2], (200, 30, 30), atol=6)


def test_png_alpha_is_composited_onto_white() -> None:
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, SIZE // 2, SIZE))  # left half opaque blue
    image.paste((255, 0, 0, 128), (SIZE // 2, 0, SIZE, SIZE))  # right half half-transparent red
    pixels = preprocess_bytes(encode(image, "PNG"), SIZE)
    assert pixels[5, 3].tolist() == [0, 0, 255]
    # 50% red over white is (255, 127, 127), not dark red over black.
    assert np.allclose(pixels[5, SIZE - 3], (255, 127, 127), atol=2)


def test_fully_transparent_png_is_white() -> None:
    pixels = preprocess_bytes(encode(Image.new("RGBA", (10, 10), (0, 0, 0, 0)), "PNG"), SIZE)
    assert (pixels == 255).all()


def test_grayscale_becomes_three_equal_channels() -> None:
    pixels = preprocess_bytes(encode(Image.new("L", (SIZE, SIZE), 90), "PNG"), SIZE)
    assert pixels.shape == (SIZE, SIZE, 3)
    assert (pixels == 90).all()


def test_cmyk_jpeg_becomes_rgb() -> None:
    cyan = Image.new("CMYK", (SIZE, SIZE), (255, 0, 0, 0))
    pixels = preprocess_bytes(encode(cyan, "JPEG", quality=95), SIZE)
    red, green, blue = pixels[SIZE // 2, SIZE // 2]
    assert red < 40 and green > 215 and blue > 215


def test_palette_png_uses_the_palette_colours() -> None:
    image = Image.new("P", (SIZE, SIZE), 0)
    image.putpalette([10, 200, 30] + [0, 0, 0] * 255)
    pixels = preprocess_bytes(encode(image, "PNG"), SIZE)
    assert (pixels == np.array([10, 200, 30], dtype=np.float32)).all()


def test_palette_png_with_transparency_is_composited_onto_white() -> None:
    image = Image.new("P", (SIZE, SIZE), 1)
    image.putpalette([0, 0, 0, 10, 20, 30] + [0, 0, 0] * 254)
    image.paste(0, (0, 0, SIZE // 2, SIZE))
    pixels = preprocess_bytes(encode(image, "PNG", transparency=0), SIZE)
    assert pixels[4, 2].tolist() == [255, 255, 255]
    assert pixels[4, SIZE - 3].tolist() == [10, 20, 30]


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    values = np.full((SIZE, SIZE), 65535, dtype=np.uint16)
    values[:, : SIZE // 2] = 32768
    image = Image.fromarray(values)
    data = encode(image, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    pixels = preprocess_bytes(data, SIZE)
    assert np.allclose(pixels[3, 3], 128, atol=1)
    assert (pixels[3, SIZE - 3] == 255).all()


def test_exif_rotated_jpeg_ends_upright() -> None:
    # Stored landscape: left half red, right half blue. Orientation 6 means
    # "rotate 90 degrees clockwise to display", so upright the red half is on top.
    stored = Image.new("RGB", (64, 32), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 32, 32))
    exif = Image.Exif()
    exif[0x0112] = 6
    pixels = preprocess_bytes(encode(stored, "JPEG", exif=exif.tobytes(), quality=95), SIZE)
    top, bottom = pixels[3, SIZE // 2], pixels[SIZE - 4, SIZE // 2]
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom
    # Without the tag, the same pixels read left-to-right.
    plain = preprocess_bytes(encode(stored, "JPEG", quality=95), SIZE)
    assert plain[SIZE // 2, 3][0] > 200 and plain[SIZE // 2, SIZE - 4][2] > 200


def test_decode_keeps_good_images_and_reports_bad_ones() -> None:
    good = example_from_bytes("cat/good.png", encode(Image.new("RGB", (8, 8), (1, 2, 3)), "PNG"), 0)
    bad = example_from_bytes("dog/bad.jpg", b"not an image at all", 1)
    decoded = decode_examples([good, bad], SIZE)
    assert len(decoded) == 1
    assert decoded.pixels.dtype == np.uint8
    assert decoded.pixels[0, 0, 0].tolist() == [1, 2, 3]
    assert decoded.labels.tolist() == [0.0]
    assert decoded.skipped and decoded.skipped[0].startswith("dog/bad.jpg")


def test_undecodable_bytes_raise_invalid_image() -> None:
    with pytest.raises(InvalidImage):
        preprocess_bytes(b"\x89PNG\r\n\x1a\n broken", SIZE)
