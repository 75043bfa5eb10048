"""Secrets Manager: secret values read at run time, once per process."""

from __future__ import annotations

import threading
from typing import Any

from catdog.errors import ServiceUnavailable


class SecretsManagerSecrets:
    """``get(secret_id)``: the secret's current string, cached for the process's life
    (a Lambda container, or an instance's service until it restarts)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, secret_id: str) -> str:
        with self._lock:
            if secret_id not in self._values:
                try:
                    answer = self._client.get_secret_value(SecretId=secret_id)
                except Exception as exc:  # botocore's errors: one domain error for the caller
                    raise ServiceUnavailable(f"cannot read secret {secret_id}: {exc}") from exc
                self._values[secret_id] = str(answer["SecretString"])
            return self._values[secret_id]
