"""Fixed moments for the contract tests (they never read the clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from catdog.domain import ImageRecord

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """A moment ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


def unchecked(value: object) -> Any:
    """A value as it arrives from outside (a request body, an old table row): the type
    checker cannot vouch for it, and the adapter under test must reject it at run time."""
    return value


# make_image(key, *, uploaded=0, sha256=None, prediction=None, label=None, labeled=None, ...)
MakeImage = Callable[..., ImageRecord]
