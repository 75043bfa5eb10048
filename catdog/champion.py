"""Undoing a promotion that the inference server refuses to serve."""

from __future__ import annotations

from catdog.clock import Clock
from catdog.domain import ChampionChange
from catdog.storage.ports import ModelRegistry

MAX_REASON_LENGTH = 500


def roll_back_refused(
    registry: ModelRegistry, change: ChampionChange, by: str, error: Exception, clock: Clock
) -> ChampionChange | None:
    """Give the champion pointer back to the version ``change`` replaced, so the
    registry never names a model the inference server will not load.

    A compare-and-set expecting ``change.to_version``: raises ChampionChanged if
    someone moved the pointer meanwhile. Returns None when there is nothing to go
    back to (the refused model was the first champion).
    """
    if change.from_version is None:
        return None
    reason = f"automatic roll back: the inference server refused {change.to_version}: {error}"
    return registry.promote(
        change.from_version, change.to_version, by, reason[:MAX_REASON_LENGTH], clock()
    )
