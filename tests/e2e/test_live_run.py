"""Watching a run live in headless Chromium, on the real system (``catdog up`` with the
real training job on tiny images and a tiny model).

A manager clicks "Train now" and stays on the run page: the phase before training is
named, the batches done move within an epoch, the curves appear after the first epoch
and the gate's decision, evidence and confusion matrix appear at the end, all without
the page navigating (a marker set on ``window`` survives). A second run is cancelled
from its page (the confirmation accepted), which frees the lock: a third "Train now" is
accepted.

Within-epoch progress is observed without timed assertions: the test pauses the
training process (SIGSTOP) at a batch it read from the API, waits for the page to show
exactly that batch, lets it go on (SIGCONT) and does the same at a later batch of the
same epoch. Batches of one image and a progress report per batch make an epoch long
enough in batches; nothing in the product waits for the test.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.api import CAT_TINT, DOG_TINT, bearer, get_json, photo, upload
from tests.e2e.conftest import StartSystem
from tests.e2e.system import MANAGER, PASSWORD, UNREACHABLE, CatdogSystem
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.browser]

PER_CLASS = 30
NAMED_PHASES = re.compile(r"Starting the training instance|Loading data|Decoding images")
MARKER = "watching since Train now"


@pytest.fixture(scope="module")
def system(start_system: StartSystem) -> CatdogSystem:
    system = start_system(
        CATDOG_TRAINING_BATCH_SIZE="1",
        CATDOG_INCREMENTAL_STEPS="120",  # about three epochs of ~45 one-image batches
        CATDOG_PROGRESS_INTERVAL_SECONDS="0",  # a progress write after every batch
    )
    system.add_manager()
    api = requests.Session()
    api.headers.update(bearer(api, system.web, MANAGER, PASSWORD))
    for index in range(2 * PER_CLASS):
        label = "cat" if index % 2 else "dog"
        key = f"live-{label}-{index}"
        data = photo(3000 + index, CAT_TINT if label == "cat" else DOG_TINT)
        assert upload(api, system.web, key, data).status_code == 201
        labeled = api.put(f"{system.web}/api/v1/images/{key}/label", json={"label": label})
        assert labeled.status_code == 200, labeled.text
    return system


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from tests.e2e.browser import open_browser

    yield from open_browser()


class Trainer:
    """The run's training process, paused and resumed by the test."""

    def __init__(self, system: CatdogSystem, run_id: str) -> None:
        pid = wait_until(
            lambda: system.training_pid(run_id),
            what="the training job",
            timeout=60,
            ignoring=UNREACHABLE,
        )
        assert pid is not None
        self.pid = pid
        self.paused = False

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.paused:
            os.kill(self.pid, signal.SIGCONT)
            self.paused = False


def progress_of(api: requests.Session, web: str, run_id: str) -> dict[str, Any]:
    run = get_json(api, f"{web}/api/v1/training-runs/{run_id}")
    return dict(run["progress"] or {})


def within_epoch(progress: dict[str, Any]) -> tuple[int, int] | None:
    """(epoch, batch) of a report within an epoch, else None."""
    if progress.get("batch") is None:
        return None
    return int(progress["epoch"]), int(progress["batch"])


