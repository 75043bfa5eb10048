"""Executions as ops see them: summary, states entered, full event history.

Built from the Step Functions API's answers (AWS's and moto's are the same
shape), and JSON-safe so the local archive can store them as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catdog.clock import from_iso, to_iso

RUNNING = "RUNNING"


def json_safe(value: Any) -> Any:
    """Datetimes (as boto3 returns them) become ISO strings, recursively."""
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if isinstance(value, datetime) else from_iso(str(value))


def json_or_none(text: str | None) -> Any:
    """A JSON document as Step Functions returns it (a string), parsed; text when not JSON."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class ExecutionSummary:
    execution_arn: str
    name: str
    status: str
    start_date: datetime | None
    stop_date: datetime | None = None
    archived: bool = False

    @classmethod
    def from_api(cls, data: Mapping[str, Any], archived: bool = False) -> ExecutionSummary:
        return cls(
            execution_arn=str(data["executionArn"]),
            name=str(data["name"]),
            status=str(data["status"]),
            start_date=_moment(data.get("startDate")),
            stop_date=_moment(data.get("stopDate")),
            archived=archived,
        )

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    def to_dict(self) -> dict[str, Any]:
        return {
            "execution_arn": self.execution_arn,
            "name": self.name,
            "status": self.status,
            "start_date": None if self.start_date is None else to_iso(self.start_date),
            "stop_date": None if self.stop_date is None else to_iso(self.stop_date),
            "archived": self.archived,
        }


@dataclass(frozen=True)
class StateVisit:
    """One state entered, with when it was left (None while it runs)."""

    name: str
    entered_at: datetime | None
    exited_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "entered_at": None if self.entered_at is None else to_iso(self.entered_at),
            "exited_at": None if self.exited_at is None else to_iso(self.exited_at),
        }


def states_entered(events: Iterable[Mapping[str, Any]]) -> list[StateVisit]:
    """The states in the order they were entered (a state in a loop appears each time)."""
    visits: list[StateVisit] = []
    open_visits: dict[str, int] = {}
    for event in events:
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            open_visits[name] = len(visits)
            visits.append(StateVisit(name, _moment(event.get("timestamp"))))
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            index = open_visits.pop(name, None)
            if index is not None:
                visit = visits[index]
                visits[index] = StateVisit(
                    visit.name, visit.entered_at, _moment(event.get("timestamp"))
                )
    return visits


@dataclass(frozen=True)
class ExecutionDetail:
    summary: ExecutionSummary
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_api(
        cls,
        description: Mapping[str, Any],
        events: Iterable[Mapping[str, Any]],
        archived: bool = False,
    ) -> ExecutionDetail:
        return cls(
            summary=ExecutionSummary.from_api(description, archived),
            input=json_or_none(description.get("input")),
            output=json_or_none(description.get("output")),
            error=description.get("error"),
            cause=description.get("cause"),
            events=[json_safe(event) for event in events],
        )

    @property
    def states(self) -> list[StateVisit]:
        return states_entered(self.events)

    @property
    def state_names(self) -> list[str]:
        return [visit.name for visit in self.states]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary.to_dict(),
            "input": self.input,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "states": [visit.to_dict() for visit in self.states],
            "events": self.events,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], archived: bool = True) -> ExecutionDetail:
        summary = ExecutionSummary(
            execution_arn=data["execution_arn"],
            name=data["name"],
            status=data["status"],
            start_date=_moment(data.get("start_date")),
            stop_date=_moment(data.get("stop_date")),
            archived=archived,
        )
        return cls(
            summary,
            data.get("input"),
            data.get("output"),
            data.get("error"),
            data.get("cause"),
            list(data.get("events") or []),
        )
