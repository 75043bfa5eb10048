"""The real gunicorn server on 127.0.0.1: client contract, load during swaps, reconciliation."""

from __future__ import annotations

import functools
import http.client
import itertools
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from catdog.errors import (
    CanaryMismatch,
    ImageTooLarge,
    InvalidImage,
    ModelLoadFailed,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from catdog.inference_client import InferenceClient, PredictionResult
from catdog.settings import Settings
from catdog.storage.ports import Storage
from tests.inference_server.conftest import ADMIN_TOKEN, make_settings, promote
from tests.inference_server.model_dirs import image_bytes
from tests.inference_server.server_process import ServerProcess
from tests.network import free_port
from tests.polling import wait_until
from tests.storage_support import champion_version

pytestmark = pytest.mark.slow

REQUESTS = 500
THREADS = 16
SWAPS = 5


@pytest.fixture(scope="module")
def registry_server(
    tmp_path_factory: pytest.TempPathFactory, published_data_dir: Path
) -> Iterator[tuple[ServerProcess, Storage]]:
    """A server following a local registry (v1 champion; v2, v3 and bad ones published)."""
    from catdog.storage.local import build_local_storage

    root = tmp_path_factory.mktemp("registry-server")
    settings = make_settings(root / "data", reconcile_seconds=0.5, inference_threads=32)
    shutil.copytree(published_data_dir, settings.data_dir)
    storage = build_local_storage(settings)
    server = ServerProcess(settings, root / "server.log").start()
    yield server, storage
    assert server.stop() == 0, server.log()


@pytest.fixture
def admin(registry_server: tuple[ServerProcess, Storage]) -> InferenceClient:
    return InferenceClient(registry_server[0].url, ADMIN_TOKEN)


def _serve(storage: Storage, client: InferenceClient, version: str) -> None:
    if champion_version(storage.registry) != version:
        promote(storage.registry, version)
    client.reload(version)


def test_client_predicts_raw_and_multipart(admin: InferenceClient) -> None:
    data = image_bytes(11)
    raw = admin.predict(data, "image/jpeg")
    multipart = admin.predict_multipart(data, "cat.jpg")
    assert isinstance(raw, PredictionResult)
    assert raw == multipart
    assert raw.label in ("cat", "dog")
    assert raw.probabilities["cat"] + raw.probabilities["dog"] == pytest.approx(1.0)
    assert raw.model_version == admin.model_info()["version"]


def test_client_maps_server_errors_to_domain_errors(
    registry_server: tuple[ServerProcess, Storage], admin: InferenceClient
) -> None:
    with pytest.raises(InvalidImage):
        admin.predict(b"not an image", "image/jpeg")
    with pytest.raises(UnsupportedMediaType):
        admin.predict(image_bytes(1), "text/plain")
    with pytest.raises(ImageTooLarge):
        admin.predict(b"\0" * (make_settings(Path()).max_upload_bytes + 1), "image/jpeg")
    with pytest.raises(Unauthorized):
        InferenceClient(registry_server[0].url, "wrong").reload("v2")
    with pytest.raises(NotFound):
        admin.reload("no-such-version")
    with pytest.raises(CanaryMismatch):
        admin.reload("bad-canary")
    with pytest.raises(ModelLoadFailed):
        admin.reload("corrupt")
    assert admin.is_ready()


def test_a_body_without_length_is_cut_off_at_the_limit(
    registry_server: tuple[ServerProcess, Storage],
) -> None:
    limit = make_settings(Path()).max_upload_bytes
    connection = http.client.HTTPConnection("127.0.0.1", registry_server[0].port, timeout=30)
    try:
        chunks = (b"\xff" * 65536 for _ in range(limit // 65536 + 2))
        connection.request(
            "POST",
            "/v1/predict",
            body=chunks,
            headers={"Content-Type": "image/jpeg"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 413
        assert b"image_too_large" in response.read()
    finally:
        connection.close()


def test_client_reports_an_unreachable_server() -> None:
    client = InferenceClient(f"http://127.0.0.1:{free_port()}", timeout=2.0)
    assert not client.is_ready()
    with pytest.raises(ServiceUnavailable):
        client.predict(image_bytes(1), "image/jpeg")
    with pytest.raises(ServiceUnavailable):
        client.model_info()


def test_reconciliation_swaps_after_a_promote_without_any_signal(
    registry_server: tuple[ServerProcess, Storage], admin: InferenceClient
) -> None:
    server, storage = registry_server
    _serve(storage, admin, "v1")
    promote(storage.registry, "v2")  # nobody tells the server
    wait_until(
        lambda: admin.model_info()["version"] == "v2",
        what="the server to reconcile to the champion v2",
        timeout=60,
    )
    assert "event=reconcile_swap served=v1 champion=v2" in server.log()


def test_load_during_swaps_has_no_failures_and_only_champion_versions(
    registry_server: tuple[ServerProcess, Storage], admin: InferenceClient
) -> None:
    """500+ requests from 16 threads while 5 swaps happen (two of them to a 48 px model)."""
    server, storage = registry_server
    _serve(storage, admin, "v1")
    images = [image_bytes(seed) for seed in range(20)]
    outcomes: list[tuple[float, float, str | BaseException]] = []
    timeline: list[tuple[str, float, float]] = [("v1", float("-inf"), float("-inf"))]
    completed = threading.Condition()
    counter = itertools.count()
    swaps_done = threading.Event()

    def send() -> None:
        client = InferenceClient(server.url, timeout=30)
        while True:
            index = next(counter)
            if index >= REQUESTS and swaps_done.is_set():
                return
            started = time.monotonic()
            try:
                outcome: str | BaseException = client.predict(
                    images[index % len(images)], "image/jpeg"
                ).model_version
            except Exception as exc:
                outcome = exc
            with completed:
                outcomes.append((started, time.monotonic(), outcome))
                completed.notify_all()

    def at_least(count: int) -> bool:
        return len(outcomes) >= count

    def swap() -> None:
        for number, version in enumerate(["v2", "v3", "v1", "v3", "v2"][:SWAPS], start=1):
            with completed:
                completed.wait_for(functools.partial(at_least, number * 60), timeout=120)
            started = time.monotonic()
            promote(storage.registry, version)
            admin.reload(version)
            timeline.append((version, started, time.monotonic()))
        swaps_done.set()

    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    swapper = threading.Thread(target=swap)
    for thread in [*threads, swapper]:
        thread.start()
    for thread in [swapper, *threads]:
        thread.join(300)

    failures = [outcome for _, _, outcome in outcomes if isinstance(outcome, BaseException)]
    assert failures == []
    assert len(timeline) == SWAPS + 1
    assert len(outcomes) >= REQUESTS
    # A version is champion from the start of its promotion to the end of the next reload.
    windows = [
        (version, start, timeline[i + 1][2] if i + 1 < len(timeline) else float("inf"))
        for i, (version, start, _) in enumerate(timeline)
    ]
    for started, finished, version in outcomes:
        assert any(
            v == version and start <= finished and started <= end for v, start, end in windows
        ), (version, started, finished, windows)
    assert {version for _, _, version in outcomes} == {"v1", "v2", "v3"}


def test_a_model_directory_is_served_as_is_and_sigterm_stops_cleanly(
    tmp_path: Path, model_dirs: dict[str, Path]
) -> None:
    settings: Settings = make_settings(tmp_path / "data")
    server = ServerProcess(
        settings, tmp_path / "server.log", ["--model", str(model_dirs["v3"])]
    ).start()
    try:
        client = InferenceClient(server.url, ADMIN_TOKEN)
        assert client.model_info()["version"] == "v3"
        assert client.predict(image_bytes(1), "image/png").model_version == "v3"
        assert client.reload()["swapped"] is False
        with pytest.raises(NotFound):
            client.reload("v1")  # no registry behind a model directory
    finally:
        status = server.stop()
    assert status == 0
    assert "event=stopped" in server.log()
    assert not (tmp_path / "data" / "catdog.sqlite3").exists()
