"""Deployment tests: an offline package and moto's in-process AWS."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from hosts.deploy.clients import DeployClients, deploy_clients
from hosts.deploy.package import PackageManifest, build_package
from tests.deploy.support import REGION, ROOT, FixedInstaller, fake_credentials, patch_moto


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> PackageManifest:
    return build_package(ROOT, tmp_path_factory.mktemp("package"), FixedInstaller())


def _fake_credentials(patch: pytest.MonkeyPatch) -> None:
    fake_credentials(patch)
    patch_moto(patch)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[DeployClients]:
    """A fresh moto account for one test."""
    _fake_credentials(monkeypatch)
    with mock_aws():
        yield deploy_clients(REGION, boto3.session.Session())


@pytest.fixture(scope="module")
def module_aws() -> Iterator[DeployClients]:
    """One moto account shared by a module's tests (deploying takes seconds)."""
    patch = pytest.MonkeyPatch()
    _fake_credentials(patch)
    with mock_aws():
        yield deploy_clients(REGION, boto3.session.Session())
    patch.undo()


# Resource types a destroy test keeps. moto 5.2 cannot delete the whole stack: the
# network interfaces of terminated instances and of the NAT gateway outlive them, so
# deleting the VPC fails with DependencyViolation (AWS releases them first). The
# destroy tests deploy the template's storage (buckets, tables) and its outputs.
STORAGE_TYPES = frozenset({"AWS::S3::Bucket", "AWS::DynamoDB::Table"})


@pytest.fixture(scope="session")
def storage_package(
    package: PackageManifest, tmp_path_factory: pytest.TempPathFactory
) -> PackageManifest:
    """``package`` with the template cut down to its buckets, tables and their outputs."""
    from hosts.deploy.package import MANIFEST, describe_artifact
    from tests.cloudformation.support import load_template

    template = load_template()
    kept = {k: v for k, v in template["Resources"].items() if v["Type"] in STORAGE_TYPES}
    outputs = {
        key: output
        for key, output in template["Outputs"].items()
        if _refers_only_to(output["Value"], set(kept))
    }
    smaller = {**template, "Resources": kept, "Outputs": outputs}
    folder = tmp_path_factory.mktemp("storage-package")
    for artifact in package.artifacts.values():
        (folder / artifact.file_name).write_bytes(package.path(artifact.name).read_bytes())
    template_file = folder / package.artifacts["template"].file_name
    template_file.write_text(json.dumps(smaller, indent=1))
    artifacts = dict(package.artifacts) | {"template": describe_artifact("template", template_file)}
    manifest = PackageManifest(folder, artifacts)
    (folder / MANIFEST).write_text(manifest.to_json())
    return manifest


def _refers_only_to(value: Any, kept: set[str]) -> bool:
    text = json.dumps(value)
    refs = {m for m in re.findall(r'"Ref": "(\w+)"', text)}
    refs |= {m for m in re.findall(r"\$\{(\w+)[.}]", text)}
    refs |= {m for m in re.findall(r'"Fn::GetAtt": \["(\w+)"', text)}
    return refs <= kept | {"NamePrefix"}
