"""Where model versions come from: the registry (with the blob store), or fixed directories.

A source answers two questions: which version should be served when nobody
names one, and where on disk a named version lives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from catdog.artifacts import METRICS_FILE, fetch_artifact
from catdog.errors import NotFound
from catdog.storage.ports import BlobStore, ModelRegistry


class ModelSource(Protocol):
    def default_version(self) -> str | None:
        """The version that should be served (the champion), or None when there is none."""
        ...

    def locate(self, version: str) -> Path:
        """A local model directory for ``version``. Raises NotFound."""
        ...


@dataclass(frozen=True)
class RegistrySource:
    """Versions from the model registry, artifacts copied from the blob store into a cache."""

    registry: ModelRegistry
    blobs: BlobStore
    cache_dir: Path

    def default_version(self) -> str | None:
        champion = self.registry.champion()
        return None if champion is None else champion.version

    def locate(self, version: str) -> Path:
        self.registry.get(version)  # raises NotFound for an unknown version
        return fetch_artifact(self.blobs, version, self.cache_dir)


def directory_version(model_dir: Path) -> str:
    """A model directory's version: the one in its metrics.json, else the folder name."""
    metrics_path = model_dir / METRICS_FILE
    if metrics_path.is_file():
        try:
            version = json.loads(metrics_path.read_text()).get("version")
        except (OSError, ValueError, AttributeError):
            version = None
        if isinstance(version, str) and version:
            return version
    return model_dir.name


class DirectorySource:
    """Model directories named on the command line; the first is the default."""

    def __init__(self, model_dirs: Sequence[Path]) -> None:
        if not model_dirs:
            raise ValueError("at least one model directory is needed")
        self._dirs = {directory_version(path): path for path in model_dirs}
        self._default = directory_version(model_dirs[0])

    def default_version(self) -> str | None:
        return self._default

    def locate(self, version: str) -> Path:
        try:
            return self._dirs[version]
        except KeyError:
            known = ", ".join(sorted(self._dirs))
            raise NotFound(
                f"unknown model version {version!r} (this server has: {known})"
            ) from None


class FallbackSource:
    """A primary source, and a fixed directory (the shipped baseline) while it has no default."""

    def __init__(self, primary: ModelSource, fallback_dir: Path) -> None:
        self._primary = primary
        self._fallback_dir = fallback_dir
        self._fallback_version = directory_version(fallback_dir)

    def default_version(self) -> str | None:
        return self._primary.default_version() or self._fallback_version

    def locate(self, version: str) -> Path:
        try:
            return self._primary.locate(version)
        except NotFound:
            if version == self._fallback_version:
                return self._fallback_dir
            raise
