"""The manager dashboard's figures, gathered in one place (no HTTP here)."""

from __future__ import annotations

from dataclasses import dataclass

from catdog.domain import CatalogCounts, ManagerSettings, ModelVersion, TrainingRun
from catdog.storage.ports import Storage


@dataclass(frozen=True)
class Overview:
    settings: ManagerSettings
    champion: ModelVersion | None
    labels_since_champion: int
    counts: CatalogCounts
    active_run: TrainingRun | None
    recent_runs: list[TrainingRun]

    @property
    def labels_needed(self) -> int:
        """Labels still missing before an automatic run may start."""
        return max(0, self.settings.label_threshold - self.labels_since_champion)


def overview(storage: Storage, recent: int = 5) -> Overview:
    champion = storage.registry.champion()
    since = None if champion is None else champion.data_cutoff
    return Overview(
        settings=storage.settings.get(),
        champion=champion,
        labels_since_champion=storage.catalog.count_labeled_since(since),
        counts=storage.catalog.counts(),
        active_run=storage.runs.active(),
        recent_runs=storage.runs.list(limit=recent).items,
    )
