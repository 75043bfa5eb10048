"""README screenshots from a real ``catdog up``: ``python tests/e2e/screenshots.py``.

Starts the system with the shipped baseline (``models/baseline``), uploads a
dozen photos (``--photos DIR`` with ``cat/`` and ``dog/``; by default the shared
dataset when present), labels a few, and saves the user app and the manager
dashboard as small PNGs under ``docs/screenshots/``. Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

import requests
from api import bearer, upload  # run as a script: this folder is on sys.path
from browser import open_browser, watched_page
from PIL import Image
from system import MANAGER, PASSWORD, ROOT, CatdogSystem

DOCS = ROOT / "docs" / "screenshots"
# The shared photos beside the project (``../shared``); --photos picks another folder.
DATASET = ROOT.parent / "shared" / "datasets" / "cats-dogs" / "train"
VIEWPORT = {"width": 1100, "height": 760}


def save_small(png: bytes, path: Path) -> None:
    """Quantized to 256 colours: a fraction of the size, still sharp text."""
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(256)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KiB")


def pick_photos(folder: Path, per_class: int) -> list[tuple[str, bytes]]:
    chosen = []
    for label in ("cat", "dog"):
        files = sorted((folder / label).glob("*.jpg"))
        step = max(1, len(files) // per_class)
        chosen += [(path.stem, path.read_bytes()) for path in files[::step][:per_class]]
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(prog="tests/e2e/screenshots.py")
    parser.add_argument("--photos", type=Path, default=DATASET)
    parser.add_argument("--baseline", type=Path, default=ROOT / "models" / "baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="catdog-shots-") as tmp:
        system = CatdogSystem(Path(tmp), args.baseline, {"CATDOG_SCHEDULE_SECONDS": "3600"})
        system.start()
        try:
            system.add_manager()
            session = requests.Session()
            photos = pick_photos(args.photos, 6)
            for key, data in photos:
                assert upload(session, system.web, key, data).status_code == 201
            session.headers.update(bearer(session, system.web, MANAGER, PASSWORD))
            for key, _ in photos[:3] + photos[6:9]:
                label = "cat" if key.startswith("cat") else "dog"
                session.put(f"{system.web}/api/v1/images/{key}/label", json={"label": label})
            shoot(system, photos[-1][0])
        finally:
            system.stop()
    return 0


def shoot(system: CatdogSystem, result_key: str) -> None:
    for browser in open_browser():
        problems: list[str] = []
        page = watched_page(browser, system.web, problems)
        page.set_viewport_size(VIEWPORT)
        page.goto(f"/images/{result_key}")
        save_small(page.screenshot(), DOCS / "user-result.png")
        page.goto("/gallery/cat")
        save_small(page.screenshot(), DOCS / "user-gallery.png")
        page.goto("/manager/login")
        page.get_by_label("User name").fill(MANAGER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Dashboard").wait_for()
        save_small(page.screenshot(), DOCS / "manager-dashboard.png")
        page.goto("/manager/queue")
        save_small(page.screenshot(), DOCS / "manager-queue.png")
        assert problems == [], problems


if __name__ == "__main__":
    sys.exit(main())
