"""Manager settings on SQLite (one row)."""

from __future__ import annotations

import json

from catdog.domain import ManagerSettings
from catdog.storage.local.database import Database


class SqliteSettingsStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self) -> ManagerSettings:
        row = (
            self._db.connection()
            .execute("SELECT body FROM manager_settings WHERE id = 1")
            .fetchone()
        )
        return ManagerSettings() if row is None else ManagerSettings.from_dict(json.loads(row[0]))

    def put(self, settings: ManagerSettings) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO manager_settings (id, body) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                (json.dumps(settings.to_dict()),),
            )
