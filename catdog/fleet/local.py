"""Local adapter: a fixed list of inference servers (``catdog up``'s one, or several)."""

from __future__ import annotations

from collections.abc import Sequence

from catdog.fleet.ports import FleetMember
from catdog.pipeline.ports import InferenceSignal


class StaticFleet:
    """The servers it was given, always all of them."""

    def __init__(self, members: Sequence[FleetMember]) -> None:
        self._members = list(members)

    @classmethod
    def of_one(cls, name: str, server: InferenceSignal) -> StaticFleet:
        return cls([FleetMember(name, server)])

    def members(self) -> list[FleetMember]:
        return list(self._members)
