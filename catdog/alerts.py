"""Runs that need a manager: failed, rejected by the gate, or promoted but not served.

The pipeline step that decides such an outcome calls ``announce``: the alert is stored
(``Alerts`` port, both backends) and, the first time only, sent to the notifier (a JSON
line in the data dir locally, SNS on AWS). Manager pages show open alerts as a banner
until a manager acknowledges them (who and when are kept).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from catdog.clock import from_iso, to_iso
from catdog.keys import validate_key


class AlertKind(StrEnum):
    FAILED = "failed"
    REJECTED = "rejected"
    NOT_SERVED = "not_served"

    @property
    def description(self) -> str:
        return ALERT_DESCRIPTIONS[self]


ALERT_DESCRIPTIONS = {
    AlertKind.FAILED: "failed",
    AlertKind.REJECTED: "was rejected by the promotion gate",
    AlertKind.NOT_SERVED: "was promoted but the inference server does not serve it",
}


@dataclass(frozen=True)
class Alert:
    """One event a manager should see. ``alert_id`` is ``<run id>.<kind>``, so a retried
    step raises the same alert again, never a second one."""

    alert_id: str
    kind: AlertKind
    run_id: str
    message: str
    raised_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    @classmethod
    def for_run(cls, kind: AlertKind, run_id: str, detail: str, at: datetime) -> Alert:
        message = f"Training run {run_id} {kind.description}"
        if detail:
            message += f": {detail}"
        return cls(alert_id(run_id, kind), kind, run_id, message[:1000], at)

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    def acknowledged(self, by: str, at: datetime) -> Alert:
        """Acknowledged by ``by`` at ``at``; an acknowledged one keeps its first acknowledgement."""
        if not self.is_open:
            return self
        return replace(self, acknowledged_by=by, acknowledged_at=at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "kind": self.kind.value,
            "run_id": self.run_id,
            "message": self.message,
            "raised_at": to_iso(self.raised_at),
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": None
            if self.acknowledged_at is None
            else to_iso(self.acknowledged_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        acknowledged = data.get("acknowledged_at")
        return cls(
            alert_id=data["alert_id"],
            kind=AlertKind(data["kind"]),
            run_id=data["run_id"],
            message=data["message"],
            raised_at=from_iso(data["raised_at"]),
            acknowledged_by=data.get("acknowledged_by"),
            acknowledged_at=None if acknowledged is None else from_iso(acknowledged),
        )


def alert_id(run_id: str, kind: AlertKind) -> str:
    return validate_key(f"{run_id}.{kind.value}")


class Notifier(Protocol):
    """Where alerts go besides the banner: ops' log file locally, an SNS topic on AWS."""

    def notify(self, alert: Alert) -> None: ...


class AlertStore(Protocol):
    """The part of ``catdog.storage.ports.Alerts`` that raising an alert needs."""

    def find(self, alert_id: str) -> Alert | None: ...

    def raise_alert(self, alert: Alert) -> bool: ...


def announce(store: AlertStore, notifier: Notifier, alert: Alert) -> bool:
    """Notify and store ``alert`` unless it was stored before; True when it was new.

    Notified first: a step that fails in between is retried and notifies again, so a
    notification may come twice but is never lost."""
    if store.find(alert.alert_id) is not None:
        return False
    notifier.notify(alert)
    return store.raise_alert(alert)
