"""Pipeline fixtures: a started LocalPipeline on a free loopback port, per test."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from catdog.fleet.ports import InferenceFleet
from catdog.pipeline.compute import TrainCompute
from catdog.pipeline.ports import InferenceSignal
from catdog.settings import Settings
from catdog.storage.ports import Storage
from hosts.embedded.step_functions import LocalPipeline
from tests.network import free_port
from tests.pipeline.pipeline_support import (
    BASELINE,
    FakeInferenceServer,
    FakeTrainCompute,
)

_prefixes = itertools.count()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", stepfunctions_port=free_port(), wait_seconds=1)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.keras"
    path.write_bytes(b"stand-in model: the steps read metrics, never the model")
    return path


@pytest.fixture
def compute(storage: Storage, model_file: Path) -> FakeTrainCompute:
    return FakeTrainCompute(storage, model_file)


@pytest.fixture
def inference(storage: Storage) -> FakeInferenceServer:
    return FakeInferenceServer(storage, served=BASELINE)


StartPipeline = Callable[..., LocalPipeline]


@pytest.fixture
def start_pipeline(
    settings: Settings,
    storage: Storage,
    compute: FakeTrainCompute,
    inference: FakeInferenceServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[StartPipeline]:
    """Start a pipeline (fake compute and inference unless given); stopped after the test."""
    monkeypatch.setenv("MOTO_PORT", str(settings.stepfunctions_port))  # restored afterwards
    started: list[LocalPipeline] = []

    def start(
        compute_: TrainCompute | None = None,
        settings_: Settings | None = None,
        schedule: bool = False,
        name_prefix: str | None = None,
        inference_: InferenceSignal | None = None,
        fleet_: InferenceFleet | None = None,
    ) -> LocalPipeline:
        pipeline = LocalPipeline(
            settings_ or settings,
            storage,
            compute=compute_ or compute,
            inference=inference_ or inference,
            fleet=fleet_,
            name_prefix=name_prefix or f"t{next(_prefixes)}",
            schedule=schedule,
        )
        pipeline.start()
        started.append(pipeline)
        return pipeline

    yield start
    for pipeline in started:
        pipeline.stop()
