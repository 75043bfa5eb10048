"""The AWS code paths on the user's journey, with no AWS account.

``catdog deploy`` deploys cloudformation/catdog.yaml to one moto server on
127.0.0.1, and the settings come from the stack's outputs. The web app, the
pipeline's Lambda handlers and the inference server then run with
``CATDOG_BACKEND=aws`` against that server (S3 and DynamoDB from the stack, Step
Functions running the committed ASL, Lambda): images are uploaded and labeled
through the JSON API with a Cognito-style token, a manager starts training, the
real training job (AWS backend, as on the Train instance) writes its artifact,
the model is validated and promoted, and the inference server serves it.
Replaced: the Train EC2 instance (its job runs as a child process) and the
Lambda runtime (moto hands each invocation to the handler in this process).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jwt
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image

from catdog.auth.cognito import SigningKeys
from catdog.bootstrap import default_baseline_dir, ensure_champion
from catdog.inference_client import InferenceClient
from catdog.pending import PendingDeps, RetryPolicy
from catdog.pipeline.compute import LocalProcessCompute
from catdog.pipeline.factory import build_orchestrator
from catdog.settings import AwsResources, Settings
from catdog.storage.factory import build_pending_queue, build_storage
from hosts.deploy.clients import DeployClients
from hosts.deploy.deployer import execute_deploy, plan_deploy
from hosts.deploy.outputs import settings_from_outputs
from hosts.deploy.package import build_package
from hosts.deploy.smoke import SmokeClients, SmokeOptions, SmokeTest
from hosts.embedded import lambda_seam as seam
from hosts.embedded.step_functions import LocalPipeline
from lambdas import handlers
from tests.deploy.support import REGION, ROOT, FixedInstaller, fake_credentials, patch_moto
from tests.e2e_aws.smoke_support import FlaskApiHttp, create_stack_alarms
from tests.e2e_aws.sqs_poller import SqsEventSourcePoller
from tests.network import free_port
from tests.polling import wait_until
from web.app import create_app

# moto warns about each resource type it skips (listed in tests/deploy/test_deploy_moto.py).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")
STACK = "e2e"
ACCOUNT = "123456789012"  # moto's
POOL = "us-east-1_E2ePool"
CLIENT = "e2e-client"
SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
# The names the app reads from the stack's outputs.
STACK_NAMES = (
    "images_bucket",
    "models_bucket",
    "static_bucket",
    "images_table",
    "settings_table",
    "runs_table",
    "models_table",
)


class PoolKeys(SigningKeys):
    """The user pool's JWKS as the web app sees it: the key made above."""

    def key_for(self, token: str) -> Any:
        return SIGNING_KEY.public_key()


def manager_token() -> str:
    now = int(time.time())
    claims = {
        "sub": "e2e-manager",
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}",
        "token_use": "access",
        "client_id": CLIENT,
        "username": "erin",
        "iat": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, SIGNING_KEY, algorithm="RS256", headers={"kid": "e2e"})


def tinted_noise(seed: int, tint: tuple[int, int, int]) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.integers(0, 96, size=(40, 40, 3)) + np.array(tint), 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(out, format="PNG")
    return out.getvalue()


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
        return body


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return journey_settings(tmp_path, monkeypatch)


def journey_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings the stack's outputs will give (checked once it is deployed)."""
    fake_credentials(monkeypatch)
    patch_moto(monkeypatch)
    port = free_port()
    monkeypatch.setenv("MOTO_PORT", str(port))  # LocalPipeline sets it; restored afterwards
    return Settings(
        backend="aws",
        data_dir=tmp_path / "data",
        stepfunctions_port=port,
        inference_port=free_port(),
        inference_admin_token="e2e-admin-token",
        secret_key="e2e-session-key",
        wait_seconds=1,
        default_epochs=1,
        training_input_size=32,
        training_batch_size=8,
        aws=AwsResources(
            region=REGION,
            endpoint_url=f"http://127.0.0.1:{port}",
            images_bucket=f"{STACK}-images-{ACCOUNT}-{REGION}",
            models_bucket=f"{STACK}-models-{ACCOUNT}-{REGION}",
            static_bucket=f"{STACK}-static-{ACCOUNT}-{REGION}",
            images_table=f"{STACK}-images",
            settings_table=f"{STACK}-settings",
            runs_table=f"{STACK}-training-runs",
            models_table=f"{STACK}-models",
            cognito_user_pool_id=POOL,
            cognito_client_id=CLIENT,
            cognito_domain="catdog-e2e",
        ),
    )


