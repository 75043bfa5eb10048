"""Shared fixtures of the end-to-end suite: a tiny baseline model, systems to start,
a photo server of the test's own, and a web app allowed to import from it."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.api import CAT_TINT, photo
from tests.e2e.system import ROOT, UNREACHABLE, CatdogSystem
from tests.network import free_port
from tests.polling import wait_until

StartSystem = Callable[..., CatdogSystem]
SERVED_PHOTO = photo(500, CAT_TINT)
# Where the photo server's redirects point: /moved stays on it, the others leave it.
REDIRECTS = {
    "/moved": "/cat.jpg",
    "/loop": "/loop",
    "/to-link-local": "http://169.254.169.254/latest/meta-data/",
    "/to-private": "http://10.0.0.1/cat.jpg",
    "/to-file": "file:///etc/passwd",
}


@pytest.fixture(scope="session")
def baseline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny deterministic Keras model (32 px) with metrics and canaries, as the baseline.
    Seed 2 tells the tests' reddish "cats" from their bluish "dogs" (barely: unsure)."""
    from tests.inference_server.model_dirs import write_model_dir

    return write_model_dir(tmp_path_factory.mktemp("e2e-baseline") / "baseline", "baseline", 2)


@pytest.fixture(scope="module")
def start_system(
    tmp_path_factory: pytest.TempPathFactory, baseline_dir: Path
) -> Iterator[StartSystem]:
    """Start ``catdog up`` systems for one module; all are stopped when the module ends."""
    started: list[CatdogSystem] = []

    def start(**env: str) -> CatdogSystem:
        system = CatdogSystem(tmp_path_factory.mktemp("catdog-up"), baseline_dir, env)
        started.append(system)
        return system.start()

    yield start
    codes = {system.root.name: system.stop() for system in started}
    assert set(codes.values()) <= {0}, f"catdog up did not stop cleanly: {codes}"


@pytest.fixture(scope="module")
def photo_server() -> Iterator[str]:
    """A plain HTTP server of the test on 127.0.0.1: /cat.jpg, and the REDIRECTS."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path in REDIRECTS:
                self.send_response(302)
                self.send_header("Location", REDIRECTS[self.path])
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(SERVED_PHOTO)))
            self.end_headers()
            self.wfile.write(SERVED_PHOTO)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def loopback_web(system: CatdogSystem) -> Iterator[str]:
    """A second web process on the module's system data, allowed to import from 127.0.0.1
    (see loopback_web.py: production refuses loopback and no setting relaxes that)."""
    port = free_port()
    script = ROOT / "tests" / "e2e" / "loopback_web.py"
    with (system.root / "loopback-web.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(script), "--port", str(port)],
            cwd=ROOT,
            env=system.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: (
                process.poll() is None and requests.get(f"{url}/api/v1/openapi.json", timeout=2).ok
            ),
            what="the loopback web app",
            timeout=60,
            ignoring=UNREACHABLE,
        )
        yield url
    finally:
        process.terminate()
        process.wait(30)
