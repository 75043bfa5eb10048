"""Load and faults on the real system (``catdog up``), bounded in count and time.

1,000 uploads from 16 clients; then ``kill -9`` of the web app during uploads,
of the inference server during predictions, and of a training process mid-run.
After each, the supervisor has restarted what was killed and: every listed
image's bytes match its record, every acknowledged upload is there with the
same bytes, a killed run is marked failed, and the champion is unchanged.

(Predictions during hot swaps are proven on the real inference server in
``tests/inference_server/test_inference_server_process.py``.)
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from tests.e2e.api import CAT_TINT, DOG_TINT, bearer, get_json, list_all, photo
from tests.e2e.conftest import StartSystem
from tests.e2e.load import UploadLoad, catalog_integrity, lost_uploads
from tests.e2e.system import MANAGER, PASSWORD, UNREACHABLE, CatdogSystem, kill_group, pid_alive
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UPLOADS = 1000
CLIENTS = 16


@pytest.fixture(scope="module")
def system(start_system: StartSystem) -> CatdogSystem:
    system = start_system()
    system.add_manager()
    return system


@pytest.fixture(scope="module")
def manager(system: CatdogSystem) -> requests.Session:
    session = requests.Session()
    session.headers.update(bearer(session, system.web, MANAGER, PASSWORD))
    return session


def champion_of(system: CatdogSystem, manager: requests.Session) -> tuple[str, str]:
    """(the registry's champion, the version the inference server serves)."""
    registry = get_json(manager, f"{system.web}/api/v1/models")["champion"]
    served = get_json(manager, f"{system.inference}/v1/model")["version"]
    return registry, served


def assert_intact(system: CatdogSystem, load: UploadLoad) -> dict[str, dict[str, Any]]:
    listed, problems = catalog_integrity(system.web)
    assert problems == []
    assert lost_uploads(load.acknowledged(), listed) == []
    return listed


def kill_after(load: UploadLoad, acknowledged: int, pid: int) -> None:
    wait_until(
        lambda: len(load.acknowledged()) >= acknowledged,
        what="uploads before the kill",
        timeout=120,
        ignoring=UNREACHABLE,
    )
    assert kill_group(pid)


def test_1000_uploads_from_16_clients(system: CatdogSystem) -> None:
    load = UploadLoad(system.web, "load", CLIENTS, UPLOADS).start()
    outcomes = load.join(timeout=400)

    assert len(outcomes) == UPLOADS
    server_errors = [(o.key, o.status) for o in outcomes if o.status is None or o.status >= 500]
    assert server_errors == []
    assert [o.key for o in outcomes if o.status != 201] == []
    assert all(o.body and o.body["status"] == "classified" for o in outcomes)
    listed = assert_intact(system, load)
    assert len(listed) == UPLOADS


def test_kill_9_of_the_web_app_during_uploads(system: CatdogSystem) -> None:
    before = system.children()["web"]
    load = UploadLoad(system.web, "webkill", 8, 1000, seed_base=10_000).start()
    try:
        kill_after(load, 30, before)
        wait_until(
            lambda: system.children().get("web", before) != before,
            what="a new web app",
            timeout=60,
            ignoring=UNREACHABLE,
        )
        restarted = len(load.acknowledged())
        wait_until(
            lambda: len(load.acknowledged()) >= restarted + 30,
            what="uploads after",
            timeout=120,
            ignoring=UNREACHABLE,
        )
    finally:
        load.stop.set()
        load.join()

    assert not pid_alive(before)
    failed = [o for o in load.outcomes if o.status != 201]
    assert all(o.status is None or o.status < 500 for o in failed), failed[:5]
    assert failed, "the kill interrupted no upload: the test proved nothing"
    assert_intact(system, load)


def test_kill_9_of_the_inference_server_during_predictions(
    system: CatdogSystem, manager: requests.Session
) -> None:
    champion = champion_of(system, manager)
    before = system.children()["inference-server"]
    answers: list[dict[str, Any]] = []
    refusals: list[str] = []
    stop = threading.Event()

    def predict() -> None:
        session = requests.Session()
        for number in range(2000):  # bounded; the test stops the clients long before
            if stop.is_set():
                return
            try:
                response = session.post(
                    f"{system.inference}/v1/predict",
                    data=photo(20_000 + number),
                    headers={"Content-Type": "image/jpeg"},
                    timeout=60,
                )
            except requests.RequestException as exc:
                refusals.append(type(exc).__name__)
                session = requests.Session()
                time.sleep(0.25)
                continue
            if response.status_code == 200:
                answers.append(response.json())
            else:
                refusals.append(str(response.status_code))
                time.sleep(0.25)

    clients = [threading.Thread(target=predict) for _ in range(4)]
    load = UploadLoad(system.web, "infkill", 4, 300, seed_base=30_000)
    for thread in clients:
        thread.start()
    load.start()
    try:
        wait_until(
            lambda: len(answers) >= 20,
            what="predictions before the kill",
            timeout=60,
            ignoring=UNREACHABLE,
        )
        kill_after(load, 10, before)
        wait_until(
            lambda: system.children().get("inference-server", before) != before,
            what="a new inference server",
            timeout=60,
            ignoring=UNREACHABLE,
        )
        wait_until(
            lambda: requests.get(f"{system.inference}/readyz", timeout=2).ok,
            what="ready",
            timeout=120,
            ignoring=UNREACHABLE,
        )
        load.stop.set()
        served = len(answers)
        wait_until(
            lambda: len(answers) >= served + 20,
            what="predictions after the restart",
            timeout=60,
            ignoring=UNREACHABLE,
        )
    finally:
        stop.set()
        load.stop.set()
        for thread in clients:
            thread.join(120)
        load.join()

    assert refusals, "the kill interrupted no prediction: the test proved nothing"
    assert {a["model_version"] for a in answers} == {champion[1]}
    assert all(a["label"] in ("cat", "dog") for a in answers)
    assert all(o.status == 201 for o in load.outcomes), "uploads must not fail with inference"
    assert champion_of(system, manager) == champion
    # Uploads stored while the server was down are classified once it is back.
    keys = {o.key for o in load.outcomes}

    def all_classified() -> bool:
        listed = list_all(manager, system.web)
        return all(item["status"] == "classified" for item in listed if item["key"] in keys)

    wait_until(
        all_classified,
        what="pending uploads to be classified",
        timeout=120,
        interval=1.0,
        ignoring=UNREACHABLE,
    )
    assert_intact(system, load)


def write_labeled_folder(root: Path, per_class: int) -> Path:
    for label, tint in (("cat", CAT_TINT), ("dog", DOG_TINT)):
        folder = root / label
        folder.mkdir(parents=True)
        for i in range(per_class):
            (folder / f"{label}-{i}.jpg").write_bytes(photo(50_000 + i, tint, size=48))
    Image.new("RGB", (8, 8)).save(root / "unlabeled.png")
    return root


def test_kill_9_of_a_training_process_mid_run(
    system: CatdogSystem, manager: requests.Session, tmp_path: Path
) -> None:
    system.cli("images", "import", str(write_labeled_folder(tmp_path / "photos", 150)))
    champion = champion_of(system, manager)
    started = manager.post(f"{system.web}/api/v1/training-runs")
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]

    def training() -> int | None:
        response = manager.get(f"{system.web}/api/v1/training-runs/{run_id}", timeout=30)
        if response.status_code == 404:  # the execution has not created the run yet
            return None
        run = response.json()
        assert run["status"] in ("pending", "training"), run
        return system.training_pid(run_id) if run["status"] == "training" else None

    pid = wait_until(
        training, what="the run to be training", timeout=120, interval=0.05, ignoring=UNREACHABLE
    )
    assert kill_group(pid)

    def finished() -> dict[str, Any] | None:
        run = get_json(manager, f"{system.web}/api/v1/training-runs/{run_id}")
        return None if run["status"] in ("pending", "training") else run

    run = wait_until(
        finished, what="the run to end", timeout=120, interval=0.5, ignoring=UNREACHABLE
    )
    assert run["status"] == "failed"
    assert "without an artifact" in run["error"]
    execution = wait_until(
        lambda: (
            (e := get_json(manager, f"{system.web}/api/v1/executions/{run_id}"))["status"]
            != "RUNNING"
            and e
        ),
        what="the execution to end",
        timeout=60,
        ignoring=UNREACHABLE,
    )
    assert execution["status"] == "FAILED"
    steps = [step["name"] for step in execution["timeline"]]
    assert "MarkRunFailed" in steps and "PromoteModel" not in steps
    assert champion_of(system, manager) == champion
    models = get_json(manager, f"{system.web}/api/v1/models")
    assert all(m["version"] != run_id or m["status"] != "champion" for m in models["items"])
    assert get_json(manager, f"{system.web}/api/v1/training-runs")["active"] is None
