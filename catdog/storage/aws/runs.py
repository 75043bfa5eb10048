"""TrainingRuns on DynamoDB: a lock item, written with the run, makes one run active."""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from catdog.clock import to_iso
from catdog.domain import Page, RetrainMode, RunProgress, RunStatus, TrainingRun, Trigger
from catdog.errors import NotFound, RunAlreadyActive
from catdog.storage.aws import schema as s
from catdog.storage.aws.dynamo import (
    Retry,
    decode,
    encode,
    encode_value,
    get_item,
    query_page,
    transact,
    versioned_put,
    with_retries,
)

_BY_CREATED = s.index_named(s.CREATED_INDEXES, s.BY_CREATED)
_CONDITION_FAILED = "ConditionalCheckFailed"


class DynamoTrainingRuns:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def create(
        self,
        run_id: str,
        trigger: Trigger,
        at: datetime,
        execution_id: str | None = None,
        retrain_mode: RetrainMode = RetrainMode.INCREMENTAL,
    ) -> TrainingRun:
        run = TrainingRun.new(run_id, trigger, at, execution_id, retrain_mode)

        def attempt() -> TrainingRun:
            codes = transact(self._client, [self._put(run, rev=None), self._take_lock(run_id)])
            if codes is None:
                return run
            if codes[0] == _CONDITION_FAILED:  # this run exists: creating it again is a no-op
                existing = self._load(run_id)
                if existing is None:
                    raise Retry
                return existing[0]
            if codes[1] != _CONDITION_FAILED:
                raise RuntimeError(f"creating run {run_id} was cancelled: {codes}")
            holder = get_item(self._client, self._table, s.LOCK_KEY)
            other = "another training run" if holder is None else f"training run {holder['run_id']}"
            raise RunAlreadyActive(f"{other} is still active")

        return with_retries(attempt)

    def get(self, run_id: str) -> TrainingRun:
        return self._require(run_id)[0]

    def active(self) -> TrainingRun | None:
        lock = get_item(self._client, self._table, s.LOCK_KEY)
        if lock is None:
            return None
        loaded = self._load(lock["run_id"])
        return None if loaded is None else loaded[0]

    def list(self, cursor: str | None = None, limit: int = 50) -> Page[TrainingRun]:
        items, next_cursor = query_page(
            self._client,
            self._table,
            _BY_CREATED,
            s.RUN_SK,
            cursor=cursor,
            limit=limit,
            newest_first=True,
        )
        runs = [TrainingRun.from_dict(json.loads(decode(item)["body"])) for item in items]
        return Page(runs, next_cursor)

    def record_progress(self, run_id: str, progress: RunProgress) -> None:
        def attempt() -> None:
            run, rev = self._require(run_id)
            updated = run.with_progress(progress)
            if transact(self._client, [self._put(updated, rev=rev)]) is not None:
                raise Retry

        with_retries(attempt)

    def record_serving(self, run_id: str, serving: Sequence[dict[str, Any]]) -> None:
        def attempt() -> None:
            run, rev = self._require(run_id)
            updated = replace(run, serving=list(serving))
            if transact(self._client, [self._put(updated, rev=rev)]) is not None:
                raise Retry

        with_retries(attempt)

    def transition(
        self,
        run_id: str,
        to: RunStatus,
        at: datetime,
        *,
        allowed_from: frozenset[RunStatus],
        model_version: str | None = None,
        metrics: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> TrainingRun:
        to = RunStatus(to)

        def attempt() -> TrainingRun:
            run, rev = self._require(run_id)
            if run.status == to:
                return run
            updated = run.transitioned(to, at, allowed_from, model_version, metrics, error)
            writes = [self._put(updated, rev=rev)]
            if run.status.is_active and not to.is_active:
                writes.extend(self._release_lock(run_id))
            elif not run.status.is_active and to.is_active:
                writes.append(self._take_lock(run_id))
            codes = transact(self._client, writes)
            if codes is None:
                return updated
            if codes[0] != _CONDITION_FAILED and to.is_active:
                raise RunAlreadyActive("another training run is active")
            raise Retry  # the run or the lock changed since we read them: decide again

        return with_retries(attempt)

    def _put(self, run: TrainingRun, *, rev: int | None) -> dict[str, Any]:
        values = {
            "body": json.dumps(run.to_dict(), sort_keys=True),
            "status": run.status.value,
            "list_pk": s.RUN_SK,
            "created_sk": f"{to_iso(run.created_at)}#{run.run_id}",
        }
        return versioned_put(self._table, s.run_key(run.run_id), values, rev)

    def _take_lock(self, run_id: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": encode({**s.LOCK_KEY, "run_id": run_id}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _release_lock(self, run_id: str) -> builtins.list[dict[str, Any]]:
        """Delete the lock if this run holds it (it always should; never free another's)."""
        lock = get_item(self._client, self._table, s.LOCK_KEY)
        if lock is None or lock["run_id"] != run_id:
            return []
        return [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": encode(s.LOCK_KEY),
                    "ConditionExpression": "run_id = :run_id",
                    "ExpressionAttributeValues": {":run_id": encode_value(run_id)},
                }
            }
        ]

    def _load(self, run_id: str) -> tuple[TrainingRun, int] | None:
        item = get_item(self._client, self._table, s.run_key(run_id))
        if item is None:
            return None
        return TrainingRun.from_dict(json.loads(item["body"])), int(item["rev"])

    def _require(self, run_id: str) -> tuple[TrainingRun, int]:
        loaded = self._load(run_id)
        if loaded is None:
            raise NotFound(f"no training run {run_id!r}")
        return loaded
