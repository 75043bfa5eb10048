"""Least privilege and limits: each role's actions against the AWS calls its code makes,
secrets never in environment variables, reserved concurrency, URL-import egress."""

from __future__ import annotations

import re
from typing import Any

from tests.cloudformation.support import ROOT, boot_script, of_type

UNITS = ("catdog", "web", "lambdas", "inference_server", "training_job")
# Actions the AWS service itself calls with the role (never our code): Lambda's logs and
# VPC interfaces, the X-Ray SDK and the CloudWatch agent's daemon, Step Functions' logging.
CALLED_BY_THE_SERVICE = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogStreams",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "cloudwatch:PutMetricData",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    # Lambda's SQS poller, for the event source mapping.
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
}
# IAM actions that boto3 methods of another name need.
ALSO_MEANS = {
    "s3:GetObject": {"head_object", "get_object"},
    "s3:ListBucket": {"list_objects_v2"},
    # put_object with a Tagging argument (blobs written pending) needs it too.
    "s3:PutObjectTagging": {"put_object_tagging", "put_object"},
}
# Items of a DynamoDB transaction need the item action of their kind.
TRANSACTION_ITEMS = {
    "dynamodb:PutItem": '"Put"',
    "dynamodb:UpdateItem": '"Update"',
    "dynamodb:DeleteItem": '"Delete"',
    "dynamodb:ConditionCheckItem": '"ConditionCheck"',
}


def _source() -> str:
    return "\n".join(path.read_text() for unit in UNITS for path in (ROOT / unit).rglob("*.py"))


def _calls(source: str) -> set[str]:
    """boto3 method names the code calls: ``x.name(``, ``_call("name"``, paginators."""
    calls = set(re.findall(r"\.([a-z][a-z0-9_]*)\(", source))
    calls |= set(re.findall(r'_call\(\s*"([a-z_0-9]+)"', source))
    calls |= set(re.findall(r'get_paginator\(\s*"([a-z_0-9]+)"', source))
    return calls


def _snake(action: str) -> str:
    name = action.split(":", 1)[1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _actions(role: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in _statements(role):
        action = statement["Action"]
        found |= set(action if isinstance(action, list) else [action])
    return found


def _lambda_roles(resources: dict[str, Any]) -> set[str]:
    return {
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in of_type(resources, "AWS::Lambda::Function").values()
    }


def test_every_action_a_function_role_grants_is_a_call_the_code_makes(resources):
    source = _source()
    calls = _calls(source)
    aws_adapters = "\n".join(
        p.read_text() for p in (ROOT / "catdog" / "storage" / "aws").glob("*.py")
    )
    for name in _lambda_roles(resources):
        for action in _actions(resources[name]) - CALLED_BY_THE_SERVICE:
            names = ALSO_MEANS.get(action, {_snake(action)})
            in_a_transaction = action in TRANSACTION_ITEMS and (
                TRANSACTION_ITEMS[action] in aws_adapters and "transact_write_items" in calls
            )
            assert names & calls or in_a_transaction, f"{name} grants {action}; nothing calls it"


def test_the_instances_grant_what_their_boot_scripts_and_units_call(resources):
    calls = _calls(_source())
    for role, instance in (
        ("RunInstanceRole", "InferenceLaunchTemplate"),
        ("TrainInstanceRole", "TrainInstance"),
    ):
        script = boot_script(resources, instance)
        for action in _actions(resources[role]) - CALLED_BY_THE_SERVICE:
            by_script = {
                "s3:GetObject": "aws s3 cp",
                "secretsmanager:GetSecretValue": "aws secretsmanager get-secret-value",
            }.get(action, "\0")
            names = ALSO_MEANS.get(action, {_snake(action)})
            in_a_transaction = action in TRANSACTION_ITEMS and "transact_write_items" in calls
            assert by_script in script or names & calls or in_a_transaction, f"{role}: {action}"


def test_no_function_gets_permissions_nobody_uses(resources):
    """The grants this change removed: nothing in the web app deletes images, items of
    the catalog, settings or registry, and only the runs table has an item to delete
    (the one-active-run lock, released in the transaction that ends a run)."""
    web = _statements(resources["WebFunctionRole"])
    assert "s3:DeleteObject" not in {a for s in web for a in s["Action"]}
    for role in ("WebFunctionRole", "PipelineFunctionRole", "TrainInstanceRole"):
        for statement in _statements(resources[role]):
            if "dynamodb:DeleteItem" in statement["Action"]:
                resource = statement["Resource"]
                targets = resource if isinstance(resource, list) else [resource]
                assert {str(t) for t in targets} <= {
                    str({"Fn::GetAtt": ["RunsTable", "Arn"]}),
                    str({"Fn::Sub": "${RunsTable.Arn}/index/*"}),
                }, role


def test_no_secret_is_resolved_into_an_environment_variable(template, resources):
    assert "{{resolve:" not in str(template)
    for name, function in of_type(resources, "AWS::Lambda::Function").items():
        env = function["Properties"]["Environment"]["Variables"]
        assert not {"CATDOG_INFERENCE_ADMIN_TOKEN", "CATDOG_SECRET_KEY"} & set(env), name
        role = resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]
        readable = [
            s["Resource"]
            for s in _statements(role)
            if "secretsmanager:GetSecretValue" in s["Action"]
        ]
        named = [value for key, value in env.items() if key.endswith("_SECRET")]
        flat = [
            r
            for resource in readable
            for r in (resource if isinstance(resource, list) else [resource])
        ]
        assert sorted(map(str, flat)) == sorted(map(str, named)), name


def test_every_function_has_reserved_concurrency_and_the_web_matches_the_api_burst(
    template, resources
):
    functions = of_type(resources, "AWS::Lambda::Function")
    for name, function in functions.items():
        assert "ReservedConcurrentExecutions" in function["Properties"], name
    web = functions["WebFunction"]["Properties"]["ReservedConcurrentExecutions"]
    stage = resources["WebApiDeployment"]["Properties"]["StageDescription"]
    assert web == stage["ThrottlingBurstLimit"] == {"Ref": "WebConcurrency"}
    default = template["Parameters"]["WebConcurrency"]["Default"]
    others = sum(
        f["Properties"]["ReservedConcurrentExecutions"]
        for n, f in functions.items()
        if n != "WebFunction"
    )
    # What the stack reserves with the defaults; docs/aws.md says so.
    assert default + others == 72


def test_only_the_web_function_may_open_http_connections_for_url_imports(resources):
    (egress,) = resources["UrlImportSecurityGroup"]["Properties"]["SecurityGroupEgress"]
    assert (egress["FromPort"], egress["ToPort"], egress["CidrIp"]) == (80, 80, "0.0.0.0/0")
    for name, function in of_type(resources, "AWS::Lambda::Function").items():
        groups = function["Properties"].get("VpcConfig", {}).get("SecurityGroupIds", [])
        assert ({"Ref": "UrlImportSecurityGroup"} in groups) == (name == "WebFunction"), name
    shared = resources["LambdaSecurityGroup"]["Properties"]["SecurityGroupEgress"]
    assert sorted(rule["FromPort"] for rule in shared) == [80, 443]
    (to_balancer,) = [rule for rule in shared if rule["FromPort"] == 80]
    assert "CidrIp" not in to_balancer  # port 80 of the inference load balancer only
    assert to_balancer["DestinationSecurityGroupId"] == {
        "Ref": "InferenceLoadBalancerSecurityGroup"
    }
