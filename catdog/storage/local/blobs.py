"""Blob store on the local file system: one folder per bucket, atomic writes."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from catdog.errors import InvalidInput, NotFound
from catdog.storage.blob_names import validate_blob_name
from catdog.storage.ports import BUCKETS, Blob, Bucket

_META_DIR = ".meta"


class LocalBlobStore:
    """Objects live at ``root/<bucket>/<name>``; content types in ``root/.meta``.

    Writes go to a temporary file that is fsynced and renamed into place, so a
    reader (or a crash) never sees a partial object.
    """

    def __init__(self, root: Path) -> None:
        self._root = root

    def put(
        self, bucket: Bucket, name: str, data: bytes, content_type: str, *, pending: bool = False
    ) -> None:
        path = self._path(bucket, name)
        meta = {"content_type": content_type, **({"pending": True} if pending else {})}
        _atomic_write(self._meta_path(bucket, name), json.dumps(meta).encode())
        _atomic_write(path, data)

    def settle(self, bucket: Bucket, name: str) -> None:
        meta_path = self._meta_path(bucket, name)
        try:
            meta = json.loads(meta_path.read_bytes())
        except (FileNotFoundError, ValueError):
            return
        if isinstance(meta, dict) and meta.pop("pending", None):
            _atomic_write(meta_path, json.dumps(meta).encode())

    def is_pending(self, bucket: Bucket, name: str) -> bool:
        try:
            meta = json.loads(self._meta_path(bucket, name).read_bytes())
        except (FileNotFoundError, ValueError):
            return False
        return isinstance(meta, dict) and bool(meta.get("pending"))

    def modified_at(self, bucket: Bucket, name: str) -> float | None:
        """When the object was last written (seconds since the epoch); None if missing."""
        try:
            return self._path(bucket, name).stat().st_mtime
        except (FileNotFoundError, NotADirectoryError):
            return None

    def get(self, bucket: Bucket, name: str) -> Blob:
        path = self._path(bucket, name)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"{bucket}/{name} does not exist") from None
        try:
            content_type = json.loads(self._meta_path(bucket, name).read_bytes())["content_type"]
        except (FileNotFoundError, ValueError, KeyError):
            content_type = "application/octet-stream"
        return Blob(data, content_type)

    def exists(self, bucket: Bucket, name: str) -> bool:
        return self._path(bucket, name).is_file()

    def delete(self, bucket: Bucket, name: str) -> None:
        for path in (self._path(bucket, name), self._meta_path(bucket, name)):
            path.unlink(missing_ok=True)

    def list(self, bucket: Bucket, prefix: str = "") -> Iterator[str]:
        base = self._root / _check_bucket(bucket)
        if not base.is_dir():
            return iter(())
        names = []
        for directory, subdirs, files in os.walk(base):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            for file in files:
                if file.startswith("."):
                    continue
                name = Path(directory, file).relative_to(base).as_posix()
                if name.startswith(prefix):
                    names.append(name)
        return iter(sorted(names))

    def local_path(self, bucket: Bucket, name: str) -> Path:
        """Where an object lives on disk (local adapter only)."""
        return self._path(bucket, name)

    def _path(self, bucket: Bucket, name: str) -> Path:
        return self._root / _check_bucket(bucket) / validate_blob_name(name)

    def _meta_path(self, bucket: Bucket, name: str) -> Path:
        return self._root / _META_DIR / _check_bucket(bucket) / (validate_blob_name(name) + ".json")


def _check_bucket(bucket: str) -> str:
    if bucket not in BUCKETS:
        raise InvalidInput(f"unknown bucket {bucket!r}")
    return bucket


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