def deploy_stack(settings: Settings, package_dir: Path) -> dict[str, str]:
    """``catdog deploy`` of the real template to the moto server; returns the outputs."""
    endpoint = {"region_name": REGION, "endpoint_url": settings.aws.endpoint_url}
    clients = DeployClients(
        cloudformation=boto3.client("cloudformation", **endpoint),
        s3=boto3.client("s3", **endpoint),
        sts=boto3.client("sts", **endpoint),
        region=REGION,
    )
    package = build_package(ROOT, package_dir, FixedInstaller())
    plan = plan_deploy(clients, package, STACK)
    return execute_deploy(clients, plan, lambda _: None, poll_seconds=1)


@pytest.fixture
def emulated_aws(settings: Settings, tmp_path: Path) -> Iterator[LocalPipeline]:
    """moto on loopback: the deployed stack, plus the state machine running the committed
    ASL with its Lambda invocations handed to the handlers in this process."""
    with emulated_stack(settings, tmp_path) as pipeline:
        yield pipeline


@contextlib.contextmanager
def emulated_stack(settings: Settings, tmp_path: Path) -> Iterator[LocalPipeline]:
    """What ``emulated_aws`` gives, for settings a test changes first."""
    storage = build_storage(settings)
    # Step Functions on AWS keeps finished executions: the interpreter must not move
    # them into a local archive that the deployed web app never reads.
    pipeline = LocalPipeline(
        settings,
        storage,
        compute=LocalProcessCompute(settings),
        schedule=False,
        forget_finished=False,
    )
    pipeline.start()
    try:
        outputs = deploy_stack(settings, tmp_path / "package")
        deployed = settings_from_outputs(outputs).aws
        for name in STACK_NAMES:
            assert getattr(deployed, name) == getattr(settings.aws, name), name
        yield pipeline
    finally:
        # moto's backends live in this process beyond its server: forget this stack's
        # tables, queues and executions, so the next emulated stack starts empty.
        reset = urllib.request.Request(
            f"{settings.aws.endpoint_url}/moto-api/reset", b"", method="POST"
        )
        with contextlib.suppress(OSError), urllib.request.urlopen(reset, timeout=30):
            pass
        pipeline.stop()


