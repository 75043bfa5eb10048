"""Runs that need a manager, through the committed state machine on moto: a rejected,
a failed and a not-served run each raise one alert, written as a JSON line to the
data dir's alerts log (the local notifier) and shown as a banner on the manager pages
until acknowledged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catdog.auth.accounts import ManagerAccounts
from catdog.domain import Mode
from catdog.notifiers import ALERTS_LOG
from catdog.settings import Settings
from catdog.storage.local.database import Database
from catdog.storage.ports import Storage
from tests.pipeline.pipeline_support import (
    BASELINE,
    FakeInferenceServer,
    FakeTrainCompute,
    TrainingScript,
    add_labels,
    install_champion,
    run,
    set_mode,
)
from tests.web.conftest import MANAGER, PASSWORD, csrf_from
from tests.web.fakes import FakeInference
from web.app import create_app


def logged(settings: Settings) -> list[dict[str, Any]]:
    path = Path(settings.log_dir) / ALERTS_LOG
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_rejected_run_notifies_and_shows_a_banner_until_acknowledged(
    start_pipeline: Any, settings: Settings, storage: Storage, compute: FakeTrainCompute
) -> None:
    install_champion(storage, accuracy=0.90)
    add_labels(storage, 6)
    set_mode(storage, Mode.AUTO, threshold=5)
    compute.script = TrainingScript(accuracy=0.85)
    detail = run(start_pipeline(), "alert-reject", trigger="schedule")
    assert detail.output["outcome"] == "rejected"

    lines = logged(settings)
    assert len(lines) == 1
    assert lines[0]["event"] == "catdog.alert"
    assert (lines[0]["kind"], lines[0]["run_id"]) == ("rejected", "alert-reject")
    assert "champion baseline 0.9000" in lines[0]["message"]

    app = create_app(
        settings.with_changes(secret_key="test-secret"), storage=storage, inference=FakeInference()
    )
    ManagerAccounts(Database(settings.database_path)).add_user(MANAGER, PASSWORD)
    client = app.test_client()
    token = csrf_from(client, "/manager/login")
    login = {"username": MANAGER, "password": PASSWORD, "csrf_token": token}
    assert client.post("/manager/login", data=login).status_code == 303
    page = client.get("/manager/models").get_data(as_text=True)
    assert 'data-alert="alert-reject.rejected"' in page
    assert 'href="/manager/training-runs/alert-reject"' in page
    token = csrf_from(client, "/manager/models")
    acknowledged = client.post(
        "/manager/alerts/alert-reject.rejected/acknowledge", data={"csrf_token": token}
    )
    assert acknowledged.status_code == 303
    page = client.get("/manager/").get_data(as_text=True)
    assert 'id="alerts"' not in page
    alert = storage.alerts.find("alert-reject.rejected")
    assert alert is not None and alert.acknowledged_by == MANAGER


def test_a_failed_run_notifies_once(
    start_pipeline: Any, settings: Settings, storage: Storage, compute: FakeTrainCompute
) -> None:
    install_champion(storage)
    compute.script = TrainingScript(error="out of memory")
    detail = run(start_pipeline(), "alert-fail", trigger="manual", force=True)
    assert detail.summary.status == "FAILED"
    lines = logged(settings)
    assert [(line["kind"], line["run_id"]) for line in lines] == [("failed", "alert-fail")]
    assert "out of memory" in lines[0]["message"]
    assert [a.alert_id for a in storage.alerts.open_alerts()] == ["alert-fail.failed"]


def test_a_model_the_server_refuses_notifies_that_it_is_not_served(
    start_pipeline: Any, settings: Settings, storage: Storage, inference: FakeInferenceServer
) -> None:
    install_champion(storage, accuracy=0.90)
    inference.served = BASELINE
    inference.refuse = {"alert-refused"}
    detail = run(start_pipeline(), "alert-refused", trigger="manual", force=True)
    assert detail.state_names[-1] == "PromotedNotServed"
    lines = logged(settings)
    assert [(line["kind"], line["run_id"]) for line in lines] == [("not_served", "alert-refused")]
    assert f"the champion went back to {BASELINE}" in lines[0]["message"]


def test_a_promoted_and_served_run_raises_nothing(
    start_pipeline: Any, settings: Settings, storage: Storage
) -> None:
    install_champion(storage, accuracy=0.90)
    detail = run(start_pipeline(), "alert-none", trigger="manual", force=True)
    assert detail.output["outcome"] == "promoted"
    assert logged(settings) == [] and storage.alerts.open_alerts() == []
