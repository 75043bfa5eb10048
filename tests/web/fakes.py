"""Test doubles for the services around the web app (tests only)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from catdog.clock import Clock, utc_now
from catdog.domain import RunProgress
from catdog.errors import NotFound, ServiceUnavailable
from catdog.pipeline.executions import ExecutionDetail, ExecutionSummary
from catdog.pipeline.history import (
    ExecutionEntry,
    ExecutionPage,
    ExecutionQuery,
    Resume,
    build_page,
    merged,
)
from catdog.pipeline.messages import Envelope, RunInput
from catdog.pipeline.outcome import outcome_of
from catdog.storage.ports import Storage
from web.ports import Inference, Orchestrator


@dataclass(frozen=True)
class FakeResult:
    label: str
    confidence: float
    model_version: str
    unsure: bool = False


@dataclass
class FakeInference(Inference):
    """Answers every image the same way; ``down`` makes it unreachable."""

    label: str = "cat"
    confidence: float = 0.93
    model_version: str = "v-test-1"
    down: bool = False
    predicted: list[str] = field(default_factory=list)
    reloaded: list[str | None] = field(default_factory=list)
    serving: str | None = None

    def predict(self, data: bytes, content_type: str) -> FakeResult:
        if self.down:
            raise ServiceUnavailable("the inference server cannot be reached (test)")
        self.predicted.append(content_type)
        return FakeResult(self.label, self.confidence, self.model_version)

    def reload(self, version: str | None = None) -> dict[str, Any]:
        if self.down:
            raise ServiceUnavailable("the inference server cannot be reached (test)")
        self.reloaded.append(version)
        self.serving = version
        return {"version": version}

    def model_info(self) -> dict[str, Any]:
        if self.down:
            raise ServiceUnavailable("the inference server cannot be reached (test)")
        return {"version": self.serving}


ARN_PREFIX = "arn:aws:states:us-east-1:123456789012:execution:catdog-retrain:"


class FakeOrchestrator(Orchestrator):
    """Starts "executions" that create their training run in storage, as the
    pipeline's CreateTrainingRun step does (from the input it was given), and keeps a
    state history. ``started`` and each execution's input are exactly what was sent."""

    def __init__(self, storage: Storage, clock: Clock = utc_now) -> None:
        self._storage = storage
        self._clock = clock
        self.started: list[tuple[dict[str, Any], str]] = []
        self.stopped: list[tuple[str, str]] = []
        self._details: dict[str, ExecutionDetail] = {}
        # True: Step Functions cannot be reached, starting an execution fails.
        self.down = False

    def start_execution(self, execution_input: dict[str, Any], name: str | None = None) -> str:
        assert name is not None
        if self.down:
            raise ServiceUnavailable("the orchestrator cannot be reached (test)")
        arn = ARN_PREFIX + name
        now = self._clock()
        self.started.append((dict(execution_input), name))
        request = RunInput.from_envelope(Envelope(dict(execution_input), name, arn))
        self._storage.runs.create(name, request.trigger, now, arn, request.retrain_mode)
        self._storage.runs.record_progress(
            name, RunProgress(epoch=1, epochs=3, loss=0.69, accuracy=0.55, updated_at=now)
        )
        description = {
            "executionArn": arn,
            "name": name,
            "status": "RUNNING",
            "startDate": now,
            "input": json.dumps(execution_input),
        }
        events = [
            {"type": "ExecutionStarted", "timestamp": now, "id": 1},
            {
                "type": "TaskStateEntered",
                "timestamp": now,
                "id": 2,
                "stateEnteredEventDetails": {
                    "name": "CheckManagerMode",
                    "input": json.dumps(execution_input),
                },
            },
            {
                "type": "TaskStateExited",
                "timestamp": now + timedelta(seconds=1),
                "id": 3,
                "stateExitedEventDetails": {
                    "name": "CheckManagerMode",
                    "output": '{"proceed": true}',
                },
            },
            {
                "type": "TaskStateEntered",
                "timestamp": now + timedelta(seconds=1),
                "id": 4,
                "stateEnteredEventDetails": {"name": "CreateTrainingRun", "input": "{}"},
            },
            {
                "type": "LambdaFunctionFailed",
                "timestamp": now + timedelta(seconds=2),
                "id": 5,
                "lambdaFunctionFailedEventDetails": {
                    "error": "RunAlreadyActive",
                    "cause": "another run holds the lock",
                },
            },
        ]
        self._details[arn] = ExecutionDetail.from_api(description, events)
        return arn

    def list_executions(self, limit: int = 50) -> list[ExecutionSummary]:
        return [detail.summary for detail in reversed(self._details.values())][:limit]

    def add(self, detail: ExecutionDetail) -> None:
        """A finished execution (as the archive would hold it)."""
        self._details[detail.summary.execution_arn] = detail

    def list_page(
        self, query: ExecutionQuery, cursor: str | None = None, limit: int = 20
    ) -> ExecutionPage:
        """The core's paging and collapsing over the executions held here."""
        resume = Resume.decode(cursor)
        entries = sorted(
            (self._entry(detail) for detail in self._details.values()),
            key=lambda entry: entry.position,
            reverse=True,
        )
        kept = [
            e
            for e in entries
            if query.matches(e) and (resume.position is None or e.position < resume.position)
        ]
        return build_page(merged([], kept), resume, limit, query.collapse)

    @staticmethod
    def _entry(detail: ExecutionDetail) -> ExecutionEntry:
        summary = detail.summary
        return ExecutionEntry(
            execution_arn=summary.execution_arn,
            name=summary.name,
            status=summary.status,
            outcome=outcome_of(summary.status, detail.output, detail.state_names),
            start_date=summary.start_date,
            stop_date=summary.stop_date,
            archived=True,
        )

    def stop_execution(self, arn_or_name: str, cause: str) -> None:
        arn = arn_or_name if arn_or_name.startswith("arn:") else ARN_PREFIX + arn_or_name
        detail = self._details.get(arn)
        if detail is None or detail.summary.status != "RUNNING":
            return
        self.stopped.append((arn, cause))
        summary = replace(detail.summary, status="ABORTED", stop_date=self._clock())
        self._details[arn] = replace(detail, summary=summary)

    def describe_execution(self, arn_or_name: str) -> ExecutionDetail:
        arn = arn_or_name if arn_or_name.startswith("arn:") else ARN_PREFIX + arn_or_name
        if arn not in self._details:
            raise NotFound(f"no execution {arn_or_name}")
        return self._details[arn]
