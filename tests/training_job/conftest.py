"""Fixtures for the training job: tiny configurations so a run takes seconds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catdog.settings import Settings
from catdog.storage.ports import Blob, BlobStore, Bucket
from training_job.train import TrainingConfig

TINY_CONFIG = TrainingConfig(arch="small_cnn", input_size=32, epochs=2, batch_size=8, seed=3)
"""A configuration that trains in seconds; vary it with ``dataclasses.replace``."""


@pytest.fixture
def tiny_config() -> TrainingConfig:
    return TINY_CONFIG


@pytest.fixture
def tiny_settings(settings: Settings) -> Settings:
    return settings.with_changes(
        default_epochs=TINY_CONFIG.epochs,
        training_input_size=TINY_CONFIG.input_size,
        training_batch_size=TINY_CONFIG.batch_size,
        training_seed=TINY_CONFIG.seed,
    )


class RecordingBlobStore(BlobStore):
    """Wraps a blob store, recording every put in order; can fail on a chosen name."""

    def __init__(self, inner: BlobStore, fail_on: str | None = None) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.puts: list[tuple[Bucket, str]] = []

    def put(
        self, bucket: Bucket, name: str, data: bytes, content_type: str, *, pending: bool = False
    ) -> None:
        if self.fail_on is not None and name.endswith(self.fail_on):
            raise OSError(f"injected crash writing {name}")
        self.puts.append((bucket, name))
        self.inner.put(bucket, name, data, content_type, pending=pending)

    def settle(self, bucket: Bucket, name: str) -> None:
        self.inner.settle(bucket, name)

    def get(self, bucket: Bucket, name: str) -> Blob:
        return self.inner.get(bucket, name)

    def exists(self, bucket: Bucket, name: str) -> bool:
        return self.inner.exists(bucket, name)

    def delete(self, bucket: Bucket, name: str) -> None:
        self.inner.delete(bucket, name)

    def list(self, bucket: Bucket, prefix: str = "") -> Iterator[str]:
        return self.inner.list(bucket, prefix)


@pytest.fixture
def class_folder(tmp_path: Path) -> Path:
    from tests.training_job.training_images import write_class_folder

    return write_class_folder(tmp_path / "dataset", per_class=16)
