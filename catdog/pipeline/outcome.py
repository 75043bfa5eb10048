"""How an execution ended, as ops name it: one first-class outcome per execution.

The state machine ends every outcome in its own terminal state (see
``workflows/definition.py``), so the outcome is read from the last state
entered; executions run before those states existed are read from their
output. A stopped execution (StopExecution) is cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from catdog.errors import InvalidInput


class Outcome(StrEnum):
    RUNNING = "running"
    SKIPPED_MODE = "skipped_mode"
    SKIPPED_THRESHOLD = "skipped_threshold"
    SKIPPED_RUN_ACTIVE = "skipped_run_active"
    PROMOTED = "promoted"
    PROMOTED_NOT_SERVED = "promoted_not_served"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def skipped(self) -> bool:
        return self in SKIPPED

    @property
    def words(self) -> str:
        """How people say it ("skipped by mode")."""
        return TITLES[self]


SKIPPED = frozenset({Outcome.SKIPPED_MODE, Outcome.SKIPPED_THRESHOLD, Outcome.SKIPPED_RUN_ACTIVE})
TITLES = {
    Outcome.RUNNING: "running",
    Outcome.SKIPPED_MODE: "skipped by mode",
    Outcome.SKIPPED_THRESHOLD: "skipped by threshold",
    Outcome.SKIPPED_RUN_ACTIVE: "skipped: a run is active",
    Outcome.PROMOTED: "promoted",
    Outcome.PROMOTED_NOT_SERVED: "promoted, not served",
    Outcome.REJECTED: "rejected",
    Outcome.FAILED: "failed",
    Outcome.CANCELLED: "cancelled",
}
# Filter names: an outcome, or "skipped" for every kind of skip.
SKIPPED_FILTER = "skipped"

_TERMINAL_STATES = {
    "SkippedByMode": Outcome.SKIPPED_MODE,
    "SkippedByThreshold": Outcome.SKIPPED_THRESHOLD,
    "SkippedRunActive": Outcome.SKIPPED_RUN_ACTIVE,
    "Promoted": Outcome.PROMOTED,
    "PromotedNotServed": Outcome.PROMOTED_NOT_SERVED,
    "Rejected": Outcome.REJECTED,
}
_BY_STATUS = {
    "RUNNING": Outcome.RUNNING,
    "ABORTED": Outcome.CANCELLED,
    "FAILED": Outcome.FAILED,
    "TIMED_OUT": Outcome.FAILED,
}


def outcome_of(status: str, output: Any, state_names: Sequence[str] = ()) -> Outcome:
    """The outcome of an execution from its status, output and states entered."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if state_names and state_names[-1] in _TERMINAL_STATES:
        return _TERMINAL_STATES[state_names[-1]]
    return _from_output(output if isinstance(output, Mapping) else {})


def _from_output(output: Mapping[str, Any]) -> Outcome:
    """Executions of the earlier definition (terminal states Skipped and Finished)."""
    said = output.get("outcome")
    if said == "skipped":
        if "lock" in output:
            return Outcome.SKIPPED_RUN_ACTIVE
        if isinstance(output.get("details"), Mapping) and "new_labels" in output["details"]:
            return Outcome.SKIPPED_THRESHOLD
        return Outcome.SKIPPED_MODE
    if said == "rejected":
        return Outcome.REJECTED
    not_served = output.get("signal_error") or output.get("rolled_back_from")
    if said == "promoted_not_served" or (said == "promoted" and not_served):
        return Outcome.PROMOTED_NOT_SERVED
    if said == "promoted":
        return Outcome.PROMOTED
    return Outcome.FAILED


def parse_outcome_filter(value: str | None) -> frozenset[Outcome] | None:
    """``None``/"" (every outcome), "skipped" (every skip) or one outcome's name."""
    if not value:
        return None
    if value == SKIPPED_FILTER:
        return SKIPPED
    try:
        return frozenset({Outcome(value)})
    except ValueError:
        names = ", ".join([SKIPPED_FILTER, *(o.value for o in Outcome)])
        raise InvalidInput(f"outcome must be one of {names}, not {value!r}") from None
