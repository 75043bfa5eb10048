"""Pending classification on AWS: the queue, its consumer, its dead-letter queue, its alarms."""

from __future__ import annotations

from typing import Any

from catdog.pending import RetryPolicy
from catdog.settings import Settings
from lambdas import handlers
from tests.cloudformation.support import of_type, render_name

FOURTEEN_DAYS = 14 * 24 * 3600


def _statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources[role]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _consumer_settings(resources: dict[str, Any]) -> Settings:
    env = resources["ClassifyPendingFunction"]["Properties"]["Environment"]["Variables"]
    plain = {k: v for k, v in env.items() if isinstance(v, str)}
    return Settings.from_env(plain)


def test_the_consumer_is_the_classify_pending_handler_fed_by_the_queue(resources):
    function = resources["ClassifyPendingFunction"]["Properties"]
    assert function["Handler"] == "lambdas.handlers.classify_pending"
    assert callable(handlers.classify_pending)
    assert render_name(function["FunctionName"]) == "catdog-classify-pending"
    assert "VpcConfig" in function  # the inference tier is reachable only inside the VPC
    (mapping,) = of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["EventSourceArn"] == {"Fn::GetAtt": ["PendingQueue", "Arn"]}
    assert properties["FunctionName"] == {"Ref": "ClassifyPendingFunction"}
    # Lambda's pollers never run more copies than the function may (no throttled receives,
    # which would spend the message's delivery count).
    assert (
        properties["ScalingConfig"]["MaximumConcurrency"]
        <= function["ReservedConcurrentExecutions"]
    )


def test_the_queue_keeps_messages_and_hands_failures_to_a_dead_letter_queue(resources):
    queue = resources["PendingQueue"]["Properties"]
    dlq = resources["PendingDeadLetterQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] == dlq["MessageRetentionPeriod"] == FOURTEEN_DAYS
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["PendingDeadLetterQueue", "Arn"]
    }
    assert queue["SqsManagedSseEnabled"] and dlq["SqsManagedSseEnabled"]
    timeout = resources["ClassifyPendingFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout  # AWS's advice for SQS event sources


def test_the_backoff_outlasts_an_outage_of_a_day_before_the_dead_letter_queue(resources):
    settings = _consumer_settings(resources)
    retry = RetryPolicy(settings.pending_retry_base_seconds, settings.pending_retry_max_seconds)
    deliveries = resources["PendingQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    waited = sum(retry.delay(attempt) for attempt in range(1, deliveries))
    assert waited >= 24 * 3600
    # SQS accepts a visibility timeout of at most 12 hours.
    assert retry.delay(deliveries) <= 12 * 3600


def test_only_the_web_app_announces_and_only_the_consumer_consumes(resources):
    consumer = {
        action
        for statement in _statements(resources, "ClassifyPendingFunctionRole")
        for action in statement["Action"]
        if action.startswith("sqs:")
    }
    assert consumer == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    }
    (send,) = [
        s
        for s in _statements(resources, "WebFunctionRole")
        if any(a.startswith("sqs:") for a in s["Action"])
    ]
    assert send["Action"] == ["sqs:SendMessage"]
    assert send["Resource"] == {"Fn::GetAtt": ["PendingQueue", "Arn"]}
    web_env = resources["WebFunction"]["Properties"]["Environment"]["Variables"]
    assert web_env["CATDOG_AWS_PENDING_QUEUE_URL"] == {"Ref": "PendingQueue"}
    for name in of_type(resources, "AWS::IAM::Role"):
        if name not in ("ClassifyPendingFunctionRole", "WebFunctionRole"):
            actions = [a for s in _statements(resources, name) for a in s["Action"]]
            assert not [a for a in actions if a.startswith("sqs:")], name


def test_alarms_watch_the_queue_age_and_the_dead_letter_depth(resources):
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    watched = {
        (a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0])
        for a in alarms.values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    }
    assert watched == {
        ("ApproximateAgeOfOldestMessage", "PendingQueue"),
        ("ApproximateNumberOfMessagesVisible", "PendingDeadLetterQueue"),
    }
