"""Fixtures: tiny model directories, local storage with a registry, a started service."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from catdog.artifacts import MODEL_FILE, artifact_prefix, upload_model_dir
from catdog.clock import utc_now
from catdog.domain import ModelStatus, ModelVersion
from catdog.settings import Settings
from catdog.storage.local import Database, LocalBlobStore, build_local_storage
from catdog.storage.local.registry import SqliteModelRegistry
from catdog.storage.ports import BlobStore, ModelRegistry, Storage
from inference_server.server import build_service
from inference_server.service import InferenceService
from inference_server.sources import RegistrySource
from tests.inference_server.model_dirs import write_model_dir

ADMIN_TOKEN = "test-admin-token"


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """v1, v2: 32 px; v3: 48 px; bad-canary: recorded probabilities off by 0.05;
    corrupt: model.keras is not a model."""
    root = tmp_path_factory.mktemp("models")
    dirs = {
        "v1": write_model_dir(root / "v1", "v1", seed=1),
        "v2": write_model_dir(root / "v2", "v2", seed=2),
        "v3": write_model_dir(root / "v3", "v3", seed=3, input_size=48),
        "bad-canary": write_model_dir(
            root / "bad-canary", "bad-canary", seed=4, canary_offset=0.05
        ),
    }
    corrupt = write_model_dir(root / "corrupt", "corrupt", seed=5)
    (corrupt / MODEL_FILE).write_bytes(b"PK\x03\x04 this is not a keras archive")
    dirs["corrupt"] = corrupt
    return dirs


def make_settings(data_dir: Path, **changes: object) -> Settings:
    base = Settings(
        data_dir=data_dir,
        inference_admin_token=ADMIN_TOKEN,
        batch_max_size=8,
        batch_max_wait_ms=2.0,
        max_upload_bytes=256 * 1024,
        max_image_pixels=1_000_000,
    )
    return base.with_changes(**changes)


def publish(blobs: BlobStore, registry: ModelRegistry, version: str, model_dir: Path) -> None:
    """Upload a model directory as an artifact and register it as a candidate."""
    upload_model_dir(blobs, version, model_dir)
    registry.register(
        ModelVersion(version, artifact_prefix(version), ModelStatus.CANDIDATE, utc_now())
    )


def promote(registry: ModelRegistry, version: str) -> None:
    champion = registry.champion()
    registry.promote(version, champion.version if champion else None, "test", "test", utc_now())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def published_data_dir(
    tmp_path_factory: pytest.TempPathFactory, model_dirs: dict[str, Path]
) -> Path:
    """A data directory with every test model published and v1 champion (copied per test)."""
    data_dir = tmp_path_factory.mktemp("published") / "data"
    settings = make_settings(data_dir)
    database = Database(settings.database_path)
    blobs, registry = LocalBlobStore(settings.blob_dir), SqliteModelRegistry(database)
    for version, path in model_dirs.items():
        publish(blobs, registry, version, path)
    promote(registry, "v1")
    database.close()  # the last connection: checkpoints the WAL before the copies
    return data_dir


@pytest.fixture
def storage(settings: Settings, published_data_dir: Path) -> Storage:
    """Local storage with every test model published and v1 champion."""
    shutil.copytree(published_data_dir, settings.data_dir)
    return build_local_storage(settings)


@pytest.fixture
def idle_service(settings: Settings, storage: Storage) -> Iterator[InferenceService]:
    """A started service with no model loaded yet."""
    source = RegistrySource(storage.registry, storage.blobs, settings.model_cache_dir)
    service = build_service(settings, source)
    service.start()
    yield service
    service.close()


@pytest.fixture
def service(idle_service: InferenceService) -> InferenceService:
    """A started service serving the champion, v1."""
    idle_service.reload()
    return idle_service
