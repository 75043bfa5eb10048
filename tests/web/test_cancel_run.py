"""Cancelling a run from the run page (with a confirmation) and the API: the execution
and the training stop, the lock is released, the champion stays, who and when are kept."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient

from catdog.domain import RunStatus
from catdog.storage.ports import Storage
from tests.contract.test_contract_cancel import StoppableCompute
from tests.web.conftest import MANAGER, csrf_from
from tests.web.fakes import FakeOrchestrator
from web.deps import EXTENSION


def with_compute(app: Flask) -> StoppableCompute:
    compute = StoppableCompute()
    app.extensions[EXTENSION] = replace(app.extensions[EXTENSION], compute=compute)
    return compute


def test_cancel_button_asks_then_stops_the_run(
    app: Flask, manager_client: FlaskClient, orchestrator: FakeOrchestrator, storage: Storage
) -> None:
    compute = with_compute(app)
    arn = orchestrator.start_execution({"trigger": "manual", "force": True}, "manual-c1")
    page = manager_client.get("/manager/training-runs/manual-c1").get_data(as_text=True)
    assert 'id="cancel-run"' in page and "data-confirm=" in page
    token = csrf_from(manager_client, "/manager/training-runs/manual-c1")
    url = "/manager/training-runs/manual-c1/cancel"
    unconfirmed = manager_client.post(url, data={"csrf_token": token})
    assert unconfirmed.status_code == 400
    assert storage.runs.get("manual-c1").status.is_active

    response = manager_client.post(url, data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 303
    run = storage.runs.get("manual-c1")
    assert (run.status, run.error) == (RunStatus.CANCELLED, f"cancelled by {MANAGER}")
    assert run.finished_at is not None
    assert orchestrator.stopped == [(arn, f"cancelled by {MANAGER}")]
    assert compute.stopped == ["manual-c1"]
    assert storage.runs.active() is None
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "cancelled by alice" in page and 'id="cancel-run"' not in page
    # The lock is free: Train now works again.
    token = csrf_from(manager_client, "/manager/")
    assert (
        manager_client.post("/manager/training-runs", data={"csrf_token": token}).status_code == 303
    )


def test_cancel_through_the_api(
    app: Flask,
    client: FlaskClient,
    auth_header: dict[str, str],
    orchestrator: FakeOrchestrator,
    storage: Storage,
) -> None:
    compute = with_compute(app)
    orchestrator.start_execution({"trigger": "manual", "force": True}, "manual-c2")
    response = client.post("/api/v1/training-runs/manual-c2/cancel", headers=auth_header)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["error"]) == ("cancelled", f"cancelled by {MANAGER}")
    assert compute.stopped == ["manual-c2"]
    again = client.post("/api/v1/training-runs/manual-c2/cancel", headers=auth_header)
    assert again.status_code == 409
    missing = client.post("/api/v1/training-runs/nope/cancel", headers=auth_header)
    assert missing.status_code == 404
    assert client.post("/api/v1/training-runs/manual-c2/cancel").status_code == 401
    status = client.get("/api/v1/executions/manual-c2", headers=auth_header).get_json()
    assert (status["status"], status["outcome"]) == ("ABORTED", "cancelled")


def test_new_labels_api_uses_the_pipeline_rule(
    client: FlaskClient, auth_header: dict[str, str], storage: Storage
) -> None:
    from catdog.clock import utc_now
    from catdog.domain import ModelStatus, ModelVersion
    from tests.pipeline.pipeline_support import add_labels, install_champion

    install_champion(storage)
    add_labels(storage, 3)
    body = client.get("/api/v1/labels/new", headers=auth_header).get_json()
    assert (body["new_labels"], body["label_threshold"], body["enough"]) == (3, 20, False)
    # A model rejected on those labels moves the cutoff, for the dashboard and API too.
    storage.registry.register(
        ModelVersion("weak", "weak/", ModelStatus.REJECTED, utc_now(), {}, data_cutoff=utc_now())
    )
    assert client.get("/api/v1/labels/new", headers=auth_header).get_json()["new_labels"] == 0


def test_dashboard_counts_new_labels_as_the_pipeline_does(
    manager_client: FlaskClient, storage: Storage
) -> None:
    """A rejected model's data cutoff counts: the dashboard never says the threshold
    is met while every scheduled run skips."""
    from catdog.clock import utc_now
    from catdog.domain import ModelStatus, ModelVersion
    from tests.pipeline.pipeline_support import add_labels, install_champion

    install_champion(storage)
    add_labels(storage, 4)
    html = manager_client.get("/manager/").get_data(as_text=True)
    assert 'id="labels-since">4<' in html
    storage.registry.register(
        ModelVersion("weak", "weak/", ModelStatus.REJECTED, utc_now(), {}, data_cutoff=utc_now())
    )
    html = manager_client.get("/manager/").get_data(as_text=True)
    assert 'id="labels-since">0<' in html and "20 more before an automatic run" in html
