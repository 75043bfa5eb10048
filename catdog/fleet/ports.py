"""Port: the in-service inference instances, each with the admin client that signals it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from catdog.pipeline.ports import InferenceSignal


@dataclass(frozen=True)
class FleetMember:
    """One inference instance: ``name`` says which (an instance id on AWS, a URL locally)."""

    name: str
    server: InferenceSignal


class InferenceFleet(Protocol):
    def members(self) -> list[FleetMember]:
        """The instances in service now. Raises ServiceUnavailable when they cannot be listed."""
        ...
