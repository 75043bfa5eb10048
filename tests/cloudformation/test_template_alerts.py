"""The alerts topic: the pipeline functions that decide a failed, rejected or not-served
run name it in their settings and may publish to it, and nobody else; an e-mail
subscription exists only when the AlertEmail parameter is given."""

from __future__ import annotations

import re
from typing import Any

from catdog.settings import Settings
from tests.cloudformation.support import of_type

PUBLISHERS = {"ValidateModelFunction", "StopTrainInstanceFunction", "MarkRunFailedFunction"}
TOPIC_VARIABLE = "CATDOG_AWS_ALERTS_TOPIC_ARN"


def _publishing_roles(resources: dict[str, Any]) -> set[str]:
    roles = set()
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                if "sns:Publish" in (actions if isinstance(actions, list) else [actions]):
                    assert statement["Resource"] == {"Ref": "AlertsTopic"}, name
                    roles.add(name)
    return roles


def test_the_topic_and_an_email_subscription_only_when_an_address_is_given(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    assert resources["AlertsTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = resources["AlertsEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlertsTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlertEmail"},
    }
    assert template["Conditions"]["HasAlertEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]
    }
    parameter = template["Parameters"]["AlertEmail"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("ops@example.com")
    assert not pattern.fullmatch("not an address")
    assert template["Outputs"]["AlertsTopicArn"]["Value"] == {"Ref": "AlertsTopic"}


def test_exactly_the_publishing_functions_name_the_topic_and_only_their_role_may_publish(
    resources: dict[str, Any],
) -> None:
    functions = of_type(resources, "AWS::Lambda::Function")
    naming = {
        name
        for name, function in functions.items()
        if TOPIC_VARIABLE in function["Properties"].get("Environment", {}).get("Variables", {})
    }
    assert naming == PUBLISHERS
    for name in PUBLISHERS:
        variables = functions[name]["Properties"]["Environment"]["Variables"]
        assert variables[TOPIC_VARIABLE] == {"Ref": "AlertsTopic"}
        # The settings read the variable the template sets.
        settings = Settings.from_env({TOPIC_VARIABLE: "arn:aws:sns:eu-west-1:1:catdog-alerts"})
        assert settings.aws.alerts_topic_arn == "arn:aws:sns:eu-west-1:1:catdog-alerts"
    roles = {functions[name]["Properties"]["Role"]["Fn::GetAtt"][0] for name in PUBLISHERS}
    assert _publishing_roles(resources) == roles == {"PipelineFunctionRole"}
