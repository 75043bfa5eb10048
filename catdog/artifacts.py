"""Model artifacts in the ``models`` bucket.

Layout of one version: ``<version>/model.keras``, ``<version>/canary/<i>.img``,
``<version>/evaluation.json`` (the gate's evaluation manifest and per-image scores),
``<version>/metrics.json``, then ``<version>/_SUCCESS``, written in that order so
a reader that ignores versions without ``_SUCCESS`` never sees half a model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catdog.errors import NotFound
from catdog.storage.ports import BlobStore

MODEL_FILE = "model.keras"
METRICS_FILE = "metrics.json"
SUCCESS_FILE = "_SUCCESS"
CANARY_DIR = "canary"
EVALUATION_FILE = "evaluation.json"


@dataclass(frozen=True)
class CanaryImage:
    """A validation image and the probabilities the trained model gave it."""

    name: str
    sha256: str
    probabilities: dict[str, float]


def artifact_prefix(version: str) -> str:
    return f"{version}/"


def write_artifact(
    blobs: BlobStore,
    version: str,
    model_file: Path,
    metrics: dict[str, Any],
    canary_images: dict[str, bytes],
    files: dict[str, bytes] | None = None,
) -> str:
    """Write a complete artifact, ``_SUCCESS`` last. Returns its prefix.

    ``files`` are further top-level files (the evaluation manifest)."""
    prefix = artifact_prefix(version)
    blobs.put("models", prefix + MODEL_FILE, model_file.read_bytes(), "application/octet-stream")
    for name, data in canary_images.items():
        blobs.put("models", f"{prefix}{CANARY_DIR}/{name}", data, "application/octet-stream")
    for name, data in (files or {}).items():
        blobs.put("models", prefix + name, data, "application/json")
    blobs.put(
        "models", prefix + METRICS_FILE, json.dumps(metrics, indent=2).encode(), "application/json"
    )
    blobs.put("models", prefix + SUCCESS_FILE, b"", "text/plain")
    return prefix


def is_complete(blobs: BlobStore, version: str) -> bool:
    return blobs.exists("models", artifact_prefix(version) + SUCCESS_FILE)


def read_metrics(blobs: BlobStore, version: str) -> dict[str, Any]:
    """Metrics of a complete artifact. Raises NotFound if the artifact is incomplete."""
    if not is_complete(blobs, version):
        raise NotFound(f"model {version} has no complete artifact")
    data: dict[str, Any] = json.loads(
        blobs.get("models", artifact_prefix(version) + METRICS_FILE).data
    )
    return data


def fetch_artifact(blobs: BlobStore, version: str, cache_dir: Path) -> Path:
    """Copy a complete artifact into ``cache_dir/<version>`` (once) and return that folder.

    The folder then has the same layout as a model directory on disk, so
    loading code handles both alike.
    """
    target = cache_dir / version
    if (target / SUCCESS_FILE).exists():
        return target
    if not is_complete(blobs, version):
        raise NotFound(f"model {version} has no complete artifact")
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=cache_dir))
    prefix = artifact_prefix(version)
    for name in blobs.list("models", prefix):
        relative = name[len(prefix) :]
        destination = staging / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(blobs.get("models", name).data)
    try:
        os.replace(staging, target)
    except OSError:
        # Another process cached it first; theirs is identical.
        shutil.rmtree(staging, ignore_errors=True)
    return target


def canary_images(model_dir: Path, metrics: dict[str, Any]) -> list[tuple[CanaryImage, bytes]]:
    """The canary set recorded in ``metrics`` with the bytes stored beside the model."""
    result = []
    for entry in metrics.get("canary", []):
        canary = CanaryImage(entry["name"], entry["sha256"], dict(entry["probabilities"]))
        result.append((canary, (model_dir / CANARY_DIR / canary.name).read_bytes()))
    return result


def upload_model_dir(blobs: BlobStore, version: str, model_dir: Path) -> str:
    """Copy a model directory on disk (e.g. the shipped baseline) into the blob store."""
    metrics = json.loads((model_dir / METRICS_FILE).read_text())
    canaries = {
        path.name: path.read_bytes()
        for path in sorted((model_dir / CANARY_DIR).glob("*"))
        if path.is_file()
    }
    manifest = model_dir / EVALUATION_FILE
    files = {EVALUATION_FILE: manifest.read_bytes()} if manifest.is_file() else {}
    return write_artifact(blobs, version, model_dir / MODEL_FILE, metrics, canaries, files)
