"""SettingsStore on DynamoDB: one item holding the manager settings as JSON."""

from __future__ import annotations

import json
from typing import Any

from catdog.domain import ManagerSettings
from catdog.storage.aws import schema as s
from catdog.storage.aws.dynamo import encode, get_item


class DynamoSettingsStore:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def get(self) -> ManagerSettings:
        item = get_item(self._client, self._table, s.SETTINGS_KEY)
        if item is None:
            return ManagerSettings()
        return ManagerSettings.from_dict(json.loads(item["body"]))

    def put(self, settings: ManagerSettings) -> None:
        body = json.dumps(settings.to_dict(), sort_keys=True)
        self._client.put_item(TableName=self._table, Item=encode({**s.SETTINGS_KEY, "body": body}))
