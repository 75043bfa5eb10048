"""The orchestrator: start, list and inspect executions of the retraining state machine.

One code path for AWS and local: it talks to an injected boto3 ``stepfunctions``
client (AWS's endpoint, or the local moto server's). Executions that the local
server no longer holds come from the archive.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from catdog.clock import Clock, utc_now
from catdog.errors import CatdogError, Conflict, NotFound, ServiceUnavailable
from catdog.pipeline.archive import ExecutionArchive
from catdog.pipeline.executions import ExecutionDetail, ExecutionSummary, json_or_none
from catdog.pipeline.history import (
    ExecutionEntry,
    ExecutionPage,
    ExecutionQuery,
    LiveEntry,
    Resume,
    build_page,
    merged,
)
from catdog.pipeline.outcome import Outcome, outcome_of

STATE_MACHINE_NAME = "catdog-retrain"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_FOUND = {"ExecutionDoesNotExist", "StateMachineDoesNotExist", "ResourceNotFound"}
# Step Functions can filter by status, which is enough for these outcomes.
_STATUS_OF = {Outcome.RUNNING: "RUNNING", Outcome.CANCELLED: "ABORTED"}
# Executions one page may read: from Step Functions each finished one costs a describe;
# locally the archive reads them along an index (and old skips are hourly counts).
MAX_SCAN = 500
MAX_SCAN_ARCHIVED = 50_000
_OUTCOME_CACHE = 5000


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
        self._outcomes: dict[str, Outcome] = {}  # a finished execution's outcome never changes

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

    def list_live(self) -> list[ExecutionSummary]:
        """Every execution Step Functions (or the local interpreter) lists now, newest first."""
        summaries: list[ExecutionSummary] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"stateMachineArn": self.state_machine_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = self._call("list_executions", **kwargs)
            summaries.extend(ExecutionSummary.from_api(item) for item in page["executions"])
            token = page.get("nextToken")
            if not token:
                return summaries

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
            try:
                answer = self._call("describe_execution", executionArn=execution_arn)
            except NotFound:  # finished, archived and forgotten by the local interpreter
                return self.describe_execution(execution_arn)
            if answer["status"] != "RUNNING":
                return self.describe_execution(execution_arn)
            if time.monotonic() >= deadline:
                raise ServiceUnavailable(f"{execution_arn} still running after {timeout:.0f} s")
            self._sleep(poll)

    def stop_execution(self, arn_or_name: str, cause: str) -> None:
        """StopExecution (the execution ends ABORTED); stopping a finished one is a no-op."""
        arn = self.execution_arn(arn_or_name)
        try:
            answer = self._call("describe_execution", executionArn=arn)
        except NotFound:
            return  # finished and forgotten: nothing runs
        if answer["status"] != "RUNNING":
            return
        self._call("stop_execution", executionArn=arn, error="Cancelled", cause=cause[:32768])

    def list_page(
        self, query: ExecutionQuery, cursor: str | None = None, limit: int = 20
    ) -> ExecutionPage:
        """Rows newest first through the whole history: Step Functions (or the local
        interpreter) merged with the archive; consecutive skipped checks as one row."""
        resume = Resume.decode(cursor)
        archived = () if self._archive is None else self._archive.entries(query, resume.position)
        live = self._live_entries(query, resume)
        stream = merged(live, archived)
        most = MAX_SCAN if self._archive is None else MAX_SCAN_ARCHIVED
        return build_page(stream, resume, limit, query.collapse, most)

    def _live_entries(self, query: ExecutionQuery, resume: Resume) -> Iterator[LiveEntry]:
        """Step Functions' own listing (newest first), page by page from ``resume.token``."""
        statuses = {_STATUS_OF.get(o) for o in query.outcomes or ()}
        status = statuses.pop() if len(statuses) == 1 and None not in statuses else None
        token = resume.token
        while True:
            kwargs: dict[str, Any] = {"maxResults": 100}
            if token:
                kwargs["nextToken"] = token
            if status:
                kwargs["statusFilter"] = status
            try:
                page = self._call(
                    "list_executions", stateMachineArn=self.state_machine_arn, **kwargs
                )
            except ServiceUnavailable:
                if self._archive is None:
                    raise
                return  # the local interpreter is down: the archive alone
            for item in page["executions"]:
                summary = ExecutionSummary.from_api(item)
                start = summary.start_date
                if query.since is not None and start is not None and start < query.since:
                    return
                entry = self._entry(summary)
                if resume.position is not None and entry.position >= resume.position:
                    continue
                if query.matches(entry):
                    yield LiveEntry(entry, token)
            token = page.get("nextToken")
            if not token:
                return

    def _entry(self, summary: ExecutionSummary) -> ExecutionEntry:
        return ExecutionEntry(
            execution_arn=summary.execution_arn,
            name=summary.name,
            status=summary.status,
            outcome=self._outcome(summary),
            start_date=summary.start_date,
            stop_date=summary.stop_date,
        )

    def _outcome(self, summary: ExecutionSummary) -> Outcome:
        if summary.status != "SUCCEEDED":
            return outcome_of(summary.status, None)
        known = self._outcomes.get(summary.execution_arn)
        if known is None:
            # The output says how it ended (no history needed: one cheap call).
            try:
                answer = self._call("describe_execution", executionArn=summary.execution_arn)
                known = outcome_of(answer["status"], json_or_none(answer.get("output")))
            except NotFound:  # archived and forgotten meanwhile
                detail = self.describe_execution(summary.execution_arn)
                known = outcome_of(detail.summary.status, detail.output, detail.state_names)
            if len(self._outcomes) >= _OUTCOME_CACHE:
                self._outcomes.clear()
            self._outcomes[summary.execution_arn] = known
        return known


def console_url(execution_arn: str) -> str:
    """The execution in the AWS Step Functions console (its region is in the ARN)."""
    region = execution_arn.split(":")[3]
    return (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution_arn}"
    )
