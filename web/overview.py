"""The manager dashboard's figures, gathered in one place (no HTTP here)."""

from __future__ import annotations

from dataclasses import dataclass

from catdog.domain import CatalogCounts, ManagerSettings, ModelVersion, TrainingRun
from catdog.new_labels import NewLabels, new_labels
from catdog.storage.ports import Storage


@dataclass(frozen=True)
class Overview:
    settings: ManagerSettings
    champion: ModelVersion | None
    new_labels: NewLabels
    counts: CatalogCounts
    active_run: TrainingRun | None
    recent_runs: list[TrainingRun]

    @property
    def labels_since_champion(self) -> int:
        """New labels by the pipeline's own rule (``catdog.new_labels``)."""
        return self.new_labels.count

    @property
    def labels_needed(self) -> int:
        """Labels still missing before an automatic run may start."""
        return self.new_labels.needed


def overview(storage: Storage, recent: int = 5) -> Overview:
    return Overview(
        settings=storage.settings.get(),
        champion=storage.registry.champion(),
        new_labels=new_labels(storage.catalog, storage.registry, storage.settings),
        counts=storage.catalog.counts(),
        active_run=storage.runs.active(),
        recent_runs=storage.runs.list(limit=recent).items,
    )
