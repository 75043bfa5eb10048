"""Shared fixtures: every test gets its own data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from catdog.storage.ports import Storage

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return build_local_storage(settings)
