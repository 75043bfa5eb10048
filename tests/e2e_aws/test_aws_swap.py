"""Two inference instances behind a load balancer, swapped by the pipeline under load.

The emulated AWS of test_aws_journey (the stack on moto, the committed ASL, the handlers
in this process) with two real ``python -m inference_server`` processes on loopback
ports and a round-robin proxy in front of them, standing in for the internal ALB (the
web app's CATDOG_INFERENCE_URL). SignalInferenceServer signals each instance (the
configured instance URLs: moto's group instances have addresses nothing listens on; the
group adapter is tested on moto in tests/core/test_fleet_aws.py). Clients predict
through the proxy without pause while a forced run trains, is promoted and swapped in.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from catdog.bootstrap import default_baseline_dir, ensure_champion
from catdog.inference_client import InferenceClient
from catdog.pipeline.factory import build_orchestrator
from catdog.settings import Settings
from catdog.storage.factory import build_storage
from tests.e2e_aws.round_robin import RoundRobinProxy
from tests.e2e_aws.test_aws_journey import (
    PoolKeys,
    emulated_stack,
    get_json,
    journey_settings,
    manager_token,
    running_inference_server,
    tinted_noise,
    upload_and_label,
)
from tests.network import free_port
from tests.polling import wait_until
from web.app import create_app

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")
CLIENTS = 4


@dataclass
class PredictionLoad:
    """``CLIENTS`` threads predicting through the load balancer until stopped."""

    client: InferenceClient
    image: bytes
    stop: threading.Event = field(default_factory=threading.Event)
    versions: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(CLIENTS)]

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                version = self.client.predict(self.image, "image/png").model_version
            except Exception as exc:  # every kind of failure counts
                with self._lock:
                    self.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            with self._lock:
                self.versions.append(version)

    @contextlib.contextmanager
    def running(self) -> Iterator[PredictionLoad]:
        for thread in self._threads:
            thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            for thread in self._threads:
                thread.join(timeout=60)


@pytest.fixture
def two_instances(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    base = journey_settings(tmp_path, monkeypatch)
    ports = (free_port(), free_port())
    return base.with_changes(
        inference_instance_urls=",".join(f"http://127.0.0.1:{p}" for p in ports),
        inference_port=ports[0],
    )


@pytest.mark.slow
@pytest.mark.e2e
def test_two_instances_swap_to_the_new_champion_with_zero_failed_requests(
    two_instances: Settings, tmp_path: Path
) -> None:
    settings = two_instances
    urls = settings.inference_urls
    assert len(urls) == 2
    with contextlib.ExitStack() as stack:
        pipeline = stack.enter_context(emulated_stack(settings, tmp_path))
        # As `catdog deploy` does: the shipped baseline is the first champion.
        baseline = ensure_champion(build_storage(settings), default_baseline_dir(settings))
        assert baseline is not None
        for url in urls:
            port = int(url.rsplit(":", 1)[1])
            stack.enter_context(
                running_inference_server(settings.with_changes(inference_port=port))
            )
            wait_until(
                functools.partial(get_json, f"{url}/v1/model"),
                what=f"a model on {url}",
                timeout=180,
                ignoring=(OSError,),
            )
        balancer = RoundRobinProxy(urls)
        balancer_url = stack.enter_context(balancer)
        # The web app calls the load balancer, as on AWS.
        web_settings = settings.with_changes(inference_url=balancer_url)
        app = create_app(
            web_settings, orchestrator=build_orchestrator(web_settings), cognito_keys=PoolKeys()
        )
        client = app.test_client()
        bearer = {"Authorization": f"Bearer {manager_token()}"}
        upload_and_label(client, bearer)
        changed = client.put(
            "/api/v1/settings",
            json={"min_accuracy": 0.0, "min_eval_images": 1, "max_accuracy_drop": 1.0},
            headers=bearer,
        )
        assert changed.status_code == 200, changed.get_json()

        load = PredictionLoad(
            InferenceClient(balancer_url, settings.inference_admin_token, timeout=60),
            tinted_noise(7, (150, 40, 40)),
        )
        with load.running():
            started = client.post(
                "/api/v1/training-runs", json={"retrain_mode": "full"}, headers=bearer
            )
            assert started.status_code == 202, started.get_json()
            run_id = started.get_json()["run_id"]
            detail = pipeline.orchestrator.wait(
                started.get_json()["execution_id"], timeout=900, poll=0.5
            )
            # Keep the load on a little after the swap, through both instances.
            sent = len(load.versions)
            wait_until(
                lambda: len(load.versions) >= sent + 20,
                what="requests after the swap",
                timeout=60,
                ignoring=(OSError,),
            )

        assert detail.summary.status == "SUCCEEDED", detail.cause
        assert detail.output["outcome"] == "promoted", detail.output
        assert load.failures == []
        assert {baseline.version, run_id} <= set(load.versions)
        assert load.versions[-8:] == [run_id] * 8
        assert min(balancer.sent.values()) > 0  # both instances took requests
        for url in urls:
            assert get_json(f"{url}/v1/model")["version"] == run_id
        # Per instance, in the pipeline's output and on the run.
        recorded = {r["instance"]: r["served_version"] for r in detail.output["instances"]}
        assert recorded == {url: run_id for url in urls}
        run = build_storage(settings).runs.get(run_id)
        assert {r["instance"]: r["served_version"] for r in run.serving} == recorded
        print(
            f"swap under load: {len(load.versions)} predictions, {len(load.failures)} failed,"
            f" {sum(v == run_id for v in load.versions)} by {run_id}; per backend {balancer.sent}"
        )
