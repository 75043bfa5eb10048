"""Secrets read at run time on AWS: the values never sit in an environment variable."""

from __future__ import annotations

from typing import Protocol

from catdog.settings import Settings


class SecretReader(Protocol):
    def get(self, secret_id: str) -> str: ...


def with_aws_secrets(settings: Settings, reader: SecretReader | None = None) -> Settings:
    """Fill the inference admin token and web secret key from Secrets Manager.

    Only those whose secret id is set (``CATDOG_AWS_*_SECRET``) and whose value is
    not: the values themselves never sit in an environment variable. Read once, at
    start-up (each Lambda container, each instance service start).
    """
    aws = settings.aws
    wanted = {
        "inference_admin_token": aws.inference_admin_token_secret,
        "secret_key": aws.secret_key_secret,
    }
    missing = {name: sid for name, sid in wanted.items() if sid and not getattr(settings, name)}
    if not missing:
        return settings
    if reader is None:
        from catdog.storage.aws.clients import service_client
        from catdog.storage.aws.secrets import SecretsManagerSecrets

        reader = SecretsManagerSecrets(service_client(settings, "secretsmanager"))
    return settings.with_changes(**{name: reader.get(sid) for name, sid in missing.items()})
