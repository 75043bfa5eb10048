"""Typed inputs and outputs of the pipeline steps, and their JSON forms.

The state machine passes one JSON document from state to state; each Lambda
handler parses the fields its step needs into an input dataclass and merges its
step's output dataclass back into the document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from catdog.domain import RetrainMode, Trigger
from catdog.errors import InvalidInput
from catdog.settings import Settings

Outcome = Literal["skipped", "promoted", "rejected"]
ArtifactState = Literal["ready", "training"]

DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 3600


def _get(event: Mapping[str, Any], key: str) -> Any:
    if key not in event:
        raise InvalidInput(f"step input has no {key!r}")
    return event[key]


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
        raise InvalidInput(f"{name} must be a positive number of seconds, not {value!r}")
    return int(value)


@dataclass(frozen=True)
class Envelope:
    """What every task passes its Lambda: the state document and the execution's identity.

    ASL ``Parameters``: ``{"state.$": "$", "execution": {"name.$": "$$.Execution.Name",
    "id.$": "$$.Execution.Id"}}``; the handler returns the state with its step's output merged.
    """

    state: dict[str, Any]
    execution_name: str
    execution_id: str | None

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> Envelope:
        state = event.get("state")
        execution = event.get("execution")
        if not isinstance(state, dict) or not isinstance(execution, Mapping):
            raise InvalidInput("step input must be {'state': {...}, 'execution': {...}}")
        return cls(
            state=state,
            execution_name=str(_get(execution, "name")),
            execution_id=execution.get("id"),
        )

    def merge(self, output: Output) -> dict[str, Any]:
        return {**self.state, **output.to_dict()}


@dataclass(frozen=True)
class Output:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExecutionContext(Output):
    """The execution's input, normalised once by CheckManagerMode with production defaults."""

    execution_name: str
    execution_id: str | None
    trigger: Trigger
    force: bool
    retrain_mode: RetrainMode
    wait_seconds: int
    training_timeout_seconds: int
    heartbeat_timeout_seconds: int

    @classmethod
    def from_envelope(cls, envelope: Envelope, settings: Settings) -> ExecutionContext:
        raw = envelope.state
        trigger = raw.get("trigger", Trigger.SCHEDULE.value)
        if trigger not in (Trigger.SCHEDULE.value, Trigger.MANUAL.value):
            raise InvalidInput(f"trigger must be 'schedule' or 'manual', not {trigger!r}")
        force = raw.get("force", False)
        if not isinstance(force, bool):
            raise InvalidInput("force must be true or false")
        return cls(
            execution_name=envelope.execution_name,
            execution_id=envelope.execution_id,
            trigger=Trigger(trigger),
            force=force,
            retrain_mode=parse_retrain_mode(raw.get("retrain_mode")),
            wait_seconds=_int(raw.get("wait_seconds", settings.wait_seconds), "wait_seconds"),
            training_timeout_seconds=_int(
                raw.get("training_timeout_seconds", settings.training_timeout_seconds),
                "training_timeout_seconds",
            ),
            heartbeat_timeout_seconds=_int(
                raw.get("heartbeat_timeout_seconds", DEFAULT_HEARTBEAT_TIMEOUT_SECONDS),
                "heartbeat_timeout_seconds",
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "trigger": self.trigger.value,
            "retrain_mode": self.retrain_mode.value,
        }


def parse_retrain_mode(raw: object) -> RetrainMode:
    """``incremental`` (the default when absent) or ``full``."""
    if raw is None:
        return RetrainMode.INCREMENTAL
    if raw not in (RetrainMode.INCREMENTAL.value, RetrainMode.FULL.value):
        raise InvalidInput(f"retrain_mode must be 'incremental' or 'full', not {raw!r}")
    return RetrainMode(str(raw))


@dataclass(frozen=True)
class Gate(Output):
    """A go/no-go decision; ``outcome`` is "skipped" when it says no."""

    proceed: bool
    reason: str
    outcome: Outcome | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModeDecision(Output):
    context: ExecutionContext
    gate: Gate
    mode: str
    orphans_failed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.context.to_dict(),
            **self.gate.to_dict(),
            "mode": self.mode,
            "orphans_failed": self.orphans_failed,
        }


