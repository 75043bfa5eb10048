"""Hostile and odd files, generated: bombs, truncations, polyglots and unusual encodings."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image

from tests.e2e.api import photo


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header announcing width x height, with one tiny compressed row."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    body = zlib.compress(b"\0" * (width + 1), 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + b""


def png_bomb() -> bytes:
    """A real decompression bomb: 8000 x 8000 (64 M pixels) of 1-bit zeros, a few KB."""
    return encoded(Image.new("1", (8000, 8000)), "PNG", optimize=True)


def truncated_jpeg() -> bytes:
    data = photo(1, size=256)
    return data[: len(data) // 2]


def svg() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
        b'height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>'
    )


def html() -> bytes:
    return b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def jpeg_with_html_tail() -> bytes:
    """A valid JPEG with an HTML document after its end marker (a JPEG/HTML polyglot)."""
    return photo(2) + html()


def png_with_zip_tail() -> bytes:
    """A valid PNG followed by a ZIP archive (a PNG/ZIP polyglot)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.js", "alert(1)")
    return encoded(Image.new("RGB", (24, 24), (10, 200, 10)), "PNG") + archive.getvalue()


def gif_javascript_polyglot() -> bytes:
    """GIF magic that is also JavaScript (GIFAR-style); not a decodable GIF."""
    return b"GIF89a/*\x0a\x00\x0a\x00\x00\x00\x00*/=alert(1);//" + b"\x00" * 16


def animated_gif() -> bytes:
    frames = [Image.new("P", (40, 30), color) for color in (1, 50, 200)]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)


def cmyk_jpeg() -> bytes:
    return encoded(Image.new("CMYK", (48, 40), (0, 120, 200, 30)), "JPEG")


def png_16_bit() -> bytes:
    image = Image.new("I;16", (40, 40))
    image.putdata([i * 40 for i in range(1600)])
    return encoded(image, "PNG")


def exif_rotated_jpeg() -> bytes:
    """80 x 40 pixels stored, EXIF orientation 6: shown upright as 40 x 80."""
    image = Image.new("RGB", (80, 40), (200, 100, 50))
    exif = Image.Exif()
    exif[0x0112] = 6
    return encoded(image, "JPEG", exif=exif.tobytes())


def palette_png_with_transparency() -> bytes:
    image = Image.new("P", (32, 32), 3)
    return encoded(image, "PNG", transparency=3)


def grayscale_alpha_png() -> bytes:
    return encoded(Image.new("LA", (32, 32), (120, 60)), "PNG")


def webp() -> bytes:
    return encoded(Image.new("RGB", (40, 40), (30, 30, 200)), "WEBP")


def tiff() -> bytes:
    return encoded(Image.new("RGB", (16, 16)), "TIFF")


def one_pixel_png() -> bytes:
    return encoded(Image.new("RGB", (1, 1), (255, 0, 0)), "PNG")


def very_wide_png() -> bytes:
    return encoded(Image.new("RGB", (12_000, 3), (90, 90, 90)), "PNG")
