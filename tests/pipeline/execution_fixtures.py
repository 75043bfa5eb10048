"""Synthetic executions, shaped as Step Functions returns them, for the listing tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from catdog.pipeline.executions import ExecutionDetail

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:catdog-retrain"
DAY = datetime(2026, 11, 20, tzinfo=UTC)

# Terminal state and output of each kind of execution the state machine ends in.
ENDINGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "skipped_mode": ("SUCCEEDED", "SkippedByMode", {"outcome": "skipped", "reason": "mode"}),
    "skipped_threshold": (
        "SUCCEEDED",
        "SkippedByThreshold",
        {"outcome": "skipped", "details": {"new_labels": 1}},
    ),
    "promoted": ("SUCCEEDED", "Promoted", {"outcome": "promoted"}),
    "rejected": ("SUCCEEDED", "Rejected", {"outcome": "rejected"}),
    "promoted_not_served": (
        "SUCCEEDED",
        "PromotedNotServed",
        {"outcome": "promoted_not_served", "signal_error": {"Error": "ServiceUnavailable"}},
    ),
    "failed": ("FAILED", "PipelineFailed", {}),
    "cancelled": ("ABORTED", "WaitForTraining", {}),
}


def execution(kind: str, start: datetime, name: str | None = None) -> ExecutionDetail:
    status, last_state, output = ENDINGS[kind]
    name = name or f"{kind}-{start:%Y%m%dT%H%M%S}"
    description = {
        "executionArn": MACHINE.replace(":stateMachine:", ":execution:") + ":" + name,
        "name": name,
        "status": status,
        "startDate": start,
        "stopDate": start + timedelta(seconds=1),
        "input": json.dumps({"trigger": "schedule"}),
        "output": json.dumps(output) if status == "SUCCEEDED" else None,
    }
    events = [
        {"id": 1, "type": "ExecutionStarted", "timestamp": start},
        {
            "id": 2,
            "type": "SucceedStateEntered",
            "timestamp": start,
            "stateEnteredEventDetails": {"name": last_state, "input": "{}"},
        },
    ]
    return ExecutionDetail.from_api(description, events)


def schedule_day(day: datetime = DAY, every: timedelta = timedelta(minutes=3)) -> list[str]:
    """A day of ticks: skipped checks, with a promotion at 10:00 and a rejection at 15:00.
    Returns the kind of each tick, oldest first (480 ticks)."""
    kinds = []
    moment = day
    while moment < day + timedelta(days=1):
        if moment == day.replace(hour=10):
            kinds.append("promoted")
        elif moment == day.replace(hour=15):
            kinds.append("rejected")
        else:
            kinds.append("skipped_mode" if moment.hour < 12 else "skipped_threshold")
        moment += every
    return kinds


def ticks(day: datetime = DAY) -> list[ExecutionDetail]:
    return [
        execution(kind, day + timedelta(minutes=3 * i)) for i, kind in enumerate(schedule_day(day))
    ]
