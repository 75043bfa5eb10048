"""A generated corpus of odd and hostile image files: formats x modes x sizes x
truncations, and odd metadata (EXIF orientation, ICC profiles, huge text chunks,
multi-frame files, trailing data).

Each case says what a correct server answers: stored (201) with the displayed,
EXIF-rotated size, or refused with a 4xx JSON error of a given code. Files stay
small (a few KB) so the whole corpus runs in seconds, in-process and against the
real system.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageCms

# (format, mode, save options) for every mode each accepted format can hold.
ENCODINGS: list[tuple[str, str, dict[str, object]]] = [
    ("PNG", "1", {}),
    ("PNG", "L", {}),
    ("PNG", "LA", {}),
    ("PNG", "P", {}),
    ("PNG", "P", {"transparency": 3}),
    ("PNG", "RGB", {}),
    ("PNG", "RGBA", {}),
    ("PNG", "I;16", {}),
    ("JPEG", "L", {}),
    ("JPEG", "RGB", {}),
    ("JPEG", "CMYK", {}),
    ("GIF", "P", {}),
    ("GIF", "L", {}),
    ("WEBP", "RGB", {}),
    ("WEBP", "RGBA", {}),
    ("BMP", "1", {}),
    ("BMP", "L", {}),
    ("BMP", "P", {}),
    ("BMP", "RGB", {}),
]
SIZES = [(1, 1), (33, 17), (17, 33), (300, 2)]
TRUNCATIONS = {"header-only": 0.0, "half": 0.5}


@dataclass(frozen=True)
class CorpusCase:
    name: str
    data: bytes
    expected_status: int
    expected_code: str | None = None  # for refusals
    shown_size: tuple[int, int] | None = None  # for successes: width, height as displayed


def image(mode: str, size: tuple[int, int]) -> Image.Image:
    """A non-uniform image (a gradient), so encoders cannot shrink it to nothing."""
    gradient = Image.linear_gradient("L").resize(size)
    if mode == "I;16":
        return Image.frombytes("I;16", size, bytes(b for v in gradient.tobytes() for b in (v, v)))
    if mode in ("RGB", "RGBA", "CMYK", "LA"):
        bands = [gradient] * len(mode)
        return Image.merge(mode, bands[: len(mode)])
    return gradient.convert(mode) if mode != "L" else gradient


def encode(picture: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, format=fmt, **options)
    return out.getvalue()


def encoding_cases() -> list[CorpusCase]:
    cases = []
    for fmt, mode, options in ENCODINGS:
        for size in SIZES:
            label = f"{fmt}-{mode}{'-transparent' if options else ''}-{size[0]}x{size[1]}"
            data = encode(image(mode, size), fmt, **options)
            cases.append(CorpusCase(label, data, 201, shown_size=size))
            cases.append(
                CorpusCase(f"{label}-trailing-data", data + b"<html>x" * 40, 201, shown_size=size)
            )
            for cut, fraction in TRUNCATIONS.items():
                # Header-only keeps the signature and the size fields but no pixels.
                end = 40 if fraction == 0.0 else max(41, int(len(data) * fraction))
                if end < len(data) - 8:
                    cases.append(CorpusCase(f"{label}-{cut}", data[:end], 422, "invalid_image"))
    return cases


def exif_orientation_cases() -> list[CorpusCase]:
    cases = []
    for fmt in ("JPEG", "PNG", "WEBP"):
        for orientation in range(1, 9):
            exif = Image.Exif()
            exif[0x0112] = orientation
            data = encode(image("RGB", (40, 20)), fmt, exif=exif.tobytes())
            shown = (20, 40) if orientation >= 5 else (40, 20)
            cases.append(
                CorpusCase(f"{fmt}-exif-orientation-{orientation}", data, 201, shown_size=shown)
            )
    bogus = Image.Exif()
    bogus[0x0112] = 77  # not an orientation: shown as stored
    data = encode(image("RGB", (40, 20)), "JPEG", exif=bogus.tobytes())
    cases.append(CorpusCase("JPEG-exif-orientation-77", data, 201, shown_size=(40, 20)))
    garbage_exif = b"Exif\x00\x00" + b"\xff" * 64
    data = _jpeg_with_app1(encode(image("RGB", (40, 20)), "JPEG"), garbage_exif)
    cases.append(CorpusCase("JPEG-corrupt-exif", data, 201, shown_size=(40, 20)))
    return cases


def _jpeg_with_app1(jpeg: bytes, payload: bytes) -> bytes:
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def icc_cases() -> list[CorpusCase]:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    cases = [
        CorpusCase(
            f"{fmt}-icc-profile",
            encode(image("RGB", (24, 24)), fmt, icc_profile=srgb),
            201,
            shown_size=(24, 24),
        )
        for fmt in ("JPEG", "PNG", "WEBP")
    ]
    junk = encode(image("RGB", (24, 24)), "PNG", icc_profile=b"not a profile" * 10)
    cases.append(CorpusCase("PNG-junk-icc-profile", junk, 201, shown_size=(24, 24)))
    return cases


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _png_with_chunk(png: bytes, chunk: bytes) -> bytes:
    """``chunk`` inserted right after IHDR (before the pixels)."""
    ihdr_end = 8 + 25
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def text_chunk_cases() -> list[CorpusCase]:
    png = encode(image("RGB", (16, 16)), "PNG")
    big_text = _png_chunk(b"tEXt", b"Comment\x00" + b"a" * 60_000)
    # 8 KB compressed, 40 MB of text once inflated: a text-chunk bomb.
    bomb = _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"b" * 40_000_000, 9))
    many = b"".join(_png_chunk(b"tEXt", b"k%d\x00v" % n) for n in range(2000))
    return [
        CorpusCase("PNG-60KB-text-chunk", _png_with_chunk(png, big_text), 201, shown_size=(16, 16)),
        CorpusCase("PNG-zTXt-bomb", _png_with_chunk(png, bomb), 422, "invalid_image"),
        CorpusCase("PNG-2000-text-chunks", _png_with_chunk(png, many), 201, shown_size=(16, 16)),
    ]


def multi_frame_cases() -> list[CorpusCase]:
    frames = [
        image("RGB", (30, 20)).point(lambda v, s=shift: (v + s) % 256) for shift in (0, 90, 180)
    ]
    animated = {
        "GIF": encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=40),
        "PNG": encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=40),
        "WEBP": encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=40),
        "MPO": encode(frames[0], "MPO", save_all=True, append_images=frames[1:]),
    }
    cases = [
        CorpusCase(f"{fmt}-three-frames", data, 201, shown_size=(30, 20))
        for fmt, data in animated.items()
    ]
    # A GIF whose later frames are huge: only the first frame is ever decoded.
    small = Image.new("P", (10, 10))
    cases.append(
        CorpusCase(
            "GIF-many-frames",
            encode(small, "GIF", save_all=True, append_images=[small] * 300, duration=10),
            201,
            shown_size=(10, 10),
        )
    )
    return cases


def corpus() -> list[CorpusCase]:
    cases = (
        encoding_cases()
        + exif_orientation_cases()
        + icc_cases()
        + text_chunk_cases()
        + multi_frame_cases()
    )
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "corpus case names must be unique"
    return cases
