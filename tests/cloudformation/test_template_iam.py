"""Least privilege: no wildcard actions, '*' resources only where AWS allows nothing else."""

from __future__ import annotations

from typing import Any

from catdog.pipeline.names import LambdaFunction
from tests.cloudformation.support import of_type

# Actions that have no resource-level permissions, so they can only be granted on "*".
STAR_RESOURCE_ACTIONS = {
    "xray:PutTraceSegments": "X-Ray segments belong to no resource",
    "xray:PutTelemetryRecords": "X-Ray telemetry belongs to no resource",
    "xray:GetSamplingRules": "X-Ray sampling rules are account-wide",
    "xray:GetSamplingTargets": "X-Ray sampling targets are account-wide",
    "ec2:DescribeInstances": "Describe* calls take no resource ARN",
    "autoscaling:DescribeAutoScalingGroups": "Describe* calls take no resource ARN",
    "ec2:CreateNetworkInterface": "Lambda creates VPC interfaces on the role's behalf",
    "ec2:DescribeNetworkInterfaces": "Describe* calls take no resource ARN",
    "ec2:DeleteNetworkInterface": "Lambda deletes VPC interfaces on the role's behalf",
    "ec2:AssignPrivateIpAddresses": "Lambda manages its VPC interfaces' addresses",
    "ec2:UnassignPrivateIpAddresses": "Lambda manages its VPC interfaces' addresses",
    "cloudwatch:PutMetricData": "metrics have no ARN (narrowed by a namespace condition)",
    "logs:CreateLogDelivery": "Step Functions log delivery is account-wide",
    "logs:GetLogDelivery": "Step Functions log delivery is account-wide",
    "logs:UpdateLogDelivery": "Step Functions log delivery is account-wide",
    "logs:DeleteLogDelivery": "Step Functions log delivery is account-wide",
    "logs:ListLogDeliveries": "Step Functions log delivery is account-wide",
    "logs:PutResourcePolicy": "Step Functions log delivery is account-wide",
    "logs:DescribeResourcePolicies": "Step Functions log delivery is account-wide",
    "logs:DescribeLogGroups": "Step Functions log delivery is account-wide",
}


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_role_uses_managed_policies_or_wildcard_actions(resources):
    roles = of_type(resources, "AWS::IAM::Role")
    assert len(roles) == 8
    for name, role in roles.items():
        assert "ManagedPolicyArns" not in role["Properties"], name
        for statement in _statements(role):
            assert statement["Effect"] == "Allow", name
            assert "NotAction" not in statement and "NotResource" not in statement
            for action in _as_list(statement["Action"]):
                assert "*" not in action, f"{name}: {action}"


def test_star_resources_only_for_actions_without_resource_permissions(resources):
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for statement in _statements(role):
            if "*" in _as_list(statement["Resource"]):
                extra = set(_as_list(statement["Action"])) - set(STAR_RESOURCE_ACTIONS)
                assert not extra, f"{name} grants {extra} on '*'"


def test_the_state_machine_may_invoke_exactly_its_step_functions(resources):
    substitutions = resources["RetrainStateMachine"]["Properties"]["DefinitionSubstitutions"]
    (invoke,) = [
        s
        for s in _statements(resources["StateMachineRole"])
        if s["Action"] == ["lambda:InvokeFunction"]
    ]
    assert sorted(invoke["Resource"], key=str) == sorted(substitutions.values(), key=str)
    assert len(invoke["Resource"]) == len(LambdaFunction)


def test_the_schedule_may_only_start_the_state_machine(resources):
    (statement,) = _statements(resources["ScheduleRole"])
    assert statement["Action"] == ["states:StartExecution"]
    assert statement["Resource"] == {"Ref": "RetrainStateMachine"}


def test_only_the_train_instance_can_be_started_and_stopped(resources):
    statements = _statements(resources["PipelineFunctionRole"])
    (control,) = [s for s in statements if "ec2:StartInstances" in s["Action"]]
    assert control["Resource"]["Fn::Sub"].endswith(":instance/${TrainInstance}")
    # The web app stops it when a manager cancels a run; it never starts it.
    (stop,) = [
        s for s in _statements(resources["WebFunctionRole"]) if "ec2:StopInstances" in s["Action"]
    ]
    assert stop["Action"] == ["ec2:StopInstances"]
    assert stop["Resource"]["Fn::Sub"].endswith(":instance/${TrainInstance}")
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        actions = {a for s in _statements(role) for a in _as_list(s["Action"])}
        if name == "WebFunctionRole":
            assert "ec2:StartInstances" not in actions
        elif name != "PipelineFunctionRole":
            assert not actions & {"ec2:StartInstances", "ec2:StopInstances"}, name


def test_instances_only_read_the_app_bundle_from_the_artifacts_bucket(resources):
    for name in ("RunInstanceRole", "TrainInstanceRole"):
        (bundle,) = [s for s in _statements(resources[name]) if s.get("Sid") == "AppBundle"]
        assert bundle["Action"] == ["s3:GetObject"]
        assert bundle["Resource"]["Fn::Sub"].endswith(":::${ArtifactsBucket}/${AppBundleKey}")


def test_only_lambdas_in_the_vpc_may_manage_network_interfaces(resources):
    in_vpc = {
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in of_type(resources, "AWS::Lambda::Function").values()
        if "VpcConfig" in f["Properties"]
    }
    assert in_vpc == {"SignalFunctionRole", "WebFunctionRole", "ClassifyPendingFunctionRole"}
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        actions = {a for s in _statements(role) for a in _as_list(s["Action"])}
        assert ("ec2:CreateNetworkInterface" in actions) == (name in in_vpc), name
