"""Ops stories in headless Chromium: cancelling a run (with its confirmation) frees the
lock for the next one; the executions page collapses a day of ticks and pages to the
oldest; the image browser labels with the keyboard and in bulk."""

from __future__ import annotations

from dataclasses import replace

import pytest

from catdog.clock import utc_now
from catdog.domain import RunStatus, Trigger
from catdog.storage.ports import Storage
from tests.contract.test_contract_cancel import StoppableCompute
from tests.factories import noise_image_bytes
from tests.pipeline.execution_fixtures import ticks
from tests.web.test_browser import browser, expect, live_app, log_in, page, shot  # noqa: F401
from web.deps import EXTENSION

pytestmark = pytest.mark.browser


def test_cancel_a_run_then_start_another(page, app, accounts, storage: Storage, orchestrator):  # noqa: F811
    compute = StoppableCompute()
    app.extensions[EXTENSION] = replace(app.extensions[EXTENSION], compute=compute)
    log_in(page)
    page.get_by_role("button", name="Train now").click()
    ((_, first),) = orchestrator.started
    expect(page.locator("#run-status")).to_have_text("pending")
    messages: list[str] = []

    def answer(dialog) -> None:
        messages.append(dialog.message)
        dialog.dismiss() if len(messages) == 1 else dialog.accept()

    page.on("dialog", answer)
    expect(page.locator("#cancel-run input[name=confirm]")).to_be_hidden()  # JS asks instead
    page.get_by_role("button", name="Cancel run").click()  # dismissed: nothing happens
    assert storage.runs.get(first).status.is_active
    page.get_by_role("button", name="Cancel run").click()  # accepted
    expect(page.locator(".flash")).to_contain_text(f"Run {first} cancelled")
    expect(page.locator("#run-status")).to_have_text("cancelled")
    assert messages[0].startswith(f"Stop training run {first}?")
    assert storage.runs.get(first).status is RunStatus.CANCELLED
    assert compute.stopped == [first]
    shot(page, "20-run-cancelled")
    # The lock is free: a second run starts from the dashboard.
    page.goto("/manager/")
    page.get_by_role("button", name="Train now").click()
    assert len(orchestrator.started) == 2
    expect(page.locator("#run-status")).to_have_text("pending")


def test_executions_day_collapses_filters_and_pages(page, accounts, orchestrator):  # noqa: F811
    for detail in ticks():
        orchestrator.add(detail)
    log_in(page)
    page.goto("/manager/executions")
    rows = page.locator("#executions tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("179 skipped checks")
    shot(page, "21-executions-collapsed")
    page.locator("#filter-outcome").select_option("rejected")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("rejected")
    page.goto("/manager/executions?expand=1")
    pages = 1
    while page.locator("#older").count():
        page.locator("#older").click()
        pages += 1
    assert pages == 20  # 480 executions, 25 a page
    expect(rows.last).to_contain_text("skipped_mode-20261120T000000")


def test_image_browser_keyboard_and_bulk_labels(page, app, inference, accounts, storage: Storage):  # noqa: F811
    uploads = app.extensions[EXTENSION].uploads
    for i in range(6):
        inference.label, inference.confidence = ("cat" if i % 2 else "dog"), 0.6 + i * 0.05
        uploads.upload(f"pic-{i}", noise_image_bytes(i))
    log_in(page)
    page.goto("/manager/images?view=unlabeled")
    first = page.locator("#images tbody tr").first
    expect(first).to_have_attribute("data-key", "pic-5")
    page.keyboard.press("d")  # pic-5 was predicted cat: the row stays and shows the disagreement
    expect(first.locator("[data-field=label]")).to_contain_text("dog")
    expect(first.locator("[data-field=label]")).to_contain_text("disagrees")
    assert storage.catalog.get("pic-5").label == "dog"
    page.locator('input[value="pic-1"]').check()
    page.locator('input[value="pic-0"]').check()
    page.get_by_role("button", name="Label selected as cat").click()
    expect(page.locator(".flash")).to_contain_text("Labeled 2 images as cat")
    assert [storage.catalog.get(k).label for k in ("pic-0", "pic-1")] == ["cat", "cat"]
    keys = page.locator("#images tbody tr").evaluate_all("rows => rows.map(r => r.dataset.key)")
    assert keys == ["pic-4", "pic-3", "pic-2"]  # back on the unlabeled view
    page.get_by_label("Key starts with").fill("pic-")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#images tbody tr")).to_have_count(6)
    page.locator("#view-disagreement").click()
    expect(page.locator("#images tbody tr")).to_have_count(2)  # pic-5 and pic-0
    shot(page, "22-image-browser")


def test_a_run_page_opened_before_its_run_exists_swaps_it_in_without_navigating(
    page,  # noqa: F811
    accounts,
    storage: Storage,
) -> None:
    log_in(page)
    page.goto("/manager/training-runs/manual-soon")
    expect(page.locator("#run-starting")).to_be_visible()
    page.evaluate("window.__watching = 'since the run was not there'")
    # The pipeline's CreateTrainingRun, a moment later.
    storage.runs.create("manual-soon", Trigger.MANUAL, utc_now())
    expect(page.locator("#run-status")).to_have_text("pending")
    expect(page.locator(".run-progress[data-poll]")).to_be_visible()
    expect(page.locator("#cancel-run-button")).to_be_visible()
    assert page.evaluate("window.__watching") == "since the run was not there"
    # The swapped-in part is live: the run's progress reaches the page by itself.
    storage.runs.transition(
        "manual-soon", RunStatus.TRAINING, utc_now(), allowed_from=frozenset({RunStatus.PENDING})
    )
    expect(page.locator('[data-field="status"]')).to_have_text("training")
