"""Alerts for managers on DynamoDB, in the training-runs table (layout in ``schema``):
one item per alert, and a marker in the open-alerts partition while it is open."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from catdog.alerts import Alert
from catdog.clock import to_iso
from catdog.errors import NotFound
from catdog.storage.aws import schema as s
from catdog.storage.aws.dynamo import (
    Retry,
    decode,
    encode,
    get_item,
    transact,
    versioned_put,
    with_retries,
)
from catdog.storage.cursor import check_limit

_CONDITION_FAILED = "ConditionalCheckFailed"


class DynamoAlerts:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def raise_alert(self, alert: Alert) -> bool:
        def attempt() -> bool:
            writes = [self._put(alert, rev=None), self._marker(alert)]
            codes = transact(self._client, writes)
            if codes is None:
                return True
            if codes[0] == _CONDITION_FAILED:  # raised before: leave it as it is
                return False
            raise Retry

        return with_retries(attempt)

    def find(self, alert_id: str) -> Alert | None:
        loaded = self._load(alert_id)
        return None if loaded is None else loaded[0]

    def open_alerts(self, limit: int = 20) -> list[Alert]:
        check_limit(limit)
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=encode({":pk": s.OPEN_ALERTS_PK}),
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        return [Alert.from_dict(json.loads(decode(i)["body"])) for i in response["Items"]]

    def acknowledge(self, alert_id: str, by: str, at: datetime) -> Alert:
        def attempt() -> Alert:
            loaded = self._load(alert_id)
            if loaded is None:
                raise NotFound(f"no alert {alert_id!r}")
            alert, rev = loaded
            if not alert.is_open:
                return alert
            done = alert.acknowledged(by, at)
            remove = {"Delete": {"TableName": self._table, "Key": encode(_marker_key(alert))}}
            if transact(self._client, [self._put(done, rev=rev), remove]) is not None:
                raise Retry  # changed since we read it: look again
            return done

        return with_retries(attempt)

    def _put(self, alert: Alert, *, rev: int | None) -> dict[str, Any]:
        body = json.dumps(alert.to_dict(), sort_keys=True)
        return versioned_put(self._table, s.alert_key(alert.alert_id), {"body": body}, rev)

    def _marker(self, alert: Alert) -> dict[str, Any]:
        body = json.dumps(alert.to_dict(), sort_keys=True)
        return {
            "Put": {"TableName": self._table, "Item": encode({**_marker_key(alert), "body": body})}
        }

    def _load(self, alert_id: str) -> tuple[Alert, int] | None:
        item = get_item(self._client, self._table, s.alert_key(alert_id))
        if item is None:
            return None
        return Alert.from_dict(json.loads(item["body"])), int(item["rev"])


def _marker_key(alert: Alert) -> dict[str, str]:
    return {s.PK: s.OPEN_ALERTS_PK, s.SK: f"{to_iso(alert.raised_at)}#{alert.alert_id}"}
