"""The decode budget: memory planned from the header, bounded per image and per process."""

from __future__ import annotations

import io
import struct
import threading
import tracemalloc
import zlib

import pytest
from PIL import Image

from catdog.decode_budget import DecodeBudget, plan_decode, unlimited_budget
from catdog.errors import DecoderBusy, ImageTooLarge, InvalidImage
from catdog.image_decoding import decode_rgb, inspect_image, reduce_factor
from catdog.preprocessing import preprocess_bytes
from tests.factories import image_bytes

MIB = 1024 * 1024


def sixteen_bit_png(side: int) -> bytes:
    image = Image.new("I;16", (side, side), 40_000)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_16_bit_png_converts_without_full_size_numpy_copies() -> None:
    """The finding: 16-bit images went through float64 NumPy at full size (8 bytes a
    pixel, several copies). NumPy reports its allocations to tracemalloc; Pillow's
    own decode buffer is what the budget accounts for."""
    data = sixteen_bit_png(3000)  # 9 M pixels: a float64 copy alone is 72 MB
    tracemalloc.start()
    try:
        rgb, info = decode_rgb(data, 40_000_000, unlimited_budget(), 256, "contain")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (info.width, info.height) == (3000, 3000)
    assert peak < 8 * MIB
    assert max(rgb.size) < 3000  # reduced while converting
    assert rgb.getpixel((0, 0)) == (155, 155, 155)  # 40000 / 65535 * 255, not clipped to 255


def test_the_model_input_of_a_16_bit_png_is_scaled_not_clipped() -> None:
    pixels = preprocess_bytes(sixteen_bit_png(600), 32)
    assert pixels.shape == (32, 32, 3)
    assert float(pixels.max()) == pytest.approx(155.0, abs=1.0)


def test_an_image_over_the_per_image_budget_is_refused_before_decoding() -> None:
    data = image_bytes("PNG", size=(3000, 3000), mode="RGBA", color=(1, 2, 3, 4))
    budget = DecodeBudget(max_image_bytes=16 * MIB, pool_bytes=32 * MIB)
    with pytest.raises(ImageTooLarge, match="MB of memory"):
        decode_rgb(data, 40_000_000, budget, 256, "contain")
    assert budget.in_use == 0


def test_the_estimate_follows_mode_and_format() -> None:
    gray = plan_decode("PNG", "L", (1000, 1000), (1, 1)).estimated_bytes
    deep = plan_decode("PNG", "I;16", (1000, 1000), (1, 1)).estimated_bytes
    rgba = plan_decode("PNG", "RGBA", (1000, 1000), (1, 1)).estimated_bytes
    webp = plan_decode("WEBP", "RGBA", (1000, 1000), (1, 1)).estimated_bytes
    assert gray < deep < rgba < webp
    animated = plan_decode("WEBP", "RGBA", (1000, 1000), (1, 1), animated=True).estimated_bytes
    assert animated > webp  # the animation decoder's canvas
    # What a WebP decode really holds at its peak (measured): about 4 frames.
    assert webp >= 4 * 4 * 1000 * 1000


def test_jpeg_is_decoded_at_a_reduced_scale() -> None:
    data = image_bytes("JPEG", size=(4000, 3000))
    rgb, info = decode_rgb(data, 40_000_000, unlimited_budget(), 256, "contain")
    assert (info.width, info.height) == (4000, 3000)
    assert max(rgb.size) <= 1000  # an eighth of the DCT scale, at least


def test_a_full_pool_makes_decoders_wait_then_refuse() -> None:
    budget = DecodeBudget(max_image_bytes=24 * MIB, pool_bytes=24 * MIB, wait_s=0.05)
    plan = plan_decode("PNG", "RGB", (1000, 1000), (1, 1))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with budget.reserve(plan):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with pytest.raises(DecoderBusy) as busy, budget.reserve(plan):
            pass
        assert busy.value.retry_after_s >= 1
    finally:
        release.set()
        holder.join(10)
    assert budget.in_use == 0
    with budget.reserve(plan):
        assert budget.in_use == plan.estimated_bytes


def test_only_the_first_frame_is_decoded() -> None:
    frames = [Image.new("RGB", (40, 30), color) for color in ((250, 0, 0), (0, 0, 250))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    rgb, _ = decode_rgb(out.getvalue(), 10_000, unlimited_budget(), 8, "cover")
    pixel = rgb.getpixel((5, 5))
    assert isinstance(pixel, tuple)
    red, _, blue = pixel
    assert red > 200 and blue < 50


def test_an_mpo_is_accepted_as_a_jpeg() -> None:
    """The finding: an MPO (multi-picture JPEG from phones) answered 500."""
    first, second = Image.new("RGB", (60, 40), (200, 0, 0)), Image.new("RGB", (60, 40))
    out = io.BytesIO()
    first.save(out, format="MPO", save_all=True, append_images=[second])
    _, info = inspect_image(out.getvalue(), 10_000)
    assert (info.content_type, info.width, info.height) == ("image/jpeg", 60, 40)


@pytest.mark.parametrize(("orientation", "shown"), [(1, (80, 40)), (6, (40, 80)), (8, (40, 80))])
def test_the_size_is_the_displayed_one(orientation: int, shown: tuple[int, int]) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = image_bytes("JPEG", size=(80, 40), exif=exif.tobytes())
    rgb, info = decode_rgb(data, 10_000, unlimited_budget(), 8, "contain")
    assert (info.width, info.height) == shown
    assert (rgb.width > rgb.height) == (shown[0] > shown[1])  # turned upright


def test_a_very_wide_image_is_reduced_per_axis_for_the_model() -> None:
    """The model input squashes the image to a square anyway, so each axis is reduced
    on its own (as Pillow's resize with reducing_gap does); thumbnails keep the aspect."""
    assert reduce_factor((40_000, 2), 32, "cover") == (416, 1)
    assert reduce_factor((40_000, 2), 256, "contain") == (52, 52)
    data = image_bytes("PNG", size=(40_000, 2), mode="L", color=90)
    pixels = preprocess_bytes(data, 32)
    assert pixels.shape == (32, 32, 3)
    assert float(pixels.min()) == float(pixels.max()) == 90.0


def test_png_text_chunks_cannot_allocate_beyond_a_megabyte_or_two() -> None:
    """Found by probing: 70 zTXt chunks of 1 MB each (a 74 KB file) made Pillow hold
    69 MB while reading the header, outside the decode budget."""
    text = zlib.compress(b"a" * (1024 * 1024 - 100), 9)
    chunks = b"".join(_png_chunk(b"zTXt", b"k%d\x00\x00" % n + text) for n in range(70))
    png = image_bytes("PNG", size=(8, 8))
    data = png[:33] + chunks + png[33:]
    assert len(data) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(InvalidImage):
            decode_rgb(data, 40_000_000, unlimited_budget(), 256, "contain")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * MIB  # was 69 MB


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
