"""The composition root for storage: adapters chosen by ``settings.backend``."""

from __future__ import annotations

from catdog.settings import Settings
from catdog.storage.ports import Storage


def build_storage(settings: Settings) -> Storage:
    if settings.backend == "aws":
        from catdog.storage.aws import build_aws_storage

        return build_aws_storage(settings)
    from catdog.storage.local import build_local_storage

    return build_local_storage(settings)