@contextlib.contextmanager
def running_inference_server(settings: Settings) -> Iterator[str]:
    """``python -m inference_server`` with the AWS backend, as on the Run instance."""
    env = {**os.environ, **settings.to_env()}
    log = (settings.data_dir / "inference.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "inference_server"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    url = settings.inference_base_url
    try:
        wait_until(
            lambda: get_json(f"{url}/healthz"),
            what="the inference server",
            timeout=120,
            ignoring=(OSError,),
        )
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def inference_server(settings: Settings, emulated_aws: LocalPipeline) -> Iterator[str]:
    with running_inference_server(settings) as url:
        yield url


def upload_and_label(client: Any, bearer: dict[str, str]) -> None:
    """12 warm-tinted cats and 12 blue-tinted dogs, uploaded and labeled through the API."""
    for i in range(12):
        for label, tint, seed in (("cat", (150, 40, 40), i), ("dog", (40, 40, 150), 100 + i)):
            key = f"{label}-{i}"
            data = {"key": key, "file": (io.BytesIO(tinted_noise(seed, tint)), f"{key}.png")}
            answer = client.post("/api/v1/images", data=data)
            assert answer.status_code == 201, answer.get_json()
            labeled = client.put(
                f"/api/v1/images/{key}/label", json={"label": label}, headers=bearer
            )
            assert labeled.status_code == 200, labeled.get_json()


@pytest.mark.slow
@pytest.mark.e2e
def test_upload_label_train_promote_and_serve_on_emulated_aws(
    settings: Settings, emulated_aws: LocalPipeline, inference_server: str
) -> None:
    # As web.server.build_app does on Lambda, with the test's Cognito signing key.
    app = create_app(settings, orchestrator=build_orchestrator(settings), cognito_keys=PoolKeys())
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {manager_token()}"}

    upload_and_label(client, bearer)
    assert client.get("/api/v1/images/cat-0").get_json()["key"] == "cat-0"

    # The hash split puts one of these 24 photos on the frozen evaluation side: a
    # deliberately low evidence minimum lets this journey reach promotion.
    changed = client.put(
        "/api/v1/settings",
        json={"label_threshold": 10, "min_accuracy": 0.0, "min_eval_images": 1},
        headers=bearer,
    )
    assert changed.status_code == 200, changed.get_json()
    started = client.post("/api/v1/training-runs", headers=bearer)
    assert started.status_code == 202, started.get_json()
    run_id = started.get_json()["run_id"]
    execution_arn = started.get_json()["execution_id"]

    detail = emulated_aws.orchestrator.wait(execution_arn, timeout=600, poll=0.5)
    training_log = emulated_aws.settings.log_dir
    assert detail.summary.status == "SUCCEEDED", (detail.cause, sorted(training_log.rglob("*")))
    assert detail.output["outcome"] == "promoted"
    assert "SignalInferenceServer" in detail.state_names
    # Finished, it stays in Step Functions for the deployed web app to show (a sweep of
    # the interpreter moved it into a local archive the app never reads, and it answered 404).
    assert emulated_aws.archive_finished() == 0
    shown = client.get(f"/api/v1/executions/{execution_arn}", headers=bearer)
    assert shown.status_code == 200, shown.get_json()
    assert shown.get_json()["outcome"] == "promoted"

    assert get_json(f"{inference_server}/v1/model")["version"] == run_id
    models = client.get("/api/v1/models", headers=bearer).get_json()
    assert json.dumps(models).count(run_id) >= 1
    run = client.get(f"/api/v1/training-runs/{run_id}", headers=bearer).get_json()
    assert run["status"] == "promoted"

    image = {"key": "new-cat", "file": (io.BytesIO(tinted_noise(999, (150, 40, 40))), "n.png")}
    uploaded = client.post("/api/v1/images", data=image).get_json()
    assert uploaded["prediction"]["model_version"] == run_id
    assert uploaded["prediction"]["label"] in ("cat", "dog")

    # After `catdog deploy`, the user runs `catdog smoke --stack e2e`: every step passes,
    # and an alarm in ALARM makes it fail.
    endpoint = {"region_name": REGION, "endpoint_url": settings.aws.endpoint_url}
    create_stack_alarms(boto3.client("cloudwatch", **endpoint), STACK)
    assert smoke(settings, client).run(), "catdog smoke failed"
    boto3.client("cloudwatch", **endpoint).set_alarm_state(
        AlarmName=f"{STACK}-inference-5xx", StateValue="ALARM", StateReason="test"
    )
    failing = smoke(settings, client)
    assert not failing.run()
    assert failing.results[-1].line() == f"FAIL  alarms: in ALARM: {STACK}-inference-5xx"


def smoke(settings: Settings, client: Any) -> SmokeTest:
    """``catdog smoke --stack e2e`` with the emulated stack's clients and a manager token."""
    endpoint = {"region_name": REGION, "endpoint_url": settings.aws.endpoint_url}
    clients = SmokeClients(
        boto3.client("cloudformation", **endpoint),
        boto3.client("cloudwatch", **endpoint),
        FlaskApiHttp(client),
    )
    return SmokeTest(STACK, clients, SmokeOptions(manager_token(), 60, 600, 0.5))


def stack_settings(settings: Settings) -> Settings:
    """``settings`` with what only the deployed stack knows (queue URL, instance id)."""
    cfn = boto3.client("cloudformation", region_name=REGION, endpoint_url=settings.aws.endpoint_url)
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    }
    deployed = settings_from_outputs(outputs).aws
    assert deployed.pending_queue_url, outputs
    aws = dataclasses.replace(
        settings.aws,
        pending_queue_url=deployed.pending_queue_url,
        train_instance_id=deployed.train_instance_id,
    )
    # A 1-second backoff base keeps the journey short; production waits 30 s, doubling.
    return settings.with_changes(
        aws=aws,
        pending_retry_base_seconds=1,
        pending_retry_max_seconds=1,
    )


