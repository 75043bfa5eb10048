"""The whole journey over the real system: ``catdog up`` with its real child processes.

A user uploads photos (file and URL), sees them classified, browses each class,
searches by key and lists everything; a manager made with ``catdog manager
add-user`` labels from the uncertainty queue, switches to auto mode, watches the
scheduled run train and get rejected by the promotion gate for too little evidence
(the served model unchanged, the reason in numbers), adds labels to the frozen
evaluation set, trains on demand and gets a run promoted, sees the inference server
serve it, inspects the execution, rolls back, and sees the old version served again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.api import (
    CAT_TINT,
    DOG_TINT,
    bearer,
    error_of,
    get_json,
    import_url,
    list_all,
    log_in_pages,
    photo,
    queue_keys,
    sha256,
    upload,
)
from tests.e2e.conftest import SERVED_PHOTO, StartSystem
from tests.e2e.system import MANAGER, PASSWORD, UNREACHABLE, CatdogSystem
from tests.polling import wait_until
from training_job.data import Side, SplitFractions

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CATS = [f"cat-{i}" for i in range(8)]
DOGS = [f"dog-{i}" for i in range(8)]


@pytest.fixture(scope="module")
def system(start_system: StartSystem) -> CatdogSystem:
    system = start_system()
    system.add_manager()
    return system


def test_a_user_uploads_sees_classes_searches_and_lists(system: CatdogSystem) -> None:
    web, session = system.web, requests.Session()
    sent = {}
    for index, key in enumerate(CATS + DOGS):
        data = photo(index, CAT_TINT if key.startswith("cat") else DOG_TINT)
        response = upload(session, web, key, data)
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["Location"].endswith(f"/api/v1/images/{key}")
        assert body["status"] == "classified"
        assert body["prediction"]["label"] in ("cat", "dog")
        assert body["prediction"]["model_version"] == "baseline"
        assert body["sha256"] == sha256(data)
        sent[key] = data

    everything = list_all(session, web)
    assert [item["key"] for item in everything] == list(reversed(CATS + DOGS))  # newest first
    by_class = {label: list_all(session, web, predicted=label) for label in ("cat", "dog")}
    assert by_class["cat"] and by_class["dog"], "the baseline should see both classes"
    for label, items in by_class.items():
        assert all(item["prediction"]["label"] == label for item in items)
    assert sorted(i["key"] for items in by_class.values() for i in items) == sorted(sent)
    for label in ("cat", "dog"):
        gallery = session.get(f"{web}/gallery/{label}", timeout=30)
        assert gallery.status_code == 200
        assert all(f"/images/{i['key']}" in gallery.text for i in by_class[label][:24])

    found = get_json(session, f"{web}/api/v1/images/dog-3")
    assert found["sha256"] == sha256(sent["dog-3"])
    assert session.get(f"{web}/api/v1/images/dog-3/content", timeout=30).content == sent["dog-3"]
    page = session.get(f"{web}/search", params={"key": "dog-3"}, timeout=30)
    assert page.status_code == 200 and page.url.endswith("/images/dog-3")
    missing = session.get(f"{web}/api/v1/images/no-such-photo", timeout=30)
    assert missing.status_code == 404
    assert error_of(missing)[0] == "not_found"


def test_url_import_refuses_loopback_in_production_and_works_when_allowed(
    system: CatdogSystem, photo_server: str, loopback_web: str
) -> None:
    session = requests.Session()
    refused = import_url(session, system.web, "from-url", f"{photo_server}/cat.jpg")
    assert refused.status_code == 400
    assert error_of(refused)[0] == "url_refused"

    for key, path in (("from-url", "/cat.jpg"), ("from-redirect", "/moved")):
        response = import_url(session, loopback_web, key, f"{photo_server}{path}")
        assert response.status_code == 201, response.text
        assert response.json()["prediction"]["model_version"] == "baseline"
        # The catdog up web app shows what the other process stored, byte for byte.
        stored = session.get(f"{system.web}/api/v1/images/{key}/content", timeout=30)
        assert stored.content == SERVED_PHOTO


def test_a_manager_labels_retrains_promotes_and_rolls_back(system: CatdogSystem) -> None:
    web, api = system.web, requests.Session()
    api.headers.update(bearer(api, web, MANAGER, PASSWORD))
    pages = log_in_pages(web, MANAGER, PASSWORD)

    # The uncertainty queue: unlabeled images, least certain prediction first.
    first = queue_keys(pages, web)
    assert first, "the queue is empty"
    margins = [
        abs(get_json(api, f"{web}/api/v1/images/{key}")["prediction"]["confidence"] - 0.5)
        for key in first
    ]
    assert margins == sorted(margins)
    labeled = 0
    for _ in range(10):
        keys = queue_keys(pages, web)
        if not keys:
            break
        for key in keys:
            label = "cat" if key.startswith(("cat", "from")) else "dog"
            response = api.put(f"{web}/api/v1/images/{key}/label", json={"label": label})
            assert response.status_code == 200 and response.json()["label"] == label
            labeled += 1
    assert labeled >= len(CATS) + len(DOGS)
    assert "queue-empty" in pages.get(f"{web}/manager/queue", timeout=30).text

    settings: dict[str, Any] = {
        "mode": "auto",
        "label_threshold": 4,
        "min_accuracy": 0.0,
        "max_accuracy_drop": 1.0,
        "min_eval_images": 200,
    }
    response = api.put(f"{web}/api/v1/settings", json=settings)
    assert response.status_code == 200 and response.json() == settings

    # The scheduler (every 3 s) starts a run; the real training job trains it, and the
    # gate rejects it: a handful of labels is no evidence. The baseline stays served.
    def judged_run() -> dict[str, Any] | None:
        runs = get_json(api, f"{web}/api/v1/training-runs")["items"]
        failed = [r for r in runs if r["status"] == "failed"]
        assert not failed, f"{failed}\n{system.log()[-3000:]}"
        return next((r for r in runs if r["status"] in ("rejected", "promoted")), None)

    rejected = wait_until(
        judged_run, what="a judged run", timeout=300, interval=1.0, ignoring=UNREACHABLE
    )
    assert rejected["status"] == "rejected" and rejected["trigger"] == "schedule"
    assert re.match(
        r"evaluation set has \d+ images \(\d+ cat, \d+ dog\); at least 200", rejected["error"]
    )
    assert get_json(api, f"{system.inference}/v1/model")["version"] == "baseline"
    run_page = pages.get(f"{web}/manager/training-runs/{rejected['run_id']}", timeout=30).text
    assert "Rejected by the gate" in run_page and "at least 200 needed" in run_page
    manual = api.put(
        f"{web}/api/v1/settings", json={**settings, "mode": "manual", "min_eval_images": 4}
    )
    assert manual.status_code == 200

    # Labels that the split puts on the frozen evaluation side, then "Train now".
    for index, (seed, tint, label) in enumerate(evaluation_side_photos(per_class=2)):
        key = f"evaluation-{index}"
        assert upload(api, web, key, photo(seed, tint)).status_code == 201
        assert api.put(f"{web}/api/v1/images/{key}/label", json={"label": label}).ok
    started = api.post(f"{web}/api/v1/training-runs", json={})
    if started.status_code == 409:
        # A scheduled check that read the mode just before it became manual saw the
        # new labels and started its own run: that run is the one to follow.
        run_id = get_json(api, f"{web}/api/v1/training-runs")["active"]["run_id"]
    else:
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]

    def promoted_run() -> dict[str, Any] | None:
        reply = api.get(f"{web}/api/v1/training-runs/{run_id}", timeout=30)
        if reply.status_code == 404:  # the pipeline has not created the run yet
            return None
        run = reply.json()
        assert run["status"] not in ("failed", "rejected"), f"{run}\n{system.log()[-3000:]}"
        return run if run["status"] == "promoted" else None

    run = wait_until(
        promoted_run, what="a promoted run", timeout=300, interval=1.0, ignoring=UNREACHABLE
    )
    version = run["run_id"]
    assert run["retrain_mode"] == "incremental"
    assert run["progress"]["epoch"] == run["progress"]["epochs"]
    evidence = run["metrics"]["gate_evidence"]
    assert evidence["n"] >= 4 and evidence["champion_version"] == "baseline"
    assert run["metrics"]["gate_decision"]["accepted"] is True
    assert get_json(api, f"{web}/api/v1/models")["champion"] == version
    wait_until(
        lambda: get_json(api, f"{system.inference}/v1/model")["version"] == version,
        what=f"the inference server to serve {version}",
        timeout=60,
        ignoring=UNREACHABLE,
    )
    after = upload(api, web, "after-retraining", photo(900, DOG_TINT))
    assert after.status_code == 201
    assert after.json()["prediction"]["model_version"] == version

    # The execution behind the run, from the command line and the API.
    listing = system.cli("executions", "--limit", "200")
    assert version in listing
    detail_text = system.cli("executions", version)
    for state in ("CheckLabelThreshold", "ValidateModel", "PromoteModel"):
        assert state in detail_text
    execution = get_json(api, f"{web}/api/v1/executions/{version}")
    assert execution["status"] == "SUCCEEDED"
    steps = [step["name"] for step in execution["timeline"]]
    assert "PromoteModel" in steps and "SignalInferenceServer" in steps
    executions_page = pages.get(f"{web}/manager/executions", timeout=30)
    assert executions_page.status_code == 200 and version in executions_page.text

    # Roll back: the baseline is champion and served again.
    response = api.post(
        f"{web}/api/v1/models/baseline/promote",
        json={"expected_champion": version, "reason": "e2e rollback"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["served"] is True
    assert get_json(api, f"{system.inference}/v1/model")["version"] == "baseline"
    models = get_json(api, f"{web}/api/v1/models")
    assert models["champion"] == "baseline"
    assert models["history"][0]["to_version"] == "baseline"
    assert models["history"][0]["from_version"] == version
    back = upload(api, web, "after-rollback", photo(901, CAT_TINT))
    assert back.json()["prediction"]["model_version"] == "baseline"


def evaluation_side_photos(per_class: int) -> list[tuple[int, tuple[int, int, int], str]]:
    """Photo seeds whose bytes the sha256 split puts on the evaluation side."""
    fractions = SplitFractions()
    chosen: list[tuple[int, tuple[int, int, int], str]] = []
    for tint, label in ((CAT_TINT, "cat"), (DOG_TINT, "dog")):
        seeds = (
            s
            for s in range(5000, 10_000)
            if fractions.side(sha256(photo(s, tint))) is Side.EVALUATION
        )
        chosen += [(next(seeds), tint, label) for _ in range(per_class)]
    return chosen


def test_predictions_at_concurrency_32_during_5_hot_swaps(system: CatdogSystem) -> None:
    """Managers promote back and forth (web app -> registry -> reload) under load."""
    api = requests.Session()
    api.headers.update(bearer(api, system.web, MANAGER, PASSWORD))
    runs = get_json(api, f"{system.web}/api/v1/training-runs")["items"]
    trained = next(run["run_id"] for run in runs if run["status"] == "promoted")
    outcomes: list[str | BaseException] = []
    stop = threading.Event()

    def predict(seed: int) -> None:
        session = requests.Session()
        for number in range(2000):  # bounded; stopped once the swaps are done
            if stop.is_set():
                return
            try:
                response = session.post(
                    f"{system.inference}/v1/predict",
                    data=photo(seed * 1000 + number % 20),
                    headers={"Content-Type": "image/jpeg"},
                    timeout=60,
                )
                response.raise_for_status()
                outcomes.append(str(response.json()["model_version"]))
            except Exception as exc:
                outcomes.append(exc)

    clients = [threading.Thread(target=predict, args=(i,)) for i in range(32)]
    for thread in clients:
        thread.start()
    try:
        champion = get_json(api, f"{system.web}/api/v1/models")["champion"]
        for number in range(5):
            enough = (number + 1) * 80
            wait_until(
                lambda: len(outcomes) >= enough,  # noqa: B023
                what="predictions",
                timeout=120,
                ignoring=UNREACHABLE,
            )
            target = trained if champion == "baseline" else "baseline"
            response = api.post(
                f"{system.web}/api/v1/models/{target}/promote",
                json={"expected_champion": champion, "reason": f"hot swap {number + 1}"},
            )
            assert response.status_code == 200 and response.json()["served"] is True
            champion = target
        wait_until(
            lambda: len(outcomes) >= 500, what="500 predictions", timeout=120, ignoring=UNREACHABLE
        )
    finally:
        stop.set()
        for thread in clients:
            thread.join(120)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert failures == []
    assert set(outcomes) == {"baseline", trained}
    assert get_json(api, f"{system.inference}/v1/model")["version"] == champion


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from tests.e2e.browser import open_browser

    yield from open_browser()


@pytest.mark.browser
def test_the_real_pages_in_chromium(system: CatdogSystem, browser: Any, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    from tests.e2e.browser import shot, watched_page

    problems: list[str] = []
    page = watched_page(browser, system.web, problems)
    champion = get_json(requests.Session(), f"{system.inference}/v1/model")["version"]
    for key, tint in (("browser-cat", CAT_TINT), ("browser-dog", DOG_TINT)):
        path = tmp_path / f"{key}.jpg"
        path.write_bytes(photo(700 + len(key), tint, size=160))
        page.goto("/")
        page.get_by_label("Key").fill(key)
        page.get_by_label("Image file").set_input_files(str(path))
        page.get_by_role("button", name="Classify").click()
        expect(page).to_have_url(re.compile(rf"/images/{key}$"))
        expect(page.locator("#verdict")).to_contain_text(re.compile(r"\b(cat|dog)\b"))
        expect(page.locator("#model-version")).to_have_text(champion)
    shot(page, "e2e-user-result")
    page.goto("/images")
    expect(page.locator("body")).to_contain_text("browser-dog")
    shot(page, "e2e-user-images")

    page.goto("/manager/")
    expect(page).to_have_url(re.compile(r"/manager/login"))
    page.get_by_label("User name").fill(MANAGER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    shot(page, "e2e-manager-dashboard")

    page.goto("/manager/queue")
    rows = page.locator("tbody tr[data-key]")
    expect(rows.first).to_be_visible()
    before = rows.count()  # the two uploads above, and any the other stories left unlabeled
    assert before >= 2
    first = str(page.locator("tr.current").get_attribute("data-key"))
    page.keyboard.press("c")
    expect(rows).to_have_count(before - 1)
    api = requests.Session()
    assert get_json(api, f"{system.web}/api/v1/images/{first}")["label"] == "cat"

    page.goto("/manager/executions")
    expect(page.locator("body")).to_contain_text("SUCCEEDED")
    api.headers.update(bearer(api, system.web, MANAGER, PASSWORD))
    runs = get_json(api, f"{system.web}/api/v1/training-runs")["items"]
    for run in runs[:1]:  # the run of the manager's story, when it ran before this test
        page.goto(f"/manager/executions/{run['run_id']}")
        expect(page.locator("#timeline")).to_contain_text("CreateTrainingRun")
        shot(page, "e2e-manager-execution")
    page.goto("/manager/models")
    expect(page.locator("body")).to_contain_text("baseline")
    shot(page, "e2e-manager-models")
    page.context.close()
    assert problems == [], f"browser errors: {problems}"
