"""ModelRegistry on DynamoDB: the champion item changes only in a conditional transaction."""

from __future__ import annotations

import builtins
import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from catdog.clock import from_iso, to_iso
from catdog.domain import ChampionChange, ModelStatus, ModelVersion, champion_change
from catdog.errors import Conflict, InvalidInput, NotFound
from catdog.storage.aws import schema as s
from catdog.storage.aws.dynamo import (
    Retry,
    decode,
    encode,
    encode_value,
    get_item,
    iter_query,
    paginate,
    transact,
    versioned_put,
    with_retries,
)

_BY_CREATED = s.index_named(s.CREATED_INDEXES, s.BY_CREATED)


class DynamoModelRegistry:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def register(self, model: ModelVersion) -> ModelVersion:
        def attempt() -> ModelVersion:
            if transact(self._client, [self._put(model, rev=None)]) is None:
                return model
            existing = self._load(model.version)
            if existing is None:
                raise Retry
            return existing[0]

        return with_retries(attempt)

    def get(self, version: str) -> ModelVersion:
        return self._require(version)[0]

    def list(self) -> builtins.list[ModelVersion]:
        items = iter_query(self._client, self._table, _BY_CREATED, s.MODEL_SK, newest_first=True)
        return [ModelVersion.from_dict(json.loads(decode(item)["body"])) for item in items]

    def champion(self) -> ModelVersion | None:
        pointer = get_item(self._client, self._table, s.CHAMPION_KEY)
        if pointer is None:
            return None
        loaded = self._load(pointer["version"])
        return None if loaded is None else loaded[0]

    def promote(
        self,
        version: str,
        expected_champion: str | None,
        by: str,
        reason: str,
        at: datetime,
        override: bool = False,
    ) -> ChampionChange:
        def attempt() -> ChampionChange:
            model, rev = self._require(version)
            pointer = get_item(self._client, self._table, s.CHAMPION_KEY)
            current = None if pointer is None else str(pointer["version"])
            seq = 0 if pointer is None else int(pointer["seq"])
            change = champion_change(
                model, current, expected_champion, by, reason, at, override=override
            )
            writes = [
                self._move_pointer(version, current, seq),
                self._put(replace(model, status=ModelStatus.CHAMPION), rev=rev),
                self._history_put(change, seq + 1),
            ]
            if current is not None and current != version:
                old = self._load(current)
                if old is not None:
                    writes.append(
                        self._put(replace(old[0], status=ModelStatus.RETIRED), rev=old[1])
                    )
            if transact(self._client, writes) is not None:
                raise Retry  # something changed since we read it: read and decide again
            return change

        return with_retries(attempt)

    def set_status(self, version: str, status: ModelStatus) -> ModelVersion:
        status = ModelStatus(status)
        if status == ModelStatus.CHAMPION:
            raise InvalidInput("use promote to make a model champion")

        def attempt() -> ModelVersion:
            model, rev = self._require(version)
            if model.status == ModelStatus.CHAMPION:
                raise Conflict(f"model {version} is the champion; promote another model first")
            updated = replace(model, status=status)
            if transact(self._client, [self._put(updated, rev=rev)]) is not None:
                raise Retry
            return updated

        return with_retries(attempt)

    def history(self) -> builtins.list[ChampionChange]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": encode_value(s.HISTORY_PK)},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        changes: builtins.list[ChampionChange] = []
        for response in paginate(self._client, request):
            for item in response.get("Items", []):
                data = json.loads(decode(item)["body"])
                changes.append(ChampionChange(**{**data, "at": from_iso(data["at"])}))
        return changes

    def _move_pointer(self, version: str, current: str | None, seq: int) -> dict[str, Any]:
        if current is None:
            return {
                "Put": {
                    "TableName": self._table,
                    "Item": encode({**s.CHAMPION_KEY, "version": version, "seq": 1}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        return {
            "Update": {
                "TableName": self._table,
                "Key": encode(s.CHAMPION_KEY),
                "UpdateExpression": "SET version = :version, seq = :next",
                "ConditionExpression": "version = :current AND seq = :seq",
                "ExpressionAttributeValues": encode(
                    {":version": version, ":next": seq + 1, ":current": current, ":seq": seq}
                ),
            }
        }

    def _history_put(self, change: ChampionChange, seq: int) -> dict[str, Any]:
        body = json.dumps(change.to_dict(), sort_keys=True)
        item = {s.PK: s.HISTORY_PK, s.SK: s.history_sk(seq), "body": body}
        return {
            "Put": {
                "TableName": self._table,
                "Item": encode(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _put(self, model: ModelVersion, *, rev: int | None) -> dict[str, Any]:
        values = {
            "body": json.dumps(model.to_dict(), sort_keys=True),
            "status": model.status.value,
            "list_pk": s.MODEL_SK,
            "created_sk": f"{to_iso(model.created_at)}#{model.version}",
        }
        return versioned_put(self._table, s.model_key(model.version), values, rev)

    def _load(self, version: str) -> tuple[ModelVersion, int] | None:
        item = get_item(self._client, self._table, s.model_key(version))
        if item is None:
            return None
        return ModelVersion.from_dict(json.loads(item["body"])), int(item["rev"])

    def _require(self, version: str) -> tuple[ModelVersion, int]:
        loaded = self._load(version)
        if loaded is None:
            raise NotFound(f"no model version {version!r}")
        return loaded
