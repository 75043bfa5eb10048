"""Local adapters: files under the data directory and one SQLite database."""

from __future__ import annotations

from catdog.settings import Settings
from catdog.storage.local.alerts import SqliteAlerts
from catdog.storage.local.blobs import LocalBlobStore
from catdog.storage.local.catalog import SqliteImageCatalog
from catdog.storage.local.database import Database
from catdog.storage.local.registry import SqliteModelRegistry
from catdog.storage.local.runs import SqliteTrainingRuns
from catdog.storage.local.settings_store import SqliteSettingsStore
from catdog.storage.ports import Storage


def build_local_storage(settings: Settings) -> Storage:
    db = Database(settings.database_path)
    return Storage(
        blobs=LocalBlobStore(settings.blob_dir),
        catalog=SqliteImageCatalog(db),
        settings=SqliteSettingsStore(db),
        runs=SqliteTrainingRuns(db),
        registry=SqliteModelRegistry(db),
        alerts=SqliteAlerts(db),
    )


__all__ = ["Database", "LocalBlobStore", "build_local_storage"]
