"""The live run view's server side (the run JSON it polls, the outcome fragment it swaps
in, the page without JavaScript) and the alerts banner on every manager page."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from catdog.alerts import Alert, AlertKind
from catdog.clock import utc_now
from catdog.domain import RunPhase, RunProgress, RunStatus, Trigger
from catdog.storage.ports import Storage
from tests.gate_metrics import paired_metrics
from tests.web.conftest import MANAGER, csrf_from

NOW = utc_now()


def active_run(storage: Storage, run_id: str = "manual-live") -> None:
    storage.runs.create(run_id, Trigger.MANUAL, NOW)
    storage.runs.transition(
        run_id, RunStatus.TRAINING, NOW, allowed_from=frozenset({RunStatus.PENDING})
    )


def test_the_run_json_carries_phase_and_batches_and_history_only_per_epoch(
    manager_client: FlaskClient, storage: Storage
) -> None:
    active_run(storage)
    storage.runs.record_progress(
        "manual-live", RunProgress.phase_only(RunPhase.DECODING, NOW, done=40, total=120)
    )
    run = manager_client.get("/api/v1/training-runs/manual-live").get_json()
    assert run["progress"]["phase"] == "decoding"
    assert (run["progress"]["done"], run["progress"]["total"]) == (40, 120)
    page = manager_client.get("/manager/training-runs/manual-live").get_data(as_text=True)
    assert "Decoding images 40 of 120 images" in page
    assert "The curves start after the first epoch." in page  # the chart's place is ready
    storage.runs.record_progress("manual-live", RunProgress(1, 3, loss=0.69, val_loss=0.7))
    storage.runs.record_progress(
        "manual-live",
        RunProgress(2, 3, loss=0.6, batch=5, batches=9, images_per_second=12.5, eta_seconds=30),
    )
    run = manager_client.get("/api/v1/training-runs/manual-live").get_json()
    assert [h["epoch"] for h in run["history"]] == [1]
    assert (run["progress"]["batch"], run["progress"]["batches"]) == (5, 9)
    page = manager_client.get("/manager/training-runs/manual-live").get_data(as_text=True)
    assert "Batch 5 of 9 · 12.5 images/s" in page
    assert '<svg class="chart"' in page  # the server draws the curves at load
    assert 'http-equiv="refresh"' not in page
    assert "<noscript>" in page  # without JavaScript the page says it shows the load state
    assert 'data-poll="/api/v1/training-runs/manual-live"' in page
    assert 'data-outcome="/manager/training-runs/manual-live/outcome"' in page


def test_the_outcome_fragment_shows_the_decision_evidence_and_confusion(
    manager_client: FlaskClient, storage: Storage
) -> None:
    active_run(storage, "manual-done")
    metrics = {
        **paired_metrics(0.8, n_per_class=5),
        "confusion_matrix": [[4, 1], [1, 4]],
        "gate_decision": {"accepted": False, "rule": "min_accuracy", "reason": "too few images"},
    }
    storage.runs.transition(
        "manual-done",
        RunStatus.EVALUATING,
        NOW,
        allowed_from=frozenset({RunStatus.TRAINING}),
        metrics=metrics,
    )
    storage.runs.transition(
        "manual-done",
        RunStatus.REJECTED,
        NOW,
        allowed_from=frozenset({RunStatus.EVALUATING}),
        error="too few images",
    )
    response = manager_client.get("/manager/training-runs/manual-done/outcome")
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment  # a fragment for the page's script, not a page
    assert 'id="run-decision" data-status="rejected"' in fragment
    assert "The gate kept the champion: too few images." in fragment
    assert 'id="run-gate-evidence"' in fragment and 'id="confusion"' in fragment
    assert manager_client.get("/manager/training-runs/nope/outcome").status_code == 404


def raise_alert(storage: Storage, run_id: str, kind: AlertKind, minutes: int = 0) -> Alert:
    alert = Alert.for_run(kind, run_id, "the details", NOW + timedelta(minutes=minutes))
    storage.alerts.raise_alert(alert)
    return alert


def test_open_alerts_show_on_every_manager_page_until_acknowledged(
    manager_client: FlaskClient, storage: Storage
) -> None:
    assert 'id="alerts"' not in manager_client.get("/manager/").get_data(as_text=True)
    rejected = raise_alert(storage, "manual-r", AlertKind.REJECTED)
    raise_alert(storage, "manual-n", AlertKind.NOT_SERVED, minutes=1)
    for path in ("/manager/", "/manager/images", "/manager/training-runs", "/manager/models"):
        page = manager_client.get(path).get_data(as_text=True)
        assert 'id="alerts"' in page, path
        assert 'href="/manager/training-runs/manual-r"' in page
        assert "Training run manual-r was rejected by the promotion gate: the details" in page
        assert "was promoted but the inference server does not serve it" in page
    token = csrf_from(manager_client, "/manager/images")
    response = manager_client.post(
        f"/manager/alerts/{rejected.alert_id}/acknowledge",
        data={"csrf_token": token, "next": "/manager/images?"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/manager/images")
    done = storage.alerts.find(rejected.alert_id)
    assert done is not None and done.acknowledged_by == MANAGER
    assert done.acknowledged_at is not None
    page = manager_client.get("/manager/").get_data(as_text=True)
    assert "Acknowledged: Training run manual-r was rejected" in page  # the flash
    assert f'data-alert="{rejected.alert_id}"' not in page
    assert 'data-alert="manual-n.not_served"' in page
    # Somewhere else than a manager page is never a redirect target.
    other = raise_alert(storage, "manual-x", AlertKind.FAILED)
    response = manager_client.post(
        f"/manager/alerts/{other.alert_id}/acknowledge",
        data={"csrf_token": token, "next": "//evil.example/manager/"},
    )
    assert response.headers["Location"].endswith("/manager/")
    assert "evil" not in response.headers["Location"]


def test_acknowledging_needs_the_form_token(manager_client: FlaskClient, storage: Storage) -> None:
    alert = raise_alert(storage, "manual-r", AlertKind.REJECTED)
    response = manager_client.post(f"/manager/alerts/{alert.alert_id}/acknowledge")
    assert response.status_code == 403
    assert storage.alerts.open_alerts() == [alert]


def test_the_alerts_api_lists_and_acknowledges(
    client: FlaskClient, auth_header: dict[str, str], storage: Storage
) -> None:
    assert client.get("/api/v1/alerts").status_code == 401
    failed = raise_alert(storage, "manual-f", AlertKind.FAILED)
    later = raise_alert(storage, "manual-g", AlertKind.FAILED, minutes=5)
    listed = client.get("/api/v1/alerts", headers=auth_header).get_json()["items"]
    assert [a["alert_id"] for a in listed] == [later.alert_id, failed.alert_id]
    assert listed[0]["kind"] == "failed" and listed[0]["acknowledged_by"] is None
    url = f"/api/v1/alerts/{failed.alert_id}/acknowledge"
    assert client.post(url).status_code == 401
    done = client.post(url, headers=auth_header).get_json()
    assert done["acknowledged_by"] == MANAGER and done["acknowledged_at"] is not None
    listed = client.get("/api/v1/alerts", headers=auth_header).get_json()["items"]
    assert [a["alert_id"] for a in listed] == [later.alert_id]
    missing = client.post("/api/v1/alerts/manual-z.failed/acknowledge", headers=auth_header)
    assert missing.status_code == 404


def test_the_dashboard_offers_train_now_only_without_an_active_run(
    manager_client: FlaskClient, storage: Storage
) -> None:
    idle = manager_client.get("/manager/").get_data(as_text=True)
    form = idle.split('id="train-now-form"')[1].split(">")[0]
    assert "hidden" not in form
    active_run(storage)
    busy = manager_client.get("/manager/").get_data(as_text=True)
    assert 'data-poll="/api/v1/training-runs/manual-live"' in busy
    # Rendered but hidden: the page's script shows it when the watched run ends.
    form = busy.split('id="train-now-form"')[1].split(">")[0]
    assert "hidden" in form
