""" "Train now" through the real local pipeline: the web app's orchestrator is the
pipeline's (boto3 against moto's Step Functions server running the real state
machine); only the training compute and the inference server are the pipeline
tests' doubles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from catdog.storage.ports import Storage
from hosts.embedded.step_functions import LocalPipeline
from tests.network import free_port
from tests.pipeline.pipeline_support import (
    BASELINE,
    FakeInferenceServer,
    FakeTrainCompute,
    install_champion,
)
from tests.web.conftest import MANAGER, PASSWORD
from tests.web.fakes import FakeInference
from web.app import create_app

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        stepfunctions_port=free_port(),
        wait_seconds=1,
    )


@pytest.fixture
def pipeline(
    settings: Settings, storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalPipeline]:
    monkeypatch.setenv("MOTO_PORT", str(settings.stepfunctions_port))
    model_file = tmp_path / "model.keras"
    model_file.write_bytes(b"stand-in model: the steps read metrics, never the model")
    pipeline = LocalPipeline(
        settings,
        storage,
        compute=FakeTrainCompute(storage, model_file),
        inference=FakeInferenceServer(storage, served=BASELINE),
        name_prefix="catdog",
        schedule=False,
    )
    pipeline.start()
    yield pipeline
    pipeline.stop()


def test_train_now_runs_the_state_machine_and_the_web_shows_it(
    settings: Settings, pipeline: LocalPipeline, accounts
):
    storage = build_local_storage(settings)
    install_champion(storage, accuracy=0.90)
    app = create_app(
        settings, storage=storage, inference=FakeInference(), orchestrator=pipeline.orchestrator
    )
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}

    started = client.post("/api/v1/training-runs", headers=headers)
    assert started.status_code == 202
    execution_id, run_id = started.get_json()["execution_id"], started.get_json()["run_id"]
    finished = pipeline.orchestrator.wait(execution_id, timeout=90, poll=0.2)
    assert finished.summary.status == "SUCCEEDED"

    run = client.get(f"/api/v1/training-runs/{run_id}", headers=headers).get_json()
    assert run["trigger"] == "manual"
    assert run["status"] == "promoted"
    assert run["execution_id"] == execution_id
    assert client.get("/api/v1/models", headers=headers).get_json()["champion"] == run_id

    detail = client.get(f"/api/v1/executions/{execution_id}", headers=headers).get_json()
    assert detail["input"] == {"trigger": "manual", "force": True, "retrain_mode": "incremental"}
    names = [step["name"] for step in detail["timeline"]]
    assert names[0] == "CheckManagerMode"
    assert {"CreateTrainingRun", "ValidateModel", "PromoteModel"} <= set(names)
    assert all(step["status"] == "succeeded" for step in detail["timeline"])
    listed = client.get("/api/v1/executions", headers=headers).get_json()["items"]
    assert execution_id in [item["execution_arn"] for item in listed]
