"""Manager stories on the pages: dashboard, queue, labels, settings, runs, models, executions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient

from catdog.clock import utc_now
from catdog.domain import ModelStatus, ModelVersion, RunProgress, RunStatus, Trigger
from catdog.storage.ports import Storage
from tests.factories import noise_image_bytes
from tests.gate_metrics import paired_metrics
from tests.storage_support import champion_version
from tests.web.conftest import MANAGER, csrf_from
from tests.web.fakes import FakeInference, FakeOrchestrator
from web.app import create_app


def add_images(app, inference: FakeInference, confidences: dict[str, float]) -> None:
    uploads = app.extensions["catdog"].uploads
    for index, (key, confidence) in enumerate(confidences.items()):
        inference.confidence = confidence
        uploads.upload(key, noise_image_bytes(index))


def register_model(storage: Storage, version: str, accuracy: float, day: int) -> ModelVersion:
    return storage.registry.register(
        ModelVersion(
            version=version,
            artifact=f"models/{version}/",
            status=ModelStatus.CANDIDATE,
            created_at=datetime(2026, 1, day, tzinfo=UTC),
            metrics=paired_metrics(accuracy),
            data_cutoff=datetime(2026, 1, day, tzinfo=UTC),
        )
    )


def test_dashboard_shows_mode_thresholds_labels_and_champion(
    manager_client: FlaskClient, storage: Storage, app, inference
):
    register_model(storage, "v1", 0.91, 1)
    storage.registry.promote("v1", None, "bootstrap", "baseline", utc_now())
    add_images(app, inference, {"a": 0.9, "b": 0.8})
    storage.catalog.set_label("a", "cat", MANAGER, utc_now())
    html = manager_client.get("/manager/").get_data(as_text=True)
    assert re.search(r'id="mode">manual<', html)
    assert re.search(r'id="labels-since">1<', html)
    assert "19 more before an automatic run" in html
    assert 'id="champion-version">v1<' in html
    # The accuracy with its evidence: n and the 95% interval, never a bare figure.
    champion = html.split('id="champion-accuracy">')[1].split("</dd>")[0]
    assert "91.00%" in champion and "on 400 images" in champion
    assert "95% CI 87.8%\u201393.4%" in champion
    assert 'id="no-active-run"' in html


def test_queue_lists_least_certain_first_and_labels_one(
    manager_client: FlaskClient, app, inference, storage: Storage
):
    add_images(app, inference, {"sure": 0.99, "unsure": 0.51, "middle": 0.75})
    html = manager_client.get("/manager/queue").get_data(as_text=True)
    order = re.findall(r'<tr data-key="([^"]+)"', html)
    assert order == ["unsure", "middle", "sure"]
    token = csrf_from(manager_client, "/manager/queue")
    response = manager_client.post(
        "/manager/images/unsure/label", data={"label": "dog", "csrf_token": token}
    )
    assert response.status_code == 303
    record = storage.catalog.get("unsure")
    assert (record.label, record.labeled_by) == ("dog", MANAGER)
    html = manager_client.get("/manager/queue").get_data(as_text=True)
    assert re.findall(r'<tr data-key="([^"]+)"', html) == ["middle", "sure"]
    # The keyboard script posts with this header and needs no page back.
    response = manager_client.post(
        "/manager/images/middle/label",
        data={"label": "cat", "csrf_token": token},
        headers={"X-Requested-With": "fetch"},
    )
    assert response.status_code == 204


def test_bulk_labeling_from_the_list(manager_client, app, inference, storage: Storage):
    add_images(app, inference, {"k1": 0.6, "k2": 0.7, "k3": 0.8})
    token = csrf_from(manager_client, "/manager/queue")
    response = manager_client.post(
        "/manager/labels", data={"keys": ["k1", "k3"], "label": "cat", "csrf_token": token}
    )
    assert response.status_code == 303
    assert [storage.catalog.get(k).label for k in ("k1", "k2", "k3")] == ["cat", None, "cat"]
    assert "Labeled 2 images as cat." in manager_client.get("/manager/queue").get_data(as_text=True)
    response = manager_client.post("/manager/labels", data={"label": "cat", "csrf_token": token})
    assert response.status_code == 400
    response = manager_client.post(
        "/manager/labels", data={"keys": ["k2"], "label": "horse", "csrf_token": token}
    )
    assert response.status_code == 400


def test_image_page_shows_label_history(manager_client, app, inference, storage: Storage):
    add_images(app, inference, {"hist": 0.6})
    token = csrf_from(manager_client, "/manager/images/hist")
    for label in ("cat", "dog"):
        manager_client.post(
            "/manager/images/hist/label",
            data={"label": label, "csrf_token": token, "next": "/manager/images/hist"},
        )
    html = manager_client.get("/manager/images/hist").get_data(as_text=True)
    history = html.split('id="label-history"')[1]
    assert "\u2013 → cat" in history
    assert "cat → dog" in history
    assert history.count(f"<td>{MANAGER}</td>") == 2
    assert 'id="current-label">dog<' in html


def test_settings_form_saves_and_validates(manager_client, storage: Storage):
    token = csrf_from(manager_client, "/manager/settings")
    response = manager_client.post(
        "/manager/settings",
        data={
            "csrf_token": token,
            "mode": "auto",
            "label_threshold": "5",
            "min_accuracy": "85",
            "max_accuracy_drop": "2.5",
            "min_eval_images": "120",
        },
    )
    assert response.status_code == 303
    saved = storage.settings.get()
    assert (saved.mode.value, saved.label_threshold, saved.min_eval_images) == ("auto", 5, 120)
    assert abs(saved.min_accuracy - 0.85) < 1e-9
    assert abs(saved.max_accuracy_drop - 0.025) < 1e-9
    bad = manager_client.post(
        "/manager/settings",
        data={
            "csrf_token": token,
            "mode": "auto",
            "label_threshold": "0",
            "min_accuracy": "85",
            "max_accuracy_drop": "1",
            "min_eval_images": "120",
        },
    )
    assert bad.status_code == 422
    assert "label_threshold must be at least 1" in bad.get_data(as_text=True)
    assert storage.settings.get().label_threshold == 5


def test_train_now_starts_a_forced_manual_execution_and_shows_the_run(
    manager_client, orchestrator: FakeOrchestrator, storage: Storage
):
    token = csrf_from(manager_client, "/manager/")
    response = manager_client.post("/manager/training-runs", data={"csrf_token": token})
    assert response.status_code == 303
    ((execution_input, name),) = orchestrator.started
    assert execution_input == {"trigger": "manual", "force": True, "retrain_mode": "incremental"}
    assert name.startswith("manual-")
    assert response.headers["Location"] == f"/manager/training-runs/{name}"
    html = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Epoch 1 of 3" in html
    assert f'data-poll="/api/v1/training-runs/{name}"' in html
    dashboard = manager_client.get("/manager/").get_data(as_text=True)
    assert name in dashboard and "Epoch 1 of 3" in dashboard


def test_a_finished_run_shows_chart_confusion_matrix_and_champion_comparison(
    manager_client, storage: Storage
):
    now = utc_now()
    storage.runs.create("run-1", Trigger.MANUAL, now)
    for epoch, (loss, acc) in enumerate([(0.7, 0.5), (0.5, 0.7), (0.3, 0.9)], start=1):
        storage.runs.record_progress(
            "run-1",
            RunProgress(
                epoch, 3, loss=loss, accuracy=acc, val_loss=loss + 0.1, val_accuracy=acc - 0.05
            ),
        )
    metrics = {
        **paired_metrics(0.9, champion_version="v0", champion_accuracy=0.88, n_per_class=50),
        "gate_decision": {
            "accepted": False,
            "rule": "minimum_evidence",
            "reason": "evaluation set has 100 images (50 cat, 50 dog); at least 200 needed",
            "failed_rules": ["minimum_evidence"],
        },
        "training_selection": {"mode": "incremental", "new": 20, "replay": 2000},
        "per_class": {
            "cat": {"precision": 0.9, "recall": 0.92},
            "dog": {"precision": 0.91, "recall": 0.88},
        },
        "confusion_matrix": [[46, 4], [6, 44]],
        "confusion_matrix_labels": ["cat", "dog"],
    }
    storage.runs.transition(
        "run-1",
        RunStatus.EVALUATING,
        now,
        allowed_from=frozenset({RunStatus.PENDING}),
        metrics=metrics,
    )
    html = manager_client.get("/manager/training-runs/run-1").get_data(as_text=True)
    assert html.count("<svg") == 2
    assert 'class="series-training"' in html and 'class="series-validation"' in html
    matrix = html.split('id="confusion"')[1].split("</table>")[0]
    assert re.findall(r"<td[^>]*>(\d+)</td>", matrix) == ["46", "4", "6", "44"]
    gate = html.split('id="run-gate-evidence"')[1].split("</table>")[0]
    assert "Rejected by the gate" in gate and "minimum evidence" in gate
    assert "at least 200 needed" in gate
    assert "100 (50 cat, 50 dog)" in gate
    assert "90.00%" in gate and "88.00%" in gate and "95% CI" in gate
    assert "p = 0.5000" in gate  # the challenger alone right on 2 images, the champion on 0
    assert "Trained on 20 new labels and 2000 replayed older images." in html
    listing = manager_client.get("/manager/training-runs").get_data(as_text=True)
    assert "run-1" in listing and "3 / 3" in listing


def test_unknown_run_is_404_but_a_just_started_one_waits(manager_client):
    assert manager_client.get("/manager/training-runs/nope").status_code == 404
    html = manager_client.get("/manager/training-runs/manual-20260101T000000000000Z-abc").get_data(
        as_text=True
    )
    assert 'id="run-starting"' in html


def test_models_page_promotes_and_rolls_back_with_history(
    manager_client, storage: Storage, inference: FakeInference
):
    register_model(storage, "v1", 0.90, 1)
    register_model(storage, "v2", 0.93, 2)
    storage.registry.promote("v1", None, "bootstrap", "baseline", utc_now())
    html = manager_client.get("/manager/models").get_data(as_text=True)
    assert "93.00%" in html
    token = csrf_from(manager_client, "/manager/models")
    response = manager_client.post(
        "/manager/models/v2/promote",
        data={"csrf_token": token, "expected_champion": "v1", "reason": "better on new photos"},
    )
    assert response.status_code == 303
    assert champion_version(storage.registry) == "v2"
    assert inference.reloaded == ["v2"]
    html = manager_client.get("/manager/models").get_data(as_text=True)
    assert "v2 is now the champion; the inference server serves v2." in html
    assert "Roll back to this" in html
    history = html.split('id="champion-history"')[1]
    assert "better on new photos" in history and MANAGER in history

    # A stale page (expecting v1 still) loses the compare-and-set: 409, nothing changes.
    stale = manager_client.post(
        "/manager/models/v1/promote",
        data={"csrf_token": token, "expected_champion": "v1", "reason": "stale"},
    )
    assert stale.status_code == 409
    assert champion_version(storage.registry) == "v2"

    inference.down = True
    response = manager_client.post(
        "/manager/models/v1/promote",
        data={"csrf_token": token, "expected_champion": "v2", "reason": "roll back"},
    )
    assert champion_version(storage.registry) == "v1"
    html = manager_client.get("/manager/models").get_data(as_text=True)
    assert "will load it when it is back" in html


def test_a_rejected_model_can_be_promoted_only_as_a_recorded_override(
    manager_client, storage: Storage, inference: FakeInference
):
    register_model(storage, "v1", 0.90, 1)
    storage.registry.promote("v1", None, "bootstrap", "baseline", utc_now())
    storage.registry.register(
        ModelVersion(
            version="v2",
            artifact="models/v2/",
            status=ModelStatus.CANDIDATE,
            created_at=datetime(2026, 1, 2, tzinfo=UTC),
            metrics={
                **paired_metrics(0.89, champion_version="v1", champion_accuracy=0.9),
                "gate_decision": {
                    "accepted": False,
                    "rule": "minimum_accuracy",
                    "reason": "accuracy 0.8900 < minimum 0.9500",
                    "failed_rules": ["minimum_accuracy"],
                },
            },
        )
    )
    storage.registry.set_status("v2", ModelStatus.REJECTED)
    html = manager_client.get("/manager/models").get_data(as_text=True)
    row = html.split('data-version="v2"')[1].split('id="champion-history"')[0]
    # The evidence sits next to the button.
    assert "Rejected by the gate" in row and "accuracy 0.8900 &lt; minimum 0.9500" in row
    assert "89.00%" in row and "90.00%" in row and "Override the gate and promote" in row
    token = csrf_from(manager_client, "/manager/models")
    plain = manager_client.post(
        "/manager/models/v2/promote",
        data={"csrf_token": token, "expected_champion": "v1", "reason": "no override"},
    )
    assert plain.status_code == 400
    assert "promote it as an override" in plain.get_data(as_text=True)
    assert champion_version(storage.registry) == "v1"
    response = manager_client.post(
        "/manager/models/v2/promote",
        data={
            "csrf_token": token,
            "expected_champion": "v1",
            "override": "yes",
            "reason": "checked the misses by hand",
        },
    )
    assert response.status_code == 303
    assert champion_version(storage.registry) == "v2"
    change = storage.registry.history()[0]
    assert change.override and change.by == MANAGER
    history = manager_client.get("/manager/models").get_data(as_text=True)
    entry = history.split('id="champion-history"')[1].split("</tr>")[1]
    assert "override of the gate" in entry and "checked the misses by hand" in entry


def test_executions_list_and_timeline(manager_client, orchestrator: FakeOrchestrator):
    arn = orchestrator.start_execution({"trigger": "manual", "force": True}, "manual-x1")
    html = manager_client.get("/manager/executions").get_data(as_text=True)
    assert "manual-x1" in html and "RUNNING" in html
    page = manager_client.get(f"/manager/executions/{arn}").get_data(as_text=True)
    timeline = page.split('id="timeline"')[1]
    assert timeline.index("CheckManagerMode") < timeline.index("CreateTrainingRun")
    assert "RunAlreadyActive" in timeline and "another run holds the lock" in timeline
    assert '"proceed": true' in timeline
    assert manager_client.get("/manager/executions/arn:nope").status_code == 404


def test_pages_without_an_orchestrator_say_so(settings, storage, inference, accounts):
    app = create_app(settings, storage=storage, inference=inference)
    client = app.test_client()
    token = csrf_from(client, "/manager/login")
    client.post(
        "/manager/login",
        data={"username": MANAGER, "password": "correct horse battery staple", "csrf_token": token},
    )
    assert "not configured" in client.get("/manager/executions").get_data(as_text=True)
    token = csrf_from(client, "/manager/")
    assert client.post("/manager/training-runs", data={"csrf_token": token}).status_code == 503


def test_manager_search_opens_the_image_page(manager_client, app, inference):
    add_images(app, inference, {"wanted": 0.8})
    found = manager_client.get("/manager/search?key=wanted")
    assert found.status_code == 302
    assert found.headers["Location"] == "/manager/images/wanted"
    assert manager_client.get("/manager/search?key=unknown").status_code == 404
