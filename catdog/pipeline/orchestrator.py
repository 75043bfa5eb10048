"""The orchestrator: start, list and inspect executions of the retraining state machine.

One code path for AWS and local: it talks to an injected boto3 ``stepfunctions``
client (AWS's endpoint, or the local moto server's). Executions that the local
server no longer holds come from the archive.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from catdog.clock import Clock, utc_now
from catdog.errors import CatdogError, Conflict, NotFound, ServiceUnavailable
from catdog.pipeline.archive import ExecutionArchive
from catdog.pipeline.executions import ExecutionDetail, ExecutionSummary

STATE_MACHINE_NAME = "catdog-retrain"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_FOUND = {"ExecutionDoesNotExist", "StateMachineDoesNotExist", "ResourceNotFound"}


def _mapped(exc: Exception) -> CatdogError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _NOT_FOUND:
            return NotFound(str(exc))
        if code == "ExecutionAlreadyExists":
            return Conflict(str(exc))
    return ServiceUnavailable(f"the orchestrator cannot be reached: {exc}")


def execution_name(trigger: str, clock: Clock = utc_now) -> str:
    """Unique, sortable, and valid both as an execution name and as a run id."""
    return f"{trigger}-{clock().strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(3)}"


class Orchestrator:
    def __init__(
        self,
        client: Any,
        state_machine_arn: str | None = None,
        archive: ExecutionArchive | None = None,
        state_machine_name: str = STATE_MACHINE_NAME,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sfn = client
        self._arn = state_machine_arn
        self._archive = archive
        self._name = state_machine_name
        self._clock = clock
        self._sleep = sleep

    @property
    def state_machine_name(self) -> str:
        return self._name

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._sfn, method)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _mapped(exc) from exc

    @property
    def state_machine_arn(self) -> str:
        if self._arn is None:
            try:
                pages = list(self._sfn.get_paginator("list_state_machines").paginate())
            except (ClientError, BotoCoreError) as exc:
                raise _mapped(exc) from exc
            for machine in (m for page in pages for m in page["stateMachines"]):
                if machine["name"] == self._name:
                    self._arn = str(machine["stateMachineArn"])
                    return self._arn
            raise NotFound(f"no state machine named {self._name}")
        return self._arn

    def execution_arn(self, name: str) -> str:
        if name.startswith("arn:"):
            return name
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name

    def start_execution(self, execution_input: dict[str, Any], name: str | None = None) -> str:
        """Start an execution (named after its trigger when ``name`` is None); returns its ARN."""
        name = name or execution_name(str(execution_input.get("trigger", "manual")), self._clock)
        answer = self._call(
            "start_execution",
            stateMachineArn=self.state_machine_arn,
            name=name,
            input=json.dumps(execution_input),
        )
        return str(answer["executionArn"])

    def list_executions(self, limit: int = 50) -> list[ExecutionSummary]:
        """Live and archived executions, newest first (live wins over its archived copy)."""
        by_arn: dict[str, ExecutionSummary] = {}
        if self._archive is not None:
            by_arn.update((s.execution_arn, s) for s in self._archive.list(limit))
        try:
            answer = self._call(
                "list_executions", stateMachineArn=self.state_machine_arn, maxResults=limit
            )
        except ServiceUnavailable:
            if self._archive is None:
                raise
            answer = {"executions": []}
        by_arn.update(
            (item["executionArn"], ExecutionSummary.from_api(item)) for item in answer["executions"]
        )
        ordered = sorted(by_arn.values(), key=lambda s: s.start_date or _EPOCH, reverse=True)
        return ordered[:limit]

    def describe_execution(self, arn_or_name: str) -> ExecutionDetail:
        """Summary, input, output and full event history; raises NotFound."""
        try:
            return self.describe_live(self.execution_arn(arn_or_name))
        except (NotFound, ServiceUnavailable):
            archived = None if self._archive is None else self._archive.get(arn_or_name)
            if archived is None:
                raise
            return archived

    def describe_live(self, execution_arn: str) -> ExecutionDetail:
        description = self._call("describe_execution", executionArn=execution_arn)
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = self._call("get_execution_history", **kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return ExecutionDetail.from_api(description, events)

    def is_running(self, execution_id: str) -> bool:
        """False for an execution the orchestrator no longer knows (e.g. before a restart)."""
        try:
            answer = self._call("describe_execution", executionArn=execution_id)
        except NotFound:
            return False
        return bool(answer["status"] == "RUNNING")

    def wait(self, execution_arn: str, timeout: float, poll: float = 0.5) -> ExecutionDetail:
        """Poll until the execution finishes (there is no synchronous start)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self._call("describe_execution", executionArn=execution_arn)
            if answer["status"] != "RUNNING":
                return self.describe_live(execution_arn)
            if time.monotonic() >= deadline:
                raise ServiceUnavailable(f"{execution_arn} still running after {timeout:.0f} s")
            self._sleep(poll)
