"""The other direction of least privilege: the AWS calls a unit's code makes, recorded
on moto while it does its work, are all granted to that unit's role, on the resources
it touches. Three paths, each once: a web upload while the inference server is down, a
manager cancelling a run from the web app, and ClassifyPending working through a batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catdog.alerts import Alert, AlertKind, announce
from catdog.champion import serve_champion_change
from catdog.classification import Predictor
from catdog.composition import build_ingest
from catdog.domain import ModelStatus, ModelVersion, Trigger
from catdog.fleet.aws import AutoScalingFleet
from catdog.notifiers import SnsNotifier
from catdog.pending import PendingMessage, RetryPolicy, classify_announced
from catdog.pipeline.cancel import cancel_run
from catdog.settings import AwsResources, Settings
from catdog.storage.aws import build_aws_storage, create_aws_resources
from catdog.storage.aws.pending_queue import SqsPendingQueue
from catdog.storage.ports import Storage
from tests.core.test_champion_serving import Instance
from tests.core.test_fleet_aws import make_group
from tests.factories import noise_image_bytes
from tests.web.fakes import FakeInference
from web.uploads import UploadService
from web.url_import import UrlImporter

REGION = "eu-west-1"
AWS = AwsResources(region=REGION)
# The stack's logical ids of the resources the settings name.
RESOURCE_OF = {
    "dynamodb": {
        AWS.images_table: "ImagesTable",
        AWS.settings_table: "SettingsTable",
        AWS.runs_table: "RunsTable",
        AWS.models_table: "ModelsTable",
    },
    "s3": {AWS.images_bucket: "ImagesBucket", AWS.models_bucket: "ModelsBucket"},
    "sqs": {"pending": "PendingQueue"},
    "sns": {"catdog-alerts": "AlertsTopic"},
}
S3_ACTIONS = {"HeadObject": "GetObject", "ListObjectsV2": "ListBucket"}
TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass
class Recorder:
    """(IAM action, logical id of the resource) of every call made while ``on``."""

    calls: set[tuple[str, str]]
    on: bool = False

    def __call__(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        if not self.on:
            return
        service = model.service_model.endpoint_prefix
        name = model.name
        if service == "dynamodb" and name == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                self._add(f"dynamodb:{TRANSACTION_ACTIONS[kind]}", body["TableName"])
        elif service == "dynamodb":
            self._add(f"dynamodb:{name}", params["TableName"])
        elif service == "s3":
            self._add(f"s3:{S3_ACTIONS.get(name, name)}", params["Bucket"])
            if name == "PutObject" and params.get("Tagging"):
                self._add("s3:PutObjectTagging", params["Bucket"])
        elif service == "sqs":
            self._add(f"sqs:{name}", params["QueueUrl"].rsplit("/", 1)[-1])
        elif service == "sns":
            self._add(f"sns:{name}", params["TopicArn"].rsplit(":", 1)[-1])
        elif service in ("autoscaling", "ec2") and name.startswith("Describe"):
            self.calls.add((f"{service}:{name}", "*"))  # no resource-level permissions
        else:
            raise AssertionError(f"unexpected call {service}:{name}")

    def _add(self, action: str, name: str) -> None:
        self.calls.add((action, RESOURCE_OF[action.split(":")[0]][name]))


@dataclass
class World:
    storage: Storage
    queue: SqsPendingQueue
    sqs: Any
    recorder: Recorder


@pytest.fixture
def world() -> Iterator[World]:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    recorder = Recorder(set())
    session.events.register("provide-client-params.*.*", recorder)
    settings = Settings(backend="aws", aws=AWS)
    with mock_aws():
        create_aws_resources(settings, session)
        sqs = session.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="pending")["QueueUrl"]
        yield World(
            build_aws_storage(settings, session=session), SqsPendingQueue(sqs, url), sqs, recorder
        )


def _granted(resources: dict[str, Any], role: str) -> set[tuple[str, str]]:
    granted = set()
    for policy in resources[role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            targets = statement["Resource"]
            for action in actions if isinstance(actions, list) else [actions]:
                for target in targets if isinstance(targets, list) else [targets]:
                    granted.add((action, _logical_id(target)))
    return granted


def _logical_id(target: Any) -> str:
    if isinstance(target, dict) and "Ref" in target:
        return str(target["Ref"])
    if isinstance(target, dict) and "Fn::GetAtt" in target:
        return str(target["Fn::GetAtt"][0])
    if isinstance(target, dict) and "Fn::Sub" in target:  # ${ImagesBucket.Arn}/* and the like
        text = target["Fn::Sub"]
        return text.split("${", 1)[1].split(".", 1)[0] if "${" in text else text
    return str(target)


@dataclass(frozen=True)
class Answer:
    label: str = "cat"
    confidence: float = 0.9
    model_version: str = "v1"


class UpInference(Predictor):
    def predict(self, data: bytes, content_type: str) -> Answer:
        return Answer()


def _assert_granted(recorded: set[tuple[str, str]], resources: dict[str, Any], role: str) -> None:
    assert recorded, "nothing was recorded"
    missing = recorded - _granted(resources, role)
    assert not missing, f"{role} lacks {sorted(missing)}"


def test_an_upload_during_an_outage_is_granted_to_the_web_role(world: World, resources):
    settings = Settings(backend="aws", aws=AWS)
    uploads = UploadService(
        build_ingest(settings, world.storage),
        world.storage.catalog,
        FakeInference(down=True),
        UrlImporter(settings.max_upload_bytes, settings.url_import_timeout_s),
        settings.unsure_threshold,
        world.queue,
    )
    world.recorder.on = True
    assert uploads.upload("late", noise_image_bytes(1)).pending
    _assert_granted(world.recorder.calls, resources, "WebFunctionRole")


def test_cancelling_a_run_from_the_web_app_is_granted_to_the_web_role(world: World, resources):
    world.storage.runs.create("run-1", Trigger.MANUAL, datetime(2026, 1, 1, tzinfo=UTC))
    world.recorder.on = True
    cancel_run(
        "run-1",
        "erin",
        runs=world.storage.runs,
        registry=world.storage.registry,
        executions=None,  # StopExecution and StopInstances: checked on the template
        compute=None,
        clock=lambda: datetime(2026, 1, 1, 1, tzinfo=UTC),
    )
    assert ("dynamodb:DeleteItem", "RunsTable") in world.recorder.calls  # the lock
    _assert_granted(world.recorder.calls, resources, "WebFunctionRole")


def test_classify_pending_is_granted_to_its_role(world: World, resources):
    settings = Settings(backend="aws", aws=AWS)
    ingest = build_ingest(settings, world.storage)
    ingest.ingest("a", noise_image_bytes(2))
    ingest.ingest("b", noise_image_bytes(3))
    world.queue.announce("b")
    (received,) = world.sqs.receive_message(QueueUrl=world.queue._queue_url)["Messages"]
    world.recorder.on = True
    retry = RetryPolicy(30, 900)
    classify_announced(
        world.storage, UpInference(), world.queue, [PendingMessage("a", "r", 1)], retry
    )
    deferred = classify_announced(
        world.storage,
        FakeInference(down=True),
        world.queue,
        [PendingMessage("b", received["ReceiptHandle"], 1)],
        retry,
    )
    assert deferred.deferred == ["b"] and json.loads(received["Body"]) == {"key": "b"}
    _assert_granted(world.recorder.calls, resources, "ClassifyPendingFunctionRole")


def test_a_pipeline_step_raising_an_alert_is_granted_to_the_pipeline_role(
    world: World, resources: dict[str, Any]
) -> None:
    """What ValidateModel, MarkRunFailed and StopTrainInstance do for a run that needs a
    manager: look for the alert, publish it to the topic, store it."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    session.events.register("provide-client-params.*.*", world.recorder)
    sns = session.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="catdog-alerts")["TopicArn"]
    alert = Alert.for_run(AlertKind.REJECTED, "run-1", "too few images", datetime.now(UTC))
    world.recorder.on = True
    assert announce(world.storage.alerts, SnsNotifier(sns, topic), alert)
    assert ("sns:Publish", "AlertsTopic") in world.recorder.calls
    _assert_granted(world.recorder.calls, resources, "PipelineFunctionRole")


