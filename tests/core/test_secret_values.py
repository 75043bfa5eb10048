"""Secrets on AWS: read from Secrets Manager at start-up, once, never from the environment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catdog.errors import ServiceUnavailable
from catdog.secret_values import SecretReader, with_aws_secrets
from catdog.settings import AwsResources, Settings
from catdog.storage.aws.secrets import SecretsManagerSecrets


class CountingReader(SecretReader):
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.reads: list[str] = []

    def get(self, secret_id: str) -> str:
        self.reads.append(secret_id)
        return self.values[secret_id]


def test_the_secrets_named_by_the_settings_fill_the_missing_values() -> None:
    settings = Settings.from_env(
        {
            "CATDOG_BACKEND": "aws",
            "CATDOG_AWS_INFERENCE_ADMIN_TOKEN_SECRET": "arn:token",
            "CATDOG_AWS_SECRET_KEY_SECRET": "arn:key",
        }
    )
    reader = CountingReader({"arn:token": "t0k3n", "arn:key": "k3y"})
    filled = with_aws_secrets(settings, reader)
    assert (filled.inference_admin_token, filled.secret_key) == ("t0k3n", "k3y")
    assert sorted(reader.reads) == ["arn:key", "arn:token"]


def test_nothing_is_read_without_a_secret_id_or_when_the_value_is_given() -> None:
    reader = CountingReader({})
    assert with_aws_secrets(Settings(backend="aws"), reader) == Settings(backend="aws")
    given = Settings(
        backend="aws",
        inference_admin_token="set",
        aws=AwsResources(inference_admin_token_secret="arn:token"),
    )
    assert with_aws_secrets(given, reader).inference_admin_token == "set"
    assert reader.reads == []


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )
    with mock_aws():
        yield session.client("secretsmanager", region_name="eu-west-1")


def test_secrets_manager_values_are_read_once_per_process(secretsmanager: Any) -> None:
    arn = secretsmanager.create_secret(Name="catdog/token", SecretString="first")["ARN"]
    secrets = SecretsManagerSecrets(secretsmanager)
    assert secrets.get(arn) == "first"
    secretsmanager.put_secret_value(SecretId=arn, SecretString="rotated")
    assert secrets.get(arn) == "first"  # cached: a new container reads the rotated one
    assert SecretsManagerSecrets(secretsmanager).get(arn) == "rotated"


def test_an_unreadable_secret_is_service_unavailable(secretsmanager: Any) -> None:
    with pytest.raises(ServiceUnavailable):
        SecretsManagerSecrets(secretsmanager).get("catdog/missing")
