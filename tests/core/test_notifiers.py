"""The notifier adapters: a JSON line per alert in the data dir's log (local), an SNS
publish to the alerts topic (AWS, on moto: an SQS queue subscribed to the topic reads
what an e-mail subscriber would get)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from catdog.alerts import Alert, AlertKind, AlertStore, Notifier, announce
from catdog.notifiers import ALERTS_LOG, JsonLinesNotifier, SnsNotifier, build_notifier
from catdog.settings import Settings

AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
REJECTED = Alert.for_run(AlertKind.REJECTED, "run-7", "accuracy 0.6000 < minimum 0.8000", AT)


def test_the_local_notifier_appends_one_json_line_per_alert(tmp_path: Path) -> None:
    notifier = build_notifier(Settings(data_dir=tmp_path))
    assert isinstance(notifier, JsonLinesNotifier)
    notifier.notify(REJECTED)
    notifier.notify(Alert.for_run(AlertKind.FAILED, "run-8", "TrainingFailed: boom", AT))
    lines = (tmp_path / "logs" / ALERTS_LOG).read_text().splitlines()
    assert [json.loads(line)["alert_id"] for line in lines] == ["run-7.rejected", "run-8.failed"]
    first = json.loads(lines[0])
    assert first["event"] == "catdog.alert"
    assert first["message"] == (
        "Training run run-7 was rejected by the promotion gate: accuracy 0.6000 < minimum 0.8000"
    )
    assert first["raised_at"] == "2026-03-04T05:06:07.000000Z"


class MemoryStore(AlertStore):
    def __init__(self) -> None:
        self.alerts: dict[str, Alert] = {}

    def find(self, alert_id: str) -> Alert | None:
        return self.alerts.get(alert_id)

    def raise_alert(self, alert: Alert) -> bool:
        new = alert.alert_id not in self.alerts
        self.alerts.setdefault(alert.alert_id, alert)
        return new


class FailingNotifier(Notifier):
    def notify(self, alert: Alert) -> None:
        raise ConnectionError("SNS is unreachable")


def test_announce_notifies_once_and_never_stores_an_alert_it_could_not_send(
    tmp_path: Path,
) -> None:
    store, notifier = MemoryStore(), JsonLinesNotifier(tmp_path / ALERTS_LOG)
    with pytest.raises(ConnectionError):
        announce(store, FailingNotifier(), REJECTED)
    assert store.alerts == {}  # a retried step will notify then
    assert announce(store, notifier, REJECTED) is True
    assert announce(store, notifier, REJECTED) is False  # the retried step again
    assert len((tmp_path / ALERTS_LOG).read_text().splitlines()) == 1


@mock_aws
def test_the_aws_notifier_publishes_to_the_topic_from_the_settings() -> None:
    sns = boto3.client("sns", region_name="eu-west-1")
    sqs = boto3.client("sqs", region_name="eu-west-1")
    topic = sns.create_topic(Name="catdog-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="mailbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    settings = Settings.from_env(
        {
            "CATDOG_BACKEND": "aws",
            "CATDOG_AWS_REGION": "eu-west-1",
            "CATDOG_AWS_ALERTS_TOPIC_ARN": topic,
        }
    )
    notifier = build_notifier(settings, client=sns)
    assert isinstance(notifier, SnsNotifier)
    notifier.notify(REJECTED)
    received = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    envelope = json.loads(received[0]["Body"])
    assert envelope["Subject"] == "catdog: run run-7 rejected"
    assert json.loads(envelope["Message"])["alert_id"] == "run-7.rejected"