def log_in(page: Any) -> None:
    page.goto("/manager/login")
    page.get_by_label("User name").fill(MANAGER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def train_now(page: Any) -> str:
    """Click Train now on the dashboard; the run page once the run exists; its id.

    The marker goes on ``window`` as soon as the run page opens, possibly before the
    pipeline created the run: the page then swaps the run in without navigating."""
    page.goto("/manager/")
    page.locator("#train-now").click()
    page.wait_for_url(re.compile(r"/manager/training-runs/[^/]+$"))
    page.evaluate(f"window.__watching = {MARKER!r}")
    page.locator("#run-status").wait_for()  # the run exists (the page shows it)
    return str(page.url.rsplit("/", 1)[-1])


def see_batch_on_the_page(
    page: Any, trainer: Trainer, api: requests.Session, web: str, run_id: str
) -> tuple[int, int]:
    """Pause the trainer within an epoch; the page must show the batch it stopped at."""
    from playwright.sync_api import expect

    wait_until(
        lambda: within_epoch(progress_of(api, web, run_id)),
        what="a batch report",
        timeout=60,
        interval=0.02,
        ignoring=UNREACHABLE,
    )
    trainer.pause()
    where = within_epoch(progress_of(api, web, run_id))
    assert where is not None, "paused outside an epoch"
    batches = progress_of(api, web, run_id)["batches"]
    expect(page.locator('[data-field="batch"]')).to_contain_text(
        f"Batch {where[1]} of {batches}", timeout=15_000
    )
    return where


def test_a_manager_watches_a_run_live_and_cancels_another(
    system: CatdogSystem, browser: Any
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.browser import shot, watched_page

    web = system.web
    api = requests.Session()
    api.headers.update(bearer(api, web, MANAGER, PASSWORD))
    problems: list[str] = []
    page = watched_page(browser, web, problems)
    log_in(page)

    run_id = train_now(page)
    trainer = Trainer(system, run_id)
    # The dashboard, open beside the run page, watches the same run.
    dashboard = page.context.new_page()
    dashboard.on("pageerror", lambda error: problems.append(str(error)))
    dashboard.goto("/manager/")
    watched = dashboard.locator(".run-progress")
    expect(watched).to_have_attribute("data-run-page", re.compile(run_id))
    expect(dashboard.locator("#train-now")).to_be_hidden()
    dashboard.evaluate(f"window.__watching = {MARKER!r}")
    try:
        # Before the first epoch: a named phase (the job is still starting: paused there).
        trainer.pause()
        phase = progress_of(api, web, run_id).get("phase_title") or ""
        assert NAMED_PHASES.search(phase), phase
        expect(page.locator('[data-field="phase"]')).to_contain_text(phase, timeout=15_000)
        trainer.resume()

        # Within one epoch the batches done move: two pauses in the same epoch.
        moved = None
        for _ in range(8):
            first = see_batch_on_the_page(page, trainer, api, web, run_id)
            trainer.resume()
            wait_until(
                lambda: within_epoch(progress_of(api, web, run_id)) != first,  # noqa: B023
                what="the next batch",
                timeout=60,
                interval=0.01,
                ignoring=UNREACHABLE,
            )
            second = see_batch_on_the_page(page, trainer, api, web, run_id)
            trainer.resume()
            if second[0] == first[0] and second[1] > first[1]:
                moved = (first, second)
                break
        assert moved is not None, "never saw two batches of one epoch"
        shot(page, "e2e-live-run-batches")
    finally:
        trainer.resume()

    # The curves appear after the first epoch, drawn by the page's script.
    expect(page.locator("#charts svg.chart-live")).to_have_count(2, timeout=120_000)
    expect(page.locator("#charts svg.chart-live polyline").first).to_be_visible()
    # The decision, the gate's evidence and the confusion matrix appear in place.
    decision = page.locator("#run-decision")
    expect(decision).to_be_visible(timeout=180_000)
    finished = get_json(api, f"{web}/api/v1/training-runs/{run_id}")
    assert finished["status"] in ("promoted", "rejected")
    expect(decision).to_have_attribute("data-status", finished["status"])
    expect(page.locator("#run-status")).to_have_text(finished["status"])
    expect(page.locator("#run-gate-evidence")).to_be_visible()
    expect(page.locator("#confusion")).to_be_visible()
    expect(page.locator("#cancel-run")).to_have_count(0)
    epochs = len(finished["history"])
    expect(page.locator('[data-field="epoch"]')).to_contain_text(f"Epoch {epochs} of {epochs}")
    # Values on hover: the first training-loss point's value under the axis.
    first_loss = finished["history"][0]["loss"]
    page.locator("#charts svg.chart-live circle").first.hover()
    expect(page.locator("#charts .chart-readout").first).to_have_text(
        f"training loss, epoch 1: {first_loss:.4f}"
    )
    assert page.evaluate("window.__watching") == MARKER, "the page navigated"
    shot(page, "e2e-live-run-decision")
    # The dashboard followed it too: the final status, a link to the decision, and
    # "Train now" offered again, without a reload.
    expect(dashboard.locator('[data-field="status"]')).to_have_text(finished["status"])
    expect(dashboard.locator("a.run-ended")).to_be_visible()
    expect(dashboard.locator("#train-now")).to_be_visible()
    assert dashboard.evaluate("window.__watching") == MARKER, "the dashboard navigated"
    dashboard.close()
    if finished["status"] == "rejected":  # too few evaluation images, as a rule here
        page.goto("/manager/")
        expect(page.locator(f'[data-alert="{run_id}.rejected"]')).to_be_visible()

    # A second run, cancelled from its page after the confirmation, frees the lock.
    cancelled = train_now(page)
    assert cancelled != run_id
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#cancel-run-button").click()
    expect(page.locator("#run-status")).to_have_text("cancelled", timeout=30_000)
    assert get_json(api, f"{web}/api/v1/training-runs/{cancelled}")["status"] == "cancelled"
    third = api.post(f"{web}/api/v1/training-runs", json={})
    assert third.status_code == 202, third.text
    third_id = third.json()["run_id"]
    wait_until(
        lambda: api.post(f"{web}/api/v1/training-runs/{third_id}/cancel").status_code == 200,
        what="the third run to be cancellable",
        timeout=60,
        ignoring=UNREACHABLE,
    )
    page.context.close()
    assert problems == [], f"browser errors: {problems}"
