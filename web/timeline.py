"""One execution's states in order, with each state's input, output and error.

Built from the Step Functions event history (AWS and moto give the same shape):
``*StateEntered`` opens a step, ``*StateExited`` closes it, and failure events
in between (``TaskFailed``, ``LambdaFunctionFailed``, ``ExecutionFailed``...)
attach their error and cause to the step that was running.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepView:
    name: str
    entered_at: str | None
    exited_at: str | None = None
    input: Any = None
    output: Any = None
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.errors:
            return "failed"
        return "succeeded" if self.exited_at else "running"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "entered_at": self.entered_at,
            "exited_at": self.exited_at,
            "input": self.input,
            "output": self.output,
            "errors": self.errors,
        }


def _parsed(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _failure(event: Mapping[str, Any]) -> dict[str, str] | None:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping) and "error" in value:
            return {
                "type": str(event.get("type")),
                "error": str(value.get("error", "")),
                "cause": str(value.get("cause", "")),
            }
    return None


def timeline(events: Iterable[Mapping[str, Any]]) -> list[StepView]:
    steps: list[StepView] = []
    current: StepView | None = None
    for event in events:
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails") or {}
            current = StepView(
                str(details.get("name")), _when(event), input=_parsed(details.get("input"))
            )
            steps.append(current)
        elif kind.endswith("StateExited"):
            details = event.get("stateExitedEventDetails") or {}
            name = str(details.get("name"))
            step = next((s for s in reversed(steps) if s.name == name and not s.exited_at), None)
            if step is not None:
                step.exited_at = _when(event)
                step.output = _parsed(details.get("output"))
        else:
            failure = _failure(event)
            if failure is not None and current is not None:
                current.errors.append(failure)
    return steps


def _when(event: Mapping[str, Any]) -> str | None:
    value = event.get("timestamp")
    return None if value is None else str(value)
