"""``catdog destroy`` and the CLI commands, against moto's in-process AWS.

They deploy ``storage_package`` (the template's buckets and tables): moto cannot
delete the full stack (see STORAGE_TYPES in conftest.py).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from catdog.errors import NotFound
from hosts.cli import main
from hosts.deploy.deployer import execute_deploy, plan_deploy
from hosts.deploy.destroyer import empty_bucket, execute_destroy, plan_destroy
from hosts.deploy.stack import stack_status

STACK = "catdog"


def _deploy(aws, package) -> dict[str, str]:
    return execute_deploy(aws, plan_deploy(aws, package, STACK), lambda _: None, poll_seconds=1)


def _bucket_exists(aws, bucket: str) -> bool:
    try:
        aws.s3.head_bucket(Bucket=bucket)
        return True
    except ClientError:
        return False


def test_destroy_empties_every_version_then_deletes_the_stack(aws, storage_package):
    outputs = _deploy(aws, storage_package)
    models = outputs["ModelsBucket"]
    # moto ignores VersioningConfiguration in templates: turn it on as AWS would have.
    aws.s3.put_bucket_versioning(Bucket=models, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2"):
        aws.s3.put_object(Bucket=models, Key="models/m1/model.keras", Body=body)
    aws.s3.delete_object(Bucket=models, Key="models/m1/model.keras")  # a delete marker
    aws.s3.put_object(Bucket=outputs["ImagesBucket"], Key="originals/a.jpg", Body=b"jpg")

    plan = plan_destroy(aws, STACK)
    assert set(plan.buckets) == {
        outputs["ImagesBucket"],
        outputs["ModelsBucket"],
        outputs["StaticBucket"],
    }
    assert plan.artifacts_bucket is None
    said: list[str] = []
    execute_destroy(aws, plan, said.append, poll_seconds=1)

    assert stack_status(aws.cloudformation, STACK) is None
    assert f"emptying {models}: 3 objects deleted" in said
    for bucket in plan.buckets:
        assert not _bucket_exists(aws, bucket)
    artifacts = plan_deploy(aws, storage_package, STACK).bucket
    assert _bucket_exists(aws, artifacts)  # kept: not part of the stack


def test_destroy_can_purge_the_artifacts_bucket_too(aws, storage_package):
    _deploy(aws, storage_package)
    plan = plan_destroy(aws, STACK, purge_artifacts=True)
    assert plan.artifacts_bucket == "catdog-artifacts-123456789012-us-east-1"
    execute_destroy(aws, plan, lambda _: None, poll_seconds=1)
    assert not _bucket_exists(aws, plan.artifacts_bucket)


def test_destroying_a_missing_stack_is_not_found(aws):
    with pytest.raises(NotFound):
        plan_destroy(aws, "nothing-here")


def test_emptying_a_bucket_that_is_gone_deletes_nothing(aws):
    assert empty_bucket(aws.s3, "never-created") == 0


def test_the_cli_plans_deploys_prints_outputs_and_destroys(aws, storage_package, capsys):
    region = ["--stack", STACK, "--region", "us-east-1"]
    assert main(["deploy", *region, "--package", str(storage_package.folder), "--plan"]) == 0
    planned = capsys.readouterr().out
    assert "stack catdog in us-east-1: CREATE" in planned
    assert "will be created" in planned
    assert stack_status(aws.cloudformation, STACK) is None  # a plan changes nothing

    assert main(["deploy", *region, "--package", str(storage_package.folder)]) == 0
    deployed = capsys.readouterr().out
    assert "uploading lambda -> s3://catdog-artifacts-123456789012-us-east-1/catdog/lambda-" in (
        deployed
    )
    assert "CATDOG_AWS_IMAGES_TABLE=catdog-images" in deployed
    assert "static files" in deployed
    assert stack_status(aws.cloudformation, STACK) == "CREATE_COMPLETE"
    static = aws.s3.list_objects_v2(Bucket="catdog-static-123456789012-us-east-1")
    assert any(o["Key"].endswith("style.css") for o in static.get("Contents", []))

    assert main(["outputs", *region, "--env"]) == 0
    exported = capsys.readouterr().out.splitlines()
    assert "export CATDOG_BACKEND=aws" in exported
    assert "export CATDOG_AWS_RUNS_TABLE=catdog-training-runs" in exported

    assert main(["destroy", *region]) == 2  # without --yes nothing is deleted
    assert stack_status(aws.cloudformation, STACK) == "CREATE_COMPLETE"
    assert main(["destroy", *region, "--yes"]) == 0
    assert stack_status(aws.cloudformation, STACK) is None


def test_outputs_of_a_missing_stack_is_not_found(aws, capsys):
    assert main(["outputs", "--stack", "nothing-here", "--region", "us-east-1"]) == 3
    assert "no stack named nothing-here" in capsys.readouterr().err


def test_the_cli_refuses_a_stack_name_that_cannot_prefix_resource_names(
    aws, storage_package, capsys
):
    code = main(["deploy", "--stack", "Catdog_Prod", "--package", str(storage_package.folder)])
    assert code == 2
    assert "stack name" in capsys.readouterr().err
