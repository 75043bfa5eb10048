"""``catdog deploy`` against moto's CloudFormation (in-process): what the stack creates.

moto creates most of the template's resource types. The ones it cannot create are
listed in MOTO_CANNOT_CREATE with the reason (the test fails if that list is no
longer exactly right), and properties moto accepts but ignores are checked on the
template itself in tests/cloudformation/.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.cloudformation.parsing import get_model_map

from catdog.pipeline.names import LambdaFunction
from catdog.settings import AwsResources, Settings
from catdog.storage.aws import build_aws_storage
from catdog.storage.aws.schema import table_definitions
from hosts.deploy.deployer import DeployPlan, execute_deploy, plan_deploy
from hosts.deploy.outputs import OUTPUT_ENV, settings_from_outputs
from hosts.deploy.stack import StackAction
from tests.cloudformation.support import load_template

# moto warns about each resource type it skips (listed in tests/deploy/test_deploy_moto.py).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")
STACK = "catdog"
MOTO_CANNOT_CREATE = {
    "AWS::S3::BucketPolicy": "moto 5.2 has no CloudFormation model for bucket policies "
    "(the TLS-only statements are checked in tests/cloudformation/test_template_storage.py)",
    "AWS::SecretsManager::Secret": "no CloudFormation model in moto; so the "
    "{{resolve:secretsmanager:...}} references stay unresolved text",
    "AWS::Cognito::UserPool": "no CloudFormation model for Cognito in moto",
    "AWS::Cognito::UserPoolClient": "no CloudFormation model for Cognito in moto",
    "AWS::Cognito::UserPoolDomain": "no CloudFormation model for Cognito in moto",
    "AWS::WAFv2::WebACL": "no CloudFormation model for WAFv2 in moto (the rate-based"
    " rules are checked in tests/cloudformation/test_template_abuse.py)",
    "AWS::WAFv2::WebACLAssociation": "no CloudFormation model for WAFv2 in moto",
    "AWS::CloudWatch::Alarm": "no CloudFormation model for alarms in moto 5.2 (checked in"
    " tests/cloudformation/test_template_pending.py and test_template_alarms.py)",
    "AWS::Logs::MetricFilter": "no CloudFormation model for metric filters in moto 5.2"
    " (checked in tests/cloudformation/test_template_alarms.py)",
    "AWS::AutoScaling::ScalingPolicy": "no CloudFormation model for scaling policies in moto"
    " 5.2 (target tracking checked in tests/cloudformation/test_template_inference_tier.py)",
    "AWS::SNS::Subscription": "no CloudFormation model for SNS subscriptions in moto 5.2 (the"
    " AlertEmail subscription and its condition are checked in test_template_alerts.py)",
}
# Properties moto accepts but does not apply (checked on the template instead, in
# tests/cloudformation/): bucket PublicAccessBlockConfiguration and
# VersioningConfiguration, Lambda TracingConfig, the state machine's
# DefinitionS3Location, DefinitionSubstitutions, logging and tracing, the REST
# API's BinaryMediaTypes, table PITR and SSE settings.
# Outputs that refer to resources moto skips.
OUTPUTS_MOTO_CANNOT_GIVE = {"CognitoUserPoolId", "CognitoClientId", "CognitoDomain"}


@pytest.fixture(scope="module")
def deployed(module_aws, package) -> dict[str, Any]:
    plan = plan_deploy(module_aws, package, STACK)
    messages: list[str] = []
    outputs = execute_deploy(module_aws, plan, messages.append, poll_seconds=1)
    return {"plan": plan, "outputs": outputs, "messages": messages, "clients": module_aws}


def _client(deployed: dict[str, Any], service: str) -> Any:
    import boto3

    return boto3.client(service, region_name="us-east-1")


def test_the_unsupported_list_is_exactly_what_moto_cannot_create():
    types = {r["Type"] for r in load_template()["Resources"].values()}
    assert types - set(get_model_map()) == set(MOTO_CANNOT_CREATE)


def test_a_first_deploy_creates_the_stack_and_uploads_everything(deployed):
    plan: DeployPlan = deployed["plan"]
    assert plan.action is StackAction.CREATE
    assert not plan.bucket_exists
    assert plan.bucket == "catdog-artifacts-123456789012-us-east-1"
    assert {u.name for u in plan.uploads} == {"app", "definition", "lambda", "template", "web"}
    assert all(u.needed for u in plan.uploads)
    assert plan.describe()[0] == "stack catdog in us-east-1: CREATE"
    cfn = deployed["clients"].cloudformation
    assert cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_the_outputs_give_every_setting_moto_can_create(deployed):
    outputs = deployed["outputs"]
    assert set(OUTPUT_ENV) - set(outputs) == OUTPUTS_MOTO_CANNOT_GIVE
    settings = settings_from_outputs(outputs)
    assert settings.backend == "aws"
    assert settings.aws.images_table == "catdog-images"
    assert settings.aws.models_bucket == "catdog-models-123456789012-us-east-1"
    assert settings.aws.state_machine_arn == (
        "arn:aws:states:us-east-1:123456789012:stateMachine:catdog-retrain"
    )
    assert settings.aws.train_instance_id and settings.aws.train_instance_id.startswith("i-")


def test_buckets_are_created_encrypted(deployed):
    s3 = _client(deployed, "s3")
    outputs = deployed["outputs"]
    for key in ("ImagesBucket", "ModelsBucket", "StaticBucket"):
        rules = s3.get_bucket_encryption(Bucket=outputs[key])["ServerSideEncryptionConfiguration"]
        assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_tables_have_the_schema_keys_and_indexes(deployed):
    dynamodb = _client(deployed, "dynamodb")
    for definition in table_definitions(AwsResources()):
        table = dynamodb.describe_table(TableName=definition["TableName"])["Table"]
        assert table["KeySchema"] == definition["KeySchema"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            definition["AttributeDefinitions"], key=str
        )
        indexes = {i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])}
        assert indexes == {
            i["IndexName"]: i["KeySchema"] for i in definition.get("GlobalSecondaryIndexes", [])
        }


def test_the_storage_adapters_work_on_the_deployed_tables_and_buckets(deployed):
    """The AWS adapters, configured from the outputs alone, read and write the stack."""
    from catdog.domain import ManagerSettings

    storage = build_aws_storage(settings_from_outputs(deployed["outputs"]))
    assert storage.registry.champion() is None
    assert storage.catalog.counts().images == 0
    changed = ManagerSettings().to_dict() | {"label_threshold": 7}
    storage.settings.put(ManagerSettings.from_dict(changed))
    assert storage.settings.get().label_threshold == 7
    storage.blobs.put("models", "probe/x.txt", b"x", "text/plain")
    assert storage.blobs.get("models", "probe/x.txt").data == b"x"


def test_every_function_exists_with_its_handler_settings_and_network(deployed):
    lam = _client(deployed, "lambda")
    outputs = deployed["outputs"]
    for step in LambdaFunction:
        config = lam.get_function_configuration(FunctionName=f"catdog-{step.function_suffix}")
        assert config["Handler"] == f"lambdas.handlers.{step.value}"
        assert config["Runtime"] == "python3.11"
        env = config["Environment"]["Variables"]
        assert env["CATDOG_BACKEND"] == "aws"
        assert env["CATDOG_AWS_RUNS_TABLE"] == outputs["RunsTable"]
        assert env["CATDOG_AWS_TRAIN_INSTANCE_ID"] == outputs["TrainInstanceId"]
        assert env["CATDOG_AWS_STATE_MACHINE_ARN"] == outputs["StateMachineArn"]
        assert env["CATDOG_INFERENCE_URL"] == outputs["InferenceUrl"]
        in_vpc = bool(config.get("VpcConfig", {}).get("SubnetIds"))
        assert in_vpc == (step is LambdaFunction.SIGNAL_INFERENCE_SERVER), step
    web = lam.get_function_configuration(FunctionName="catdog-web")
    assert web["Handler"] == "web.lambda_handler.handler"
    assert len(web["VpcConfig"]["SubnetIds"]) == 2
    assert web["Environment"]["Variables"]["CATDOG_AWS_IMAGES_BUCKET"] == outputs["ImagesBucket"]


def _function_settings(lam: Any, name: str) -> Settings:
    env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    return Settings.from_env({key: str(value) for key, value in env.items()})


def test_every_function_environment_builds_the_settings_of_the_stack(deployed):
    """What each Lambda's ``Settings.from_env`` sees: valid, AWS, and the stack's names."""
    lam = _client(deployed, "lambda")
    expected = settings_from_outputs(deployed["outputs"]).aws
    names = [f"catdog-{step.function_suffix}" for step in LambdaFunction] + ["catdog-web"]
    for name in names:
        settings = _function_settings(lam, name)
        assert settings.backend == "aws"
        assert str(settings.data_dir).startswith("/tmp/")
        for field in ("images_bucket", "models_bucket", "images_table", "runs_table"):
            assert getattr(settings.aws, field) == getattr(expected, field), (name, field)
        assert settings.aws.train_instance_id == expected.train_instance_id
        assert settings.inference_base_url == deployed["outputs"]["InferenceUrl"]
    # Lambda takes at most 6 MB of request, and uploads arrive base64-encoded.
    assert _function_settings(lam, "catdog-web").max_upload_bytes == 4_000_000


def test_the_state_machine_and_its_schedule(deployed):
    sfn = _client(deployed, "stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=deployed["outputs"]["StateMachineArn"])
    assert machine["name"] == "catdog-retrain"
    events = _client(deployed, "events")
    rule = events.describe_rule(Name="catdog-retrain-schedule")
    assert rule["ScheduleExpression"] == "rate(3 minutes)"
    assert rule["State"] == "ENABLED"
    (target,) = events.list_targets_by_rule(Rule="catdog-retrain-schedule")["Targets"]
    assert target["Arn"] == machine["stateMachineArn"]
    assert json.loads(target["Input"]) == {"trigger": "schedule"}
    iam = _client(deployed, "iam")
    role_name = target["RoleArn"].rsplit("/", 1)[-1]
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    # moto returns the document as the text of a Python dict, not JSON
    text = document if isinstance(document, str) else json.dumps(document)
    assert "states:StartExecution" in text and machine["stateMachineArn"] in text


def test_the_instances_and_their_network(deployed):
    ec2 = _client(deployed, "ec2")
    outputs = deployed["outputs"]
    (group,) = _client(deployed, "autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[outputs["InferenceGroupName"]]
    )["AutoScalingGroups"]
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (1, 1, 4)
    run_ids = [i["InstanceId"] for i in group["Instances"]]
    answer = ec2.describe_instances(InstanceIds=[outputs["TrainInstanceId"], *run_ids])
    instances = {i["InstanceId"]: i for r in answer["Reservations"] for i in r["Instances"]}
    assert len(instances) == 2
    subnets = {i["SubnetId"] for i in instances.values()}
    cidrs = {s["CidrBlock"] for s in ec2.describe_subnets(SubnetIds=list(subnets))["Subnets"]}
    assert cidrs <= {"10.42.10.0/24", "10.42.11.0/24"}  # private: no public address
    assert all("PublicIpAddress" not in i for i in instances.values())
    (balancer,) = _client(deployed, "elbv2").describe_load_balancers(Names=["catdog-inference"])[
        "LoadBalancers"
    ]
    assert balancer["Scheme"] == "internal"
    assert outputs["InferenceUrl"] == f"http://{balancer['DNSName']}"
    settings = settings_from_outputs(outputs)
    assert settings.aws.inference_group_name == group["AutoScalingGroupName"]


def test_the_web_api_proxies_every_path_to_the_web_function(deployed):
    apigateway = _client(deployed, "apigateway")
    (api,) = apigateway.get_rest_apis()["items"]
    assert api["name"] == "catdog-web"
    paths = {r["path"] for r in apigateway.get_resources(restApiId=api["id"])["items"]}
    assert paths == {"/", "/{proxy+}"}
    assert deployed["outputs"]["WebUrl"] == (
        f"https://{api['id']}.execute-api.us-east-1.amazonaws.com/app/"
    )


def test_the_pending_queue_feeds_its_consumer_and_redrives_to_its_dead_letter_queue(deployed):
    outputs = deployed["outputs"]
    sqs = _client(deployed, "sqs")
    url = outputs["PendingQueueUrl"]
    assert settings_from_outputs(outputs).aws.pending_queue_url == url
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    dlq_url = sqs.get_queue_url(QueueName="catdog-pending-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    assert redrive["deadLetterTargetArn"] == dlq_arn["Attributes"]["QueueArn"]
    lam = _client(deployed, "lambda")
    (mapping,) = lam.list_event_source_mappings(FunctionName="catdog-classify-pending")[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == attributes["QueueArn"]
    config = lam.get_function_configuration(FunctionName="catdog-classify-pending")
    assert config["Handler"] == "lambdas.handlers.classify_pending"
    web_env = lam.get_function_configuration(FunctionName="catdog-web")["Environment"]
    assert web_env["Variables"]["CATDOG_AWS_PENDING_QUEUE_URL"] == url


def test_log_groups_keep_logs_for_the_retention_parameter(deployed):
    logs = _client(deployed, "logs")
    groups = {
        g["logGroupName"]: g.get("retentionInDays") for g in logs.describe_log_groups()["logGroups"]
    }
    expected = {f"/aws/lambda/catdog-{s.function_suffix}" for s in LambdaFunction} | {
        "/aws/lambda/catdog-web",
        "/aws/lambda/catdog-classify-pending",
        "/aws/vendedlogs/states/catdog-retrain",
        "/catdog/catdog/instances",
    }
    assert expected <= set(groups)
    assert {groups[name] for name in expected} == {30}


def test_a_second_deploy_of_the_same_package_uploads_nothing_and_updates(deployed, package):
    plan = plan_deploy(deployed["clients"], package, STACK)
    assert plan.action is StackAction.UPDATE
    assert plan.bucket_exists
    assert not any(u.needed for u in plan.uploads)
    assert plan.parameters == deployed["plan"].parameters


def test_deploying_an_unchanged_package_changes_nothing(deployed, package):
    said: list[str] = []
    plan = plan_deploy(deployed["clients"], package, STACK)
    outputs = execute_deploy(deployed["clients"], plan, said.append, poll_seconds=1)
    assert "no changes: the stack already matches this package" in said
    assert not any(message.startswith("uploading") for message in said)
    assert outputs == deployed["outputs"]
