"""Alarms on the retraining pipeline: failed, rejected and promoted-but-not-served executions."""

from __future__ import annotations

import json
import re
from typing import Any

from catdog.pipeline.names import StepName
from tests.cloudformation.support import ROOT, of_type, render_name

ASL = json.loads((ROOT / "workflows" / "retrain.asl.json").read_text())


def _alarm_on(resources: dict[str, Any], namespace: Any, metric: str) -> dict[str, Any]:
    (alarm,) = [
        a["Properties"]
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == namespace
        and a["Properties"].get("MetricName") == metric
    ]
    return alarm


def test_failed_executions_raise_an_alarm_from_step_functions_metric(resources):
    alarm = _alarm_on(resources, "AWS/States", "ExecutionsFailed")
    assert alarm["Dimensions"] == [
        {"Name": "StateMachineArn", "Value": {"Ref": "RetrainStateMachine"}}
    ]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0


def test_rejected_and_not_served_executions_are_counted_from_the_execution_log(resources):
    alarmed = {}
    for properties in _filters(resources):
        (metric,) = properties["MetricTransformations"]
        if metric["MetricName"] in ("RejectedExecutions", "PromotedNotServedExecutions"):
            (state,) = re.findall(r'\$\.details\.name = "(\w+)"', properties["FilterPattern"])
            assert '$.type = "SucceedStateEntered"' in properties["FilterPattern"]
            assert ASL["States"][state]["Type"] == "Succeed"  # a terminal state of the ASL
            alarmed[state] = metric
            alarm = _alarm_on(resources, metric["MetricNamespace"], metric["MetricName"])
            assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 0
    assert set(alarmed) == {StepName.REJECTED.value, StepName.PROMOTED_NOT_SERVED.value}
    # The filters read state-entered events: the execution log must keep them all.
    logging = resources["RetrainStateMachine"]["Properties"]["LoggingConfiguration"]
    assert logging["Level"] == "ALL"


def test_every_metric_filter_names_states_the_state_machine_has(resources):
    """The dashboard's counts (promoted, skipped, training runs) read the same log."""
    counted = {}
    for properties in _filters(resources):
        (name,) = re.findall(r'\$\.details\.name = "(\w+\*?)"', properties["FilterPattern"])
        (kind,) = re.findall(r'\$\.type = "(\w+)"', properties["FilterPattern"])
        states = [
            s
            for s in ASL["States"]
            if s == name or (name.endswith("*") and s.startswith(name[:-1]))
        ]
        assert states, name
        expected = {"SucceedStateEntered": "Succeed", "TaskStateEntered": "Task"}[kind]
        assert {ASL["States"][s]["Type"] for s in states} == {expected}, name
        counted[properties["MetricTransformations"][0]["MetricName"]] = states
    assert counted["PromotedExecutions"] == [StepName.PROMOTED.value]
    assert counted["TrainingRunsStarted"] == [StepName.START_TRAIN_INSTANCE.value]
    assert set(counted["SkippedExecutions"]) == {
        StepName.SKIPPED_BY_MODE.value,
        StepName.SKIPPED_BY_THRESHOLD.value,
        StepName.SKIPPED_RUN_ACTIVE.value,
    }


def _filters(resources: dict[str, Any]) -> list[dict[str, Any]]:
    found = [f["Properties"] for f in of_type(resources, "AWS::Logs::MetricFilter").values()]
    for properties in found:
        assert properties["LogGroupName"] == {"Ref": "StateMachineLogGroup"}
    return found


def test_a_fresh_stack_has_every_alarm_in_ok(resources):
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        assert properties["TreatMissingData"] == "notBreaching", name
        assert render_name(properties["AlarmName"]).startswith("catdog-"), name
