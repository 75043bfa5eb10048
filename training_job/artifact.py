"""Where a trained model goes: the ``models`` bucket or a model directory on disk.
Both get the same layout, written in the same order, ``_SUCCESS`` last.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import catdog
from catdog.artifacts import CANARY_DIR, METRICS_FILE, MODEL_FILE, SUCCESS_FILE, write_artifact
from catdog.storage.ports import BlobStore

CANARY_COUNT = 8
_REPO_ROOT = Path(__file__).resolve().parent.parent


class ArtifactSink(Protocol):
    def write(
        self,
        model_file: Path,
        metrics: dict[str, Any],
        canaries: dict[str, bytes],
        files: dict[str, bytes] | None = None,
    ) -> str:
        """Write a complete artifact (``_SUCCESS`` last) and return where it went;
        ``files`` are further top-level files."""
        ...


@dataclass(frozen=True)
class BlobArtifactSink:
    """``<version>/...`` in the blob store's ``models`` bucket."""

    blobs: BlobStore
    version: str

    def write(
        self,
        model_file: Path,
        metrics: dict[str, Any],
        canaries: dict[str, bytes],
        files: dict[str, bytes] | None = None,
    ) -> str:
        return write_artifact(self.blobs, self.version, model_file, metrics, canaries, files)


@dataclass(frozen=True)
class DirectoryArtifactSink:
    """A model directory (``catdog train --out``, SageMaker's ``SM_MODEL_DIR``)."""

    directory: Path

    def write(
        self,
        model_file: Path,
        metrics: dict[str, Any],
        canaries: dict[str, bytes],
        files: dict[str, bytes] | None = None,
    ) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        # An old _SUCCESS must not vouch for the files being replaced.
        (self.directory / SUCCESS_FILE).unlink(missing_ok=True)
        _write_atomic(self.directory / MODEL_FILE, model_file.read_bytes())
        canary_dir = self.directory / CANARY_DIR
        canary_dir.mkdir(exist_ok=True)
        for old in canary_dir.iterdir():
            if old.is_file() and old.name not in canaries:
                old.unlink()
        for name, data in canaries.items():
            _write_atomic(canary_dir / name, data)
        for name, data in (files or {}).items():
            _write_atomic(self.directory / name, data)
        _write_atomic(self.directory / METRICS_FILE, json.dumps(metrics, indent=2).encode())
        _write_atomic(self.directory / SUCCESS_FILE, b"")
        return str(self.directory)


def _write_atomic(path: Path, data: bytes) -> None:
    staging = path.with_name(f".{path.name}.partial")
    staging.write_bytes(data)
    staging.replace(path)


def canary_name(index: int) -> str:
    return f"{index}.img"


def select_canaries(labels: list[int], sha256s: list[str], count: int = CANARY_COUNT) -> list[int]:
    """Indices of up to ``count`` images, alternating classes, chosen by sha256 (stable)."""
    by_class = [
        sorted(
            (sha, i)
            for i, (sha, label) in enumerate(zip(sha256s, labels, strict=True))
            if label == c
        )
        for c in (0, 1)
    ]
    chosen: list[int] = []
    position = 0
    while len(chosen) < count and position < max(len(group) for group in by_class):
        for group in by_class:
            if position < len(group) and len(chosen) < count:
                chosen.append(group[position][1])
        position += 1
    return chosen


Runner = Callable[..., subprocess.CompletedProcess[str]]


def code_version(run: Runner = subprocess.run, repo_root: Path = _REPO_ROOT) -> dict[str, Any]:
    """catdog's version and, when the code is a git checkout, its commit and whether
    tracked files differ from it (``dirty``: the commit alone does not reproduce the run)."""
    commit = _git(run, repo_root, "rev-parse", "HEAD")
    if commit is None:
        return {"catdog": catdog.__version__, "git_commit": None}
    changes = _git(run, repo_root, "status", "--porcelain", "--untracked-files=no")
    return {
        "catdog": catdog.__version__,
        "git_commit": commit,
        "dirty": None if changes is None else bool(changes),
    }


def _git(run: Runner, repo_root: Path, *args: str) -> str | None:
    """The stripped output of a git command, or None when git fails or is missing."""
    try:
        result = run(
            ["git", "-C", str(repo_root), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip()
