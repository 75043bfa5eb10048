"""Alerts for managers on both backends (SQLite, DynamoDB on moto): raised once per run
and kind, listed newest first while open, acknowledged with who and when."""

from __future__ import annotations

import pytest

from catdog.alerts import Alert, AlertKind
from catdog.errors import NotFound
from catdog.storage.ports import Storage

from .support import at


def alert(run_id: str, kind: AlertKind = AlertKind.REJECTED, seconds: float = 0) -> Alert:
    return Alert.for_run(kind, run_id, f"reason for {run_id}", at(seconds))


def test_an_alert_is_raised_once_and_listed_while_open(storage: Storage) -> None:
    assert storage.alerts.open_alerts() == []
    first = alert("run-1")
    assert storage.alerts.raise_alert(first) is True
    # A retried step raises the same alert: nothing new, nothing changed.
    assert storage.alerts.raise_alert(alert("run-1", seconds=99)) is False
    assert storage.alerts.find(first.alert_id) == first
    assert storage.alerts.open_alerts() == [first]
    assert storage.alerts.find("run-2.failed") is None


def test_open_alerts_are_newest_first_and_limited(storage: Storage) -> None:
    raised = [alert(f"run-{i}", AlertKind.FAILED, seconds=i) for i in range(5)]
    for each in raised:
        storage.alerts.raise_alert(each)
    storage.alerts.raise_alert(alert("run-3", AlertKind.NOT_SERVED, seconds=3.5))
    listed = storage.alerts.open_alerts(limit=3)
    assert [a.alert_id for a in listed] == ["run-4.failed", "run-3.not_served", "run-3.failed"]


def test_acknowledging_audits_who_and_when_and_closes_the_alert(storage: Storage) -> None:
    kept, acked = alert("run-1", seconds=1), alert("run-2", seconds=2)
    storage.alerts.raise_alert(kept)
    storage.alerts.raise_alert(acked)
    done = storage.alerts.acknowledge(acked.alert_id, "erin", at(10))
    assert (done.acknowledged_by, done.acknowledged_at, done.is_open) == ("erin", at(10), False)
    assert storage.alerts.open_alerts() == [kept]
    assert storage.alerts.find(acked.alert_id) == done
    # A second acknowledgement keeps the first one's audit.
    again = storage.alerts.acknowledge(acked.alert_id, "frank", at(20))
    assert again == done
    # Raising it again (a retried step) does not reopen it.
    assert storage.alerts.raise_alert(acked) is False
    assert storage.alerts.open_alerts() == [kept]


def test_acknowledging_an_unknown_alert_is_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        storage.alerts.acknowledge("run-9.failed", "erin", at(0))