def test_the_banner_and_acknowledging_an_alert_are_granted_to_the_web_role(
    world: World, resources: dict[str, Any]
) -> None:
    alert = Alert.for_run(AlertKind.FAILED, "run-1", "boom", datetime.now(UTC))
    world.storage.alerts.raise_alert(alert)
    world.recorder.on = True
    assert world.storage.alerts.open_alerts() == [alert]
    world.storage.alerts.acknowledge(alert.alert_id, "erin", datetime.now(UTC))
    assert ("dynamodb:DeleteItem", "RunsTable") in world.recorder.calls  # the open marker
    _assert_granted(world.recorder.calls, resources, "WebFunctionRole")


def test_signalling_every_instance_and_rolling_back_is_granted_to_the_signal_role(
    world: World, resources: dict[str, Any]
) -> None:
    """SignalInferenceServer: list the group's instances, signal each, record the answers
    on the run; one refuses the model, so the champion is rolled back."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    session.events.register("provide-client-params.*.*", world.recorder)
    autoscaling = session.client("autoscaling", region_name=REGION)
    ec2 = session.client("ec2", region_name=REGION)
    make_group(autoscaling, ec2, "catdog-inference", 2)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for version, run_id in (("v1", None), ("v2", "v2")):
        world.storage.registry.register(
            ModelVersion(
                version, f"models/{version}/", ModelStatus.CANDIDATE, at, {}, run_id=run_id
            )
        )
    world.storage.registry.promote("v1", None, "test", "baseline", at)
    world.storage.runs.create("v2", Trigger.MANUAL, at)
    change = world.storage.registry.promote("v2", "v1", "pipeline", "passed the gate", at)
    servers: dict[str, Instance] = {}  # by URL: the second instance refuses v2

    def server_at(url: str) -> Instance:
        return servers.setdefault(url, Instance(refuse={"v2"}) if servers else Instance())

    fleet = AutoScalingFleet(autoscaling, ec2, "catdog-inference", 8501, server_at)
    world.recorder.on = True
    report = serve_champion_change(
        world.storage.registry, world.storage.runs, fleet, change, "pipeline", lambda: at
    )
    assert report.rolled_back is not None and len(report.instances) == 2
    assert ("autoscaling:DescribeAutoScalingGroups", "*") in world.recorder.calls
    assert ("ec2:DescribeInstances", "*") in world.recorder.calls
    _assert_granted(world.recorder.calls, resources, "SignalFunctionRole")
