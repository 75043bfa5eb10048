"""The inference tier: Run instances in an Auto Scaling group behind an internal ALB, the
security groups between the callers, the load balancer and the instances, the alarms on
the load balancer's metrics, and the dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.cloudformation.support import of_type, render_name

CALLERS = ("WebFunction", "ClassifyPendingFunction")  # predictions through the ALB
SIGNALLERS = ("SignalInferenceServerFunction", "WebFunction")  # reload each instance


def _props(resources: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = resources[name]["Properties"]
    return properties


def test_the_group_scales_between_parameters_on_cpu_behind_the_target_group(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    group = _props(resources, "InferenceGroup")
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (
        {"Ref": "InferenceMinSize"},
        {"Ref": "InferenceMaxSize"},
        {"Ref": "InferenceDesiredSize"},
    )
    for name in ("InferenceMinSize", "InferenceMaxSize", "InferenceDesiredSize"):
        assert template["Parameters"][name]["Type"] == "Number"
    assert group["LaunchTemplate"]["LaunchTemplateId"] == {"Ref": "InferenceLaunchTemplate"}
    assert group["TargetGroupARNs"] == [{"Ref": "InferenceTargetGroup"}]
    assert group["HealthCheckType"] == "ELB"  # an instance that is never ready is replaced
    assert len(group["VPCZoneIdentifier"]) == 2
    policy = _props(resources, "InferenceScalingPolicy")
    assert policy["PolicyType"] == "TargetTrackingScaling"
    tracking = policy["TargetTrackingConfiguration"]
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ASGAverageCPUUtilization"
    }
    assert tracking["TargetValue"] == {"Ref": "InferenceTargetCpu"}
    assert "RunInstance" not in resources  # no single instance left


def test_an_internal_load_balancer_checks_readyz_and_forwards_to_the_instances(
    resources: dict[str, Any],
) -> None:
    balancer = _props(resources, "InferenceLoadBalancer")
    assert balancer["Scheme"] == "internal" and balancer["Type"] == "application"
    targets = _props(resources, "InferenceTargetGroup")
    assert (targets["Port"], targets["HealthCheckPath"]) == (8501, "/readyz")
    assert targets["Matcher"] == {"HttpCode": "200"}
    listener = _props(resources, "InferenceListener")
    assert listener["DefaultActions"] == [
        {"Type": "forward", "TargetGroupArn": {"Ref": "InferenceTargetGroup"}}
    ]
    template = _props(resources, "InferenceLaunchTemplate")["LaunchTemplateData"]
    assert template["SecurityGroupIds"] == [{"Ref": "InstanceSecurityGroup"}]


def test_callers_reach_the_instances_only_through_the_load_balancer(
    resources: dict[str, Any],
) -> None:
    ingress = {
        p["GroupId"]["Ref"]: p["SourceSecurityGroupId"]["Ref"]
        for p in (
            r["Properties"] for r in of_type(resources, "AWS::EC2::SecurityGroupIngress").values()
        )
        if "Ref" in p["GroupId"]
    }
    rules = [
        (p["GroupId"]["Ref"], p["SourceSecurityGroupId"]["Ref"], p["FromPort"])
        for p in (
            r["Properties"] for r in of_type(resources, "AWS::EC2::SecurityGroupIngress").values()
        )
    ]
    assert sorted(r for r in rules if r[0] == "InstanceSecurityGroup") == [
        ("InstanceSecurityGroup", "InferenceAdminSecurityGroup", 8501),
        ("InstanceSecurityGroup", "InferenceLoadBalancerSecurityGroup", 8501),
    ]
    assert ingress["InferenceLoadBalancerSecurityGroup"] == "LambdaSecurityGroup"
    (to_instances,) = _props(resources, "InferenceLoadBalancerSecurityGroup")["SecurityGroupEgress"]
    assert to_instances["DestinationSecurityGroupId"] == {"Ref": "InstanceSecurityGroup"}
    for name in CALLERS:
        function = _props(resources, name)
        assert {"Ref": "LambdaSecurityGroup"} in function["VpcConfig"]["SecurityGroupIds"]
        url = function["Environment"]["Variables"]["CATDOG_INFERENCE_URL"]
        assert url == {"Fn::Sub": "http://${InferenceLoadBalancer.DNSName}"}, name
    consumer = _props(resources, "ClassifyPendingFunction")["VpcConfig"]["SecurityGroupIds"]
    assert {"Ref": "InferenceAdminSecurityGroup"} not in consumer


def test_the_signallers_find_every_instance_through_the_group(resources: dict[str, Any]) -> None:
    roles = {
        "SignalInferenceServerFunction": "SignalFunctionRole",
        "WebFunction": "WebFunctionRole",
    }
    for name in SIGNALLERS:
        function = _props(resources, name)
        variables = function["Environment"]["Variables"]
        assert variables["CATDOG_AWS_INFERENCE_GROUP_NAME"] == {"Ref": "InferenceGroup"}
        assert {"Ref": "InferenceAdminSecurityGroup"} in function["VpcConfig"]["SecurityGroupIds"]
        actions = {
            action
            for policy in _props(resources, roles[name])["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
            for action in statement["Action"]
        }
        assert {"autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"} <= actions


def _alarm(resources: dict[str, Any], name: str) -> dict[str, Any]:
    return _props(resources, name)


def test_alarms_on_inference_5xx_and_p99_latency_read_the_load_balancer(
    resources: dict[str, Any],
) -> None:
    balancer = {"Fn::GetAtt": ["InferenceLoadBalancer", "LoadBalancerFullName"]}
    errors = _alarm(resources, "Inference5xxAlarm")
    stats = {m["Id"]: m.get("MetricStat", {}).get("Metric", {}) for m in errors["Metrics"]}
    assert {s.get("MetricName") for s in stats.values()} >= {
        "HTTPCode_Target_5XX_Count",
        "HTTPCode_ELB_5XX_Count",
    }
    for metric in (s for s in stats.values() if s):
        assert metric["Namespace"] == "AWS/ApplicationELB"
        assert metric["Dimensions"] == [{"Name": "LoadBalancer", "Value": balancer}]
    (total,) = [m for m in errors["Metrics"] if m.get("ReturnData")]
    assert total["Expression"] == "FILL(targets, 0) + FILL(balancer, 0)"
    latency = _alarm(resources, "InferenceLatencyAlarm")
    assert (latency["MetricName"], latency["ExtendedStatistic"]) == ("TargetResponseTime", "p99")
    assert latency["Dimensions"] == [{"Name": "LoadBalancer", "Value": balancer}]


def test_the_dashboard_shows_outcomes_training_inference_queues_and_lambda_errors(
    resources: dict[str, Any],
) -> None:
    body, variables = _props(resources, "Dashboard")["DashboardBody"]["Fn::Sub"]
    assert variables["Balancer"] == {
        "Fn::GetAtt": ["InferenceLoadBalancer", "LoadBalancerFullName"]
    }
    # Every ${...} is a resource, one of its attributes, a parameter or a pseudo parameter.
    for reference in re.findall(r"\$\{([^}]+)\}", body):
        name = reference.split(".")[0]
        assert name in resources or name in ("AWS::Region", "NamePrefix", *variables), reference
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    metrics = {
        name
        for widget in dashboard["widgets"]
        for row in widget["properties"].get("metrics", [])
        for name in row
        if isinstance(name, str)
    }
    for shown in (
        "PromotedExecutions",
        "RejectedExecutions",
        "PromotedNotServedExecutions",
        "ExecutionsFailed",
        "TrainingRunsStarted",
        "HTTPCode_Target_5XX_Count",
        "TargetResponseTime",
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
        "Errors",
    ):
        assert shown in metrics, shown
    (alarms,) = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
    shown_alarms = {a.rsplit(":", 1)[-1] for a in alarms["properties"]["alarms"]}
    assert shown_alarms == {
        render_name(a["Properties"]["AlarmName"], "x")
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
    }
