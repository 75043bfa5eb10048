"""The managers' JSON API with a bearer token."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from catdog.clock import utc_now
from catdog.domain import ModelStatus, ModelVersion, RunProgress
from catdog.storage.ports import Storage
from tests.factories import noise_image_bytes
from tests.storage_support import champion_version
from tests.web.conftest import MANAGER
from tests.web.fakes import FakeInference, FakeOrchestrator


def test_label_an_image_and_read_its_history(client, auth_header, app, storage: Storage):
    app.extensions["catdog"].uploads.upload("pic", noise_image_bytes(1))
    response = client.put("/api/v1/images/pic/label", json={"label": "dog"}, headers=auth_header)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["label"], body["labeled_by"]) == ("dog", MANAGER)
    client.put("/api/v1/images/pic/label", json={"label": "cat"}, headers=auth_header)
    history = client.get("/api/v1/images/pic/labels", headers=auth_header).get_json()["items"]
    assert [(h["old_label"], h["new_label"], h["by"]) for h in history] == [
        (None, "dog", MANAGER),
        ("dog", "cat", MANAGER),
    ]
    bad = client.put("/api/v1/images/pic/label", json={"label": "fox"}, headers=auth_header)
    assert bad.status_code == 400
    missing = client.put("/api/v1/images/nope/label", json={"label": "cat"}, headers=auth_header)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_get_and_put_settings(client, auth_header, storage: Storage):
    assert client.get("/api/v1/settings", headers=auth_header).get_json() == {
        "mode": "manual",
        "label_threshold": 20,
        "min_accuracy": 0.8,
        "max_accuracy_drop": 0.01,
        "min_eval_images": 200,
    }
    response = client.put(
        "/api/v1/settings",
        json={"mode": "auto", "label_threshold": 7, "min_eval_images": 400},
        headers=auth_header,
    )
    assert response.status_code == 200
    assert response.get_json()["mode"] == "auto"
    assert storage.settings.get().label_threshold == 7
    assert storage.settings.get().min_eval_images == 400
    for bad in (
        {"mode": "sometimes"},
        {"min_accuracy": 2},
        {"colour": "red"},
        {"min_eval_images": 0},
        {"min_eval_images": "many"},
    ):
        response = client.put("/api/v1/settings", json=bad, headers=auth_header)
        assert response.status_code == 422
        assert response.get_json()["error"]["code"] == "invalid_settings"
    assert storage.settings.get().mode.value == "auto"


def test_train_now_is_202_with_the_execution(
    client, auth_header, orchestrator: FakeOrchestrator, storage: Storage
):
    response = client.post("/api/v1/training-runs", headers=auth_header)
    assert response.status_code == 202
    body = response.get_json()
    assert body["execution_id"].endswith(":" + body["run_id"])
    assert orchestrator.started[0][0] == {
        "trigger": "manual",
        "force": True,
        "retrain_mode": "incremental",
    }
    runs = client.get("/api/v1/training-runs", headers=auth_header).get_json()
    assert runs["active"]["run_id"] == body["run_id"]
    assert [run["run_id"] for run in runs["items"]] == [body["run_id"]]
    storage.runs.record_progress(body["run_id"], RunProgress(2, 3, loss=0.4, accuracy=0.8))
    run = client.get(f"/api/v1/training-runs/{body['run_id']}", headers=auth_header).get_json()
    assert run["progress"]["epoch"] == 2
    assert [h["epoch"] for h in run["history"]] == [1, 2]
    assert client.get("/api/v1/training-runs/none", headers=auth_header).status_code == 404
    again = client.post("/api/v1/training-runs", headers=auth_header)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "run_already_active"


def test_train_now_can_ask_for_a_full_retrain_and_refuses_unknown_modes(
    client, auth_header, orchestrator: FakeOrchestrator
):
    bad = client.post(
        "/api/v1/training-runs", json={"retrain_mode": "partial"}, headers=auth_header
    )
    assert bad.status_code == 400
    assert "retrain_mode must be 'incremental' or 'full'" in bad.get_json()["error"]["message"]
    assert orchestrator.started == []
    response = client.post(
        "/api/v1/training-runs", json={"retrain_mode": "full"}, headers=auth_header
    )
    assert response.status_code == 202
    assert orchestrator.started[0][0]["retrain_mode"] == "full"
    assert len(orchestrator.started) == 1


def test_models_and_promotion_compare_and_set(
    client, auth_header, storage: Storage, inference: FakeInference
):
    for day, version in enumerate(("v1", "v2"), start=1):
        storage.registry.register(
            ModelVersion(
                version,
                f"models/{version}/",
                ModelStatus.CANDIDATE,
                datetime(2026, 1, day, tzinfo=UTC),
                {"accuracy": 0.9 + day / 100},
            )
        )
    storage.registry.promote("v1", None, "bootstrap", "baseline", utc_now())
    models = client.get("/api/v1/models", headers=auth_header).get_json()
    assert models["champion"] == "v1"
    assert [m["version"] for m in models["items"]] == ["v2", "v1"]
    response = client.post(
        "/api/v1/models/v2/promote",
        json={"expected_champion": "v1", "reason": "better"},
        headers=auth_header,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["served"] is True
    assert body["change"]["by"] == MANAGER and body["change"]["from_version"] == "v1"
    assert inference.reloaded == ["v2"]
    conflict = client.post(
        "/api/v1/models/v1/promote",
        json={"expected_champion": "v1", "reason": "stale view"},
        headers=auth_header,
    )
    assert conflict.status_code == 409
    assert conflict.get_json()["error"]["code"] == "champion_changed"
    no_reason = client.post("/api/v1/models/v1/promote", json={}, headers=auth_header)
    assert no_reason.status_code == 400
    unknown = client.post(
        "/api/v1/models/v9/promote",
        json={"expected_champion": "v2", "reason": "x"},
        headers=auth_header,
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize("body", [{}, {"expected_champion": 3}, {"expected_champion": ""}])
def test_promotion_and_rollback_need_the_expected_champion(
    client, auth_header, storage: Storage, inference: FakeInference, body: dict[str, object]
):
    """The finding: without expected_champion the API filled in the current champion
    itself, so a stale view silently won."""
    for version in ("v1", "v2"):
        storage.registry.register(
            ModelVersion(
                version,
                f"models/{version}/",
                ModelStatus.CANDIDATE,
                datetime(2026, 1, 1, tzinfo=UTC),
                {"accuracy": 0.9},
            )
        )
    storage.registry.promote("v1", None, "bootstrap", "baseline", utc_now())
    storage.registry.promote("v2", "v1", "bootstrap", "newer", utc_now())
    response = client.post(
        "/api/v1/models/v1/promote", json={**body, "reason": "roll back"}, headers=auth_header
    )
    assert response.status_code == 400
    assert "expected_champion" in response.get_json()["error"]["message"]
    assert champion_version(storage.registry) == "v2"
    assert inference.reloaded == []


def test_executions(client, auth_header, orchestrator: FakeOrchestrator):
    arn = orchestrator.start_execution({"trigger": "manual"}, "manual-e1")
    items = client.get("/api/v1/executions", headers=auth_header).get_json()["items"]
    assert [(e["name"], e["status"]) for e in items] == [("manual-e1", "RUNNING")]
    detail = client.get(f"/api/v1/executions/{arn}", headers=auth_header).get_json()
    assert detail["input"] == {"trigger": "manual"}  # exactly what was started
    steps = detail["timeline"]
    assert [(s["name"], s["status"]) for s in steps] == [
        ("CheckManagerMode", "succeeded"),
        ("CreateTrainingRun", "failed"),
    ]
    assert steps[0]["output"] == {"proceed": True}
    assert steps[1]["errors"][0]["error"] == "RunAlreadyActive"
    assert client.get("/api/v1/executions/arn:none", headers=auth_header).status_code == 404


def test_orchestrator_down_is_503(client, auth_header, orchestrator: FakeOrchestrator):
    orchestrator.down = True
    response = client.post("/api/v1/training-runs", headers=auth_header)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"


def test_a_model_the_server_refuses_is_rolled_back(client, auth_header, storage: Storage):
    from catdog.errors import CanaryMismatch

    for day, version in enumerate(("v1", "v2"), start=1):
        storage.registry.register(
            ModelVersion(
                version,
                f"models/{version}/",
                ModelStatus.CANDIDATE,
                datetime(2026, 1, day, tzinfo=UTC),
                {"accuracy": 0.9},
            )
        )
    storage.registry.promote("v1", None, "bootstrap", "baseline", utc_now())

    class Refusing(FakeInference):
        def reload(self, version: str | None = None) -> dict[str, object]:
            raise CanaryMismatch("probabilities differ from training")

    client.application.extensions["catdog"] = replace(
        client.application.extensions["catdog"], inference=Refusing()
    )
    response = client.post(
        "/api/v1/models/v2/promote",
        json={"expected_champion": "v1", "reason": "try it"},
        headers=auth_header,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["served"] is False
    assert "so v1 stays" in body["detail"]
    assert champion_version(storage.registry) == "v1"
    reasons = [change.reason for change in storage.registry.history()]
    assert reasons[0].startswith("automatic roll back: the inference server refused v2")


def test_the_api_promotes_a_rejected_model_only_as_an_override(
    client, auth_header, storage: Storage, inference: FakeInference
):
    for day, version in enumerate(("v1", "v2"), start=1):
        storage.registry.register(
            ModelVersion(
                version,
                f"models/{version}/",
                ModelStatus.CANDIDATE,
                datetime(2026, 1, day, tzinfo=UTC),
                {"accuracy": 0.9},
            )
        )
    storage.registry.promote("v1", None, "bootstrap", "baseline", utc_now())
    storage.registry.set_status("v2", ModelStatus.REJECTED)
    body = {"expected_champion": "v1", "reason": "checked by hand"}
    for refused in ({}, {"override": "yes"}):
        response = client.post(
            "/api/v1/models/v2/promote", json={**body, **refused}, headers=auth_header
        )
        assert response.status_code == 400
    assert champion_version(storage.registry) == "v1"
    response = client.post(
        "/api/v1/models/v2/promote", json={**body, "override": True}, headers=auth_header
    )
    assert response.status_code == 200
    assert response.get_json()["change"]["override"] is True
    assert champion_version(storage.registry) == "v2"
