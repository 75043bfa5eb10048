"""Reproducible zip files: the same entries give the same bytes, run after run."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The earliest time a zip can hold: entry times never depend on the checkout.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
_REGULAR_FILE = 0o100000
_UNIX = 3


@dataclass(frozen=True)
class ZipEntry:
    """One file of a bundle: where it goes in the zip, its bytes, whether it is executable."""

    name: str
    data: bytes
    executable: bool = False


def write_reproducible_zip(entries: Iterable[ZipEntry], path: Path) -> None:
    """Write ``entries`` sorted by name, with fixed times, permissions and compression.

    Two entries with the same name are a packaging error (one would silently win).
    """
    ordered = sorted(entries, key=lambda entry: entry.name)
    names = [entry.name for entry in ordered]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate zip entries: {', '.join(duplicates[:5])}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for entry in ordered:
            archive.writestr(_info(entry), entry.data, compresslevel=9)


def _info(entry: ZipEntry) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(entry.name, date_time=FIXED_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = _UNIX
    mode = EXECUTABLE_MODE if entry.executable else FILE_MODE
    info.external_attr = (_REGULAR_FILE | mode) << 16
    return info
