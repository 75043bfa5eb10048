"""The real pages in headless Chromium (Debian's package, driven by Playwright).

The app runs in this process on a loopback port (a threaded WSGI server for the
test only), with the same test doubles as the other web tests, so each story
can arrange storage directly and check what the browser did to it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from catdog.clock import utc_now
from catdog.domain import ModelStatus, ModelVersion, RunProgress
from catdog.storage.ports import Storage
from tests.factories import image_bytes, noise_image_bytes
from tests.web.conftest import MANAGER, PASSWORD
from tests.web.fakes import FakeInference

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture
def live_app(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_app):
    context = browser.new_context(base_url=live_app, viewport={"width": 1200, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []

    def on_console(message) -> None:
        # A 404 *page* is expected in some stories; failed subresources are caught below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)  # script errors, CSP violations

    def on_response(response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    context.close()
    assert problems == [], f"browser errors: {problems}"


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page) -> None:
    page.goto("/manager/")
    expect(page).to_have_url(re.compile(r"/manager/login"))
    page.get_by_label("User name").fill(MANAGER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def seed(app, inference: FakeInference, plan: dict[str, tuple[str, float]]) -> None:
    uploads = app.extensions["catdog"].uploads
    for index, (key, (label, confidence)) in enumerate(plan.items()):
        inference.label, inference.confidence = label, confidence
        uploads.upload(key, noise_image_bytes(index, size=(96, 96)))


def test_upload_a_photo_and_see_the_result(page, tmp_path, inference):
    photo = tmp_path / "whiskers.png"
    photo.write_bytes(image_bytes("PNG", (320, 240), color=(180, 120, 60)))
    page.goto("/")
    shot(page, "01-upload")
    page.get_by_label("Key").fill("whiskers")
    page.get_by_label("Image file").set_input_files(str(photo))
    page.get_by_role("button", name="Classify").click()
    expect(page).to_have_url(re.compile(r"/images/whiskers$"))
    expect(page.locator("#verdict")).to_contain_text("It is a cat")
    expect(page.locator("#model-version")).to_have_text("v-test-1")
    assert page.locator("figure img").evaluate("img => img.naturalWidth") == 320
    shot(page, "02-result")

    inference.confidence = 0.52
    page.goto("/")
    page.get_by_label("Key").fill("blurry")
    page.get_by_label("Image file").set_input_files(str(photo))
    page.get_by_role("button", name="Classify").click()
    expect(page.locator("#verdict")).to_contain_text("The model is unsure")
    shot(page, "03-result-unsure")
    page.set_viewport_size({"width": 390, "height": 844})
    # Narrow screens: nothing overflows sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "15-result-phone")


def test_browse_a_class_and_list_all_images(page, app, inference):
    seed(app, inference, {f"cat-{i}": ("cat", 0.9) for i in range(5)})
    seed(app, inference, {f"dog-{i}": ("dog", 0.8) for i in range(3)})
    page.goto("/")
    page.get_by_role("link", name="Dogs", exact=True).first.click()
    expect(page.locator("ul.gallery li")).to_have_count(3)
    thumbnails = page.locator("ul.gallery img")
    assert all(w > 0 for w in thumbnails.evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))
    shot(page, "04-gallery-dogs")
    page.locator("nav.tabs").get_by_role("link", name="Cats").click()
    expect(page.locator("ul.gallery li")).to_have_count(5)
    page.get_by_role("link", name="All images").click()
    expect(page.locator("table.images tbody tr")).to_have_count(8)
    page.get_by_label("Predicted").select_option("dog")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.images tbody tr")).to_have_count(3)
    shot(page, "05-all-images")


def test_search_by_key(page, app, inference):
    seed(app, inference, {"needle": ("dog", 0.97), "hay": ("cat", 0.9)})
    page.goto("/search")
    page.get_by_label("Key").fill("needle")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/images/needle$"))
    expect(page.locator("#label")).to_have_text("dog")
    page.goto("/search")
    page.get_by_label("Key").fill("missing")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("No image has the key")
    shot(page, "06-search-missing")


def test_manager_logs_in_and_sees_the_dashboard(page, accounts, storage: Storage):
    log_in(page)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("#mode")).to_have_text("manual")
    shot(page, "07-dashboard")


def test_label_from_the_queue_with_the_keyboard(page, app, accounts, inference, storage):
    seed(
        app,
        inference,
        {"q-first": ("cat", 0.51), "q-second": ("dog", 0.6), "q-third": ("cat", 0.7)},
    )
    log_in(page)
    page.goto("/manager/queue")
    rows = page.locator("tbody tr[data-key]")
    expect(rows).to_have_count(3)
    expect(page.locator("tr.current")).to_have_attribute("data-key", "q-first")
    shot(page, "08-queue")
    page.keyboard.press("c")
    expect(rows).to_have_count(2)
    expect(page.locator("tr.current")).to_have_attribute("data-key", "q-second")
    page.keyboard.press("s")
    expect(page.locator("tr.current")).to_have_attribute("data-key", "q-third")
    page.keyboard.press("d")
    expect(rows).to_have_count(1)
    assert storage.catalog.get("q-first").label == "cat"
    assert storage.catalog.get("q-second").label is None
    assert storage.catalog.get("q-third").label == "dog"
    assert storage.catalog.get("q-third").labeled_by == MANAGER

    page.goto("/manager/images/q-third")
    expect(page.locator("#label-history")).to_contain_text("dog")
    shot(page, "09-image-history")


def test_trigger_training_and_watch_the_run_progress(
    page, accounts, storage: Storage, orchestrator
):
    log_in(page)
    page.get_by_role("button", name="Train now").click()
    expect(page.locator(".run-progress [data-field=epoch]")).to_contain_text("Epoch 1 of 3")
    ((_, run_id),) = orchestrator.started
    storage.runs.record_progress(
        run_id, RunProgress(2, 3, loss=0.5, accuracy=0.7, val_loss=0.55, val_accuracy=0.68)
    )
    # The page polls the API and redraws with the new epoch, no reload by hand.
    expect(page.locator(".run-progress [data-field=epoch]")).to_contain_text("Epoch 2 of 3")
    expect(page.locator("#charts svg")).to_have_count(2)
    shot(page, "10-run-progress")
    page.goto("/manager/")
    expect(page.locator(".run-progress")).to_contain_text(run_id)
    shot(page, "11-dashboard-active-run")


def test_other_manager_pages_render(page, accounts, storage: Storage, orchestrator):
    now = utc_now()
    for version, accuracy in (("baseline-1", 0.91), ("manual-2", 0.93)):
        storage.registry.register(
            ModelVersion(
                version,
                f"models/{version}/",
                ModelStatus.CANDIDATE,
                now,
                {"accuracy": accuracy, "n": 400},
                data_cutoff=now,
            )
        )
    storage.registry.promote("baseline-1", None, "bootstrap", "baseline model", now)
    orchestrator.start_execution({"trigger": "manual", "force": True}, "manual-exec-1")
    log_in(page)
    page.goto("/manager/settings")
    page.get_by_label("Automatic: train when enough new labels exist").check()
    page.get_by_label("Label threshold").fill("5")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash")).to_contain_text("Settings saved")
    assert storage.settings.get().label_threshold == 5
    shot(page, "12-settings")
    page.goto("/manager/models")
    page.locator('tr[data-version="manual-2"] input[name=reason]').fill("more accurate")
    page.locator('tr[data-version="manual-2"]').get_by_role("button", name="Promote").click()
    expect(page.locator(".flash")).to_contain_text("manual-2 is now the champion")
    shot(page, "13-models")
    page.goto("/manager/executions")
    page.get_by_role("link", name="manual-exec-1").click()
    expect(page.locator("#timeline")).to_contain_text("CreateTrainingRun")
    shot(page, "14-execution")
