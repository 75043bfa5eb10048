"""The template wires the units as the code expects: handlers, ARNs, settings, schedule."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from typing import Any

from catdog.pipeline.ec2_compute import RUN_TAG
from catdog.pipeline.names import LambdaFunction
from catdog.settings import PREFIX, AwsResources, Settings
from hosts.deploy.outputs import OUTPUT_ENV
from lambdas import handlers
from tests.cloudformation.support import ROOT, boot_script, of_type, render_name

ASL_PATH = ROOT / "workflows" / "retrain.asl.json"
SETTING_NAMES = {PREFIX + f.name.upper() for f in fields(Settings) if f.name != "aws"} | {
    PREFIX + "AWS_" + f.name.upper() for f in fields(AwsResources)
}
EVERY_FUNCTION_NEEDS = {
    "CATDOG_BACKEND",
    "CATDOG_DATA_DIR",
    "CATDOG_AWS_REGION",
    "CATDOG_AWS_IMAGES_BUCKET",
    "CATDOG_AWS_MODELS_BUCKET",
    "CATDOG_AWS_STATIC_BUCKET",
    "CATDOG_AWS_IMAGES_TABLE",
    "CATDOG_AWS_SETTINGS_TABLE",
    "CATDOG_AWS_RUNS_TABLE",
    "CATDOG_AWS_MODELS_TABLE",
    "CATDOG_AWS_STATE_MACHINE_ARN",
    "CATDOG_AWS_TRAIN_INSTANCE_ID",
    "CATDOG_INFERENCE_URL",
}
RUN_TEMPLATE = "InferenceLaunchTemplate"  # the Run instances of the inference group


def _functions(resources: dict[str, Any]) -> dict[str, Any]:
    return of_type(resources, "AWS::Lambda::Function")


def test_substitutions_cover_exactly_the_placeholders_of_the_committed_asl(resources):
    placeholders = set(re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text()))
    substitutions = resources["RetrainStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert set(substitutions) == placeholders == {f.placeholder for f in LambdaFunction}


def test_each_step_arn_is_the_function_running_that_steps_handler(resources):
    substitutions = resources["RetrainStateMachine"]["Properties"]["DefinitionSubstitutions"]
    for step in LambdaFunction:
        logical_id, attribute = substitutions[step.placeholder]["Fn::GetAtt"]
        assert attribute == "Arn"
        properties = resources[logical_id]["Properties"]
        assert properties["Handler"] == f"lambdas.handlers.{step.value}"
        assert render_name(properties["FunctionName"]) == f"catdog-{step.function_suffix}"
        assert callable(getattr(handlers, step.value))
        assert properties["Code"]["S3Key"] == {"Ref": "LambdaBundleKey"}


def test_the_web_function_runs_the_web_bundle_handler(resources):
    properties = resources["WebFunction"]["Properties"]
    assert properties["Handler"] == "web.lambda_handler.handler"
    assert properties["Code"]["S3Key"] == {"Ref": "WebBundleKey"}
    assert (ROOT / "web" / "lambda_handler.py").is_file()
    assert properties["Timeout"] <= 29  # API Gateway gives up after 29 seconds


def test_every_function_is_traced_and_configured_for_aws(resources):
    functions = _functions(resources)
    assert len(functions) == len(LambdaFunction) + 2  # the web app, ClassifyPending
    for name, function in functions.items():
        properties = function["Properties"]
        assert properties["TracingConfig"] == {"Mode": "Active"}, name
        assert properties["Runtime"] == "python3.11", name
        env = properties["Environment"]["Variables"]
        assert env["CATDOG_BACKEND"] == "aws"
        assert env["CATDOG_DATA_DIR"].startswith("/tmp/")  # the only writable place
        assert set(env) >= EVERY_FUNCTION_NEEDS, name
        assert set(env) <= SETTING_NAMES, f"{name}: {set(env) - SETTING_NAMES}"
        log_group = properties["LoggingConfig"]["LogGroup"]["Ref"]
        assert render_name(resources[log_group]["Properties"]["LogGroupName"]) == (
            "/aws/lambda/" + render_name(properties["FunctionName"])
        )


def test_lambda_logs_are_only_written_by_the_functions_own_roles(resources):
    for function in _functions(resources).values():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0][
            "Principal"
        ] == {"Service": "lambda.amazonaws.com"}


def test_the_state_machine_logs_and_traces(resources):
    properties = resources["RetrainStateMachine"]["Properties"]
    assert properties["DefinitionS3Location"] == {
        "Bucket": {"Ref": "ArtifactsBucket"},
        "Key": {"Ref": "DefinitionKey"},
    }
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    destination = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
    assert destination == {"Fn::GetAtt": ["StateMachineLogGroup", "Arn"]}
    name = render_name(properties["StateMachineName"])
    env_arn = resources["WebFunction"]["Properties"]["Environment"]["Variables"][
        "CATDOG_AWS_STATE_MACHINE_ARN"
    ]["Fn::Sub"]
    assert env_arn.endswith(":stateMachine:${NamePrefix}-retrain") and name == "catdog-retrain"


def test_the_schedule_starts_a_scheduled_execution_every_three_minutes(resources):
    properties = resources["RetrainSchedule"]["Properties"]
    assert properties["ScheduleExpression"] == "rate(3 minutes)"
    (target,) = properties["Targets"]
    assert target["Arn"] == {"Ref": "RetrainStateMachine"}
    assert json.loads(target["Input"]) == {"trigger": "schedule"}


def test_outputs_name_every_resource_the_app_reads(template):
    outputs = template["Outputs"]
    assert set(OUTPUT_ENV) <= set(outputs)
    assert set(OUTPUT_ENV.values()) <= SETTING_NAMES | {"CATDOG_INFERENCE_URL"}
    assert "WebUrl" in outputs


def test_the_train_instance_trains_the_run_of_its_tag_then_stops(resources):
    properties = resources["TrainInstance"]["Properties"]
    assert properties["InstanceInitiatedShutdownBehavior"] == "stop"
    script = properties["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert f"meta-data/tags/instance/{RUN_TAG}" in script
    assert 'python -m training_job --run-id "$1"' in script
    assert "systemctl poweroff" in script
    metadata = resources["InstanceLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert metadata["MetadataOptions"]["InstanceMetadataTags"] == "enabled"
    assert metadata["MetadataOptions"]["HttpTokens"] == "required"


def test_the_train_instance_gets_the_full_retrain_time_budget(template, resources):
    script = boot_script(resources, "TrainInstance")
    assert "\nCATDOG_TRAINING_TIME_BUDGET_MINUTES=${FullRetrainMinutes}\n" in script
    parameters = template["Parameters"]
    budget = parameters["FullRetrainMinutes"]
    assert budget["Default"] == Settings().training_time_budget_minutes
    # A run that uses its whole budget still ends well before the pipeline gives up on it.
    assert budget["Default"] * 60 < parameters["TrainingTimeoutSeconds"]["Default"] / 2


def test_the_run_instances_serve_inference_as_a_systemd_service(resources):
    script = boot_script(resources, RUN_TEMPLATE)
    assert "ExecStart=/opt/catdog/venv/bin/python -m inference_server" in script
    assert "systemctl restart catdog-inference.service" in script
    assert "set +x  # keep the token out" in script
    assert "amazon-cloudwatch-agent-ctl" in script
    for rule, source in (
        ("InferenceFromLoadBalancer", "InferenceLoadBalancerSecurityGroup"),
        ("InferenceFromAdmin", "InferenceAdminSecurityGroup"),
    ):
        ingress = resources[rule]["Properties"]
        assert ingress["SourceSecurityGroupId"] == {"Ref": source}
        assert (ingress["FromPort"], ingress["ToPort"]) == (8501, 8501)


def test_instances_install_a_changed_bundle_at_every_boot(resources):
    """cloud-init runs user data once unless told otherwise; a stack update that changes
    the bundle restarts the instances, and they must then install it."""
    for name in (RUN_TEMPLATE, "TrainInstance"):
        script = boot_script(resources, name)
        assert "cloud_final_modules:\n- [scripts-user, always]" in script
        assert '!= "${AppBundleKey}" ]; then' in script
        assert 'aws s3 cp "s3://${ArtifactsBucket}/${AppBundleKey}"' in script


def test_instances_and_lambdas_share_the_settings_names(resources):
    """Every CATDOG_* line the instances write into /etc/catdog/env is a setting."""
    for name in (RUN_TEMPLATE, "TrainInstance"):
        script = boot_script(resources, name)
        written = set(re.findall(r"^(CATDOG_[A-Z_]+)=", script, flags=re.MULTILINE))
        assert {"CATDOG_BACKEND", "CATDOG_AWS_MODELS_TABLE"} <= written
        assert written <= SETTING_NAMES, written - SETTING_NAMES


def test_the_api_passes_binary_bodies_and_traces(resources):
    """Uploads arrive base64-encoded (apig-wsgi decodes them); the stage traces to X-Ray."""
    assert resources["WebApi"]["Properties"]["BinaryMediaTypes"] == ["*/*"]
    stage = resources["WebApiDeployment"]["Properties"]["StageDescription"]
    assert stage["TracingEnabled"] is True
    permission = resources["WebInvokePermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"].endswith(":${WebApi}/*")