def consumer_route(settings: Settings, calls: list[dict[str, Any]]) -> Any:
    """What the ClassifyPending function runs, with its production dependencies
    (each event it is invoked with is appended to ``calls``)."""
    deps = PendingDeps(
        storage=build_storage(settings),
        predictor=InferenceClient(settings.inference_base_url),
        queue=build_pending_queue(settings),
        retry=RetryPolicy(settings.pending_retry_base_seconds, settings.pending_retry_max_seconds),
    )

    def route(event: dict[str, Any]) -> dict[str, Any]:
        calls.append(event)
        return handlers.classify_pending(event, None, deps)

    return route


@pytest.mark.slow
@pytest.mark.e2e
def test_an_upload_during_an_inference_outage_is_classified_when_the_server_is_back(
    settings: Settings, emulated_aws: LocalPipeline
) -> None:
    settings = stack_settings(settings)
    # As `catdog deploy` does after the stack: the shipped baseline is the first champion.
    ensure_champion(build_storage(settings), default_baseline_dir(settings))
    function = f"{STACK}-classify-pending"
    calls: list[dict[str, Any]] = []
    seam.register(function, consumer_route(settings, calls))
    endpoint = {"region_name": REGION, "endpoint_url": settings.aws.endpoint_url}
    assert settings.aws.pending_queue_url
    poller = SqsEventSourcePoller(
        boto3.client("sqs", **endpoint),
        boto3.client("lambda", **endpoint),
        settings.aws.pending_queue_url,
        function,
    )
    app = create_app(settings, orchestrator=build_orchestrator(settings), cognito_keys=PoolKeys())
    client = app.test_client()

    def upload(key: str, seed: int) -> dict[str, Any]:
        data = {"key": key, "file": (io.BytesIO(tinted_noise(seed, (150, 40, 40))), "x.png")}
        answer = client.post("/api/v1/images", data=data)
        assert answer.status_code == 201, answer.get_json()
        body: dict[str, Any] = answer.get_json()
        return body

    try:
        with running_inference_server(settings) as url:
            model = wait_until(
                lambda: get_json(f"{url}/v1/model"),
                what="a loaded model",
                timeout=120,
                ignoring=(OSError,),
            )
            champion = model["version"]
            assert upload("before-outage", 1)["status"] == "classified"
            assert poller.in_queue() == 0  # a classified upload announces nothing

        # The server is stopped: the upload is stored, shown pending and announced.
        assert upload("during-outage", 2)["status"] == "pending"
        # The event source mapping invoked the consumer on send (moto does, once); the
        # tier is down, so it failed and the message stayed. A poll fails the same way.
        assert [json.loads(r["body"])["key"] for c in calls for r in c["Records"]] == [
            "during-outage"
        ]
        wait_until(
            lambda: poller.poll_once() is False,
            what="a failed delivery",
            timeout=30,
            ignoring=(OSError,),
        )
        assert len(calls) == 2 and poller.in_queue() == 1
        assert client.get("/api/v1/images/during-outage").get_json()["status"] == "pending"

        with running_inference_server(settings) as url:
            wait_until(
                lambda: get_json(f"{url}/v1/model"),
                what="a loaded model",
                timeout=120,
                ignoring=(OSError,),
            )
            assert poller.poll_once() is True
            image = client.get("/api/v1/images/during-outage").get_json()
            assert image["status"] == "classified"
            assert image["prediction"]["model_version"] == champion
            assert poller.in_queue() == 0
    finally:
        seam.unregister(function)