@dataclass(frozen=True)
class RunInput:
    execution_name: str
    execution_id: str | None
    trigger: Trigger
    retrain_mode: RetrainMode = RetrainMode.INCREMENTAL

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> RunInput:
        return cls(
            execution_name=envelope.execution_name,
            execution_id=envelope.execution_id,
            trigger=Trigger(_get(envelope.state, "trigger")),
            retrain_mode=parse_retrain_mode(envelope.state.get("retrain_mode")),
        )


@dataclass(frozen=True)
class RunCreated(Output):
    run_id: str
    orphans_failed_at_lock: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunRef:
    run_id: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> RunRef:
        return cls(run_id=str(_get(event, "run_id")))


@dataclass(frozen=True)
class RunEnding:
    """StopTrainInstance's input: the run, and why its promoted model is not served when
    the state document says so: SignalInferenceServer's retries ran out (``signal_error``,
    outcome ``promoted_not_served``) or an instance refused it and the champion was
    rolled back (``rolled_back_from``), the two paths to the PromotedNotServed state."""

    run_id: str
    not_served: str | None = None

    @classmethod
    def from_envelope(cls, run_id: str, envelope: Envelope) -> RunEnding:
        state = envelope.state
        caught = state.get("signal_error")
        if state.get("outcome") == "promoted_not_served" and isinstance(caught, dict):
            error = str(caught.get("Error", "Unknown"))
            return cls(run_id, f"{error}: {error_message(str(caught.get('Cause', '')))}")
        refused = state.get("rolled_back_from")
        if refused:
            back = state.get("served_version")
            return cls(
                run_id,
                f"an inference instance refused {refused}; the champion went back to {back}",
            )
        return cls(run_id)


@dataclass(frozen=True)
class ComputeReport(Output):
    compute: str
    compute_detail: str = ""


@dataclass(frozen=True)
class ArtifactCheckInput:
    run_id: str
    training_timeout_seconds: int
    heartbeat_timeout_seconds: int

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> ArtifactCheckInput:
        return cls(
            run_id=str(_get(event, "run_id")),
            training_timeout_seconds=_int(
                _get(event, "training_timeout_seconds"), "training_timeout_seconds"
            ),
            heartbeat_timeout_seconds=_int(
                event.get("heartbeat_timeout_seconds", DEFAULT_HEARTBEAT_TIMEOUT_SECONDS),
                "heartbeat_timeout_seconds",
            ),
        )


@dataclass(frozen=True)
class ArtifactStatus(Output):
    artifact: ArtifactState
    elapsed_seconds: float
    epoch: int | None = None
    epochs: int | None = None


@dataclass(frozen=True)
class Validation(Output):
    """The gate's decision with its evidence (``catdog.gate``)."""

    accepted: bool
    rule: str
    accuracy: float | None
    champion_version: str | None
    champion_accuracy: float | None
    min_accuracy: float
    max_accuracy_drop: float
    min_eval_images: int
    manifest_id: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome | None = None


@dataclass(frozen=True)
class PromoteInput:
    run_id: str
    champion_version: str | None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> PromoteInput:
        return cls(
            run_id=str(_get(event, "run_id")), champion_version=event.get("champion_version")
        )


@dataclass(frozen=True)
class Promotion(Output):
    promoted_version: str
    previous_champion: str | None
    outcome: Outcome = "promoted"


@dataclass(frozen=True)
class Served(Output):
    served_version: str
    rolled_back_from: str | None = None
    # What each in-service inference instance answered (``catdog.champion.InstanceResult``).
    instances: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class FailureInput:
    """MarkRunFailed's input: the execution, and the error the Catch recorded."""

    execution_name: str
    error: str
    cause: str

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> FailureInput:
        caught = envelope.state.get("error") or {}
        return cls(
            execution_name=envelope.execution_name,
            error=str(caught.get("Error", "Unknown")),
            cause=error_message(str(caught.get("Cause", ""))),
        )


def error_message(cause: str) -> str:
    """The message inside a Lambda error cause (``{"errorMessage": ...}``), else the cause."""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return str(parsed["errorMessage"])
    return cause


@dataclass(frozen=True)
class RunFailed(Output):
    failed_run: str | None
    run_status: str | None
