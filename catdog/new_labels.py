"""The one rule for "enough new labels": used by the CheckLabelThreshold step,
the manager dashboard and the API, so they can never disagree.

New labels are those set after the data cutoff of the latest *judged* model:
the champion, or a model rejected later than the champion was trained. Labels a
rejected model was judged on do not count again, or every schedule tick would
retrain on the same labels and be rejected again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from catdog.clock import to_iso
from catdog.domain import ModelStatus
from catdog.storage.ports import ImageCatalog, ModelRegistry, SettingsStore

JUDGED = frozenset({ModelStatus.CHAMPION, ModelStatus.REJECTED})


@dataclass(frozen=True)
class NewLabels:
    """How many labels arrived since ``since``, against the manager's threshold."""

    count: int
    threshold: int
    since: datetime | None

    @property
    def enough(self) -> bool:
        return self.count >= self.threshold

    @property
    def needed(self) -> int:
        """Labels still missing before an automatic run may start."""
        return max(0, self.threshold - self.count)

    def to_dict(self) -> dict[str, Any]:
        return {
            "new_labels": self.count,
            "label_threshold": self.threshold,
            "since": None if self.since is None else to_iso(self.since),
            "enough": self.enough,
            "needed": self.needed,
        }


def labels_cutoff(registry: ModelRegistry) -> datetime | None:
    """The latest data cutoff of a judged model (None when no model was judged)."""
    cutoffs = [
        model.data_cutoff
        for model in registry.list()
        if model.status in JUDGED and model.data_cutoff is not None
    ]
    return max(cutoffs) if cutoffs else None


def new_labels(
    catalog: ImageCatalog, registry: ModelRegistry, settings: SettingsStore
) -> NewLabels:
    """Count the new labels by the one rule, with the stored threshold."""
    since = labels_cutoff(registry)
    return NewLabels(
        count=catalog.count_labeled_since(since),
        threshold=settings.get().label_threshold,
        since=since,
    )
