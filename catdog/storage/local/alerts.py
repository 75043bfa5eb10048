"""Alerts for managers on SQLite; open alerts have a partial index of their own."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from catdog.alerts import Alert
from catdog.clock import to_iso
from catdog.errors import NotFound
from catdog.storage.cursor import check_limit
from catdog.storage.local.database import Database


class SqliteAlerts:
    def __init__(self, db: Database) -> None:
        self._db = db

    def raise_alert(self, alert: Alert) -> bool:
        with self._db.write() as conn:
            inserted = conn.execute(
                "INSERT OR IGNORE INTO alerts (alert_id, raised_at, open, body) VALUES (?,?,?,?)",
                (alert.alert_id, to_iso(alert.raised_at), _open(alert), _body(alert)),
            )
            return inserted.rowcount == 1

    def find(self, alert_id: str) -> Alert | None:
        return _load(self._db.connection(), alert_id)

    def open_alerts(self, limit: int = 20) -> list[Alert]:
        check_limit(limit)
        rows = (
            self._db.connection()
            .execute(
                "SELECT body FROM alerts WHERE open = 1"
                " ORDER BY raised_at DESC, alert_id DESC LIMIT ?",
                (limit,),
            )
            .fetchall()
        )
        return [Alert.from_dict(json.loads(row[0])) for row in rows]

    def acknowledge(self, alert_id: str, by: str, at: datetime) -> Alert:
        with self._db.write() as conn:
            alert = _load(conn, alert_id)
            if alert is None:
                raise NotFound(f"no alert {alert_id!r}")
            done = alert.acknowledged(by, at)
            conn.execute(
                "UPDATE alerts SET open = ?, body = ? WHERE alert_id = ?",
                (_open(done), _body(done), alert_id),
            )
        return done


def _load(conn: sqlite3.Connection, alert_id: str) -> Alert | None:
    row = conn.execute("SELECT body FROM alerts WHERE alert_id = ?", (alert_id,)).fetchone()
    return None if row is None else Alert.from_dict(json.loads(row[0]))


def _open(alert: Alert) -> int | None:
    return 1 if alert.is_open else None


def _body(alert: Alert) -> str:
    return json.dumps(alert.to_dict())
