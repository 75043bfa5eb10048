"""What the pipeline steps need from the inference server and the orchestrator."""

from __future__ import annotations

from typing import Any, Protocol


class InferenceSignal(Protocol):
    """The admin side of the inference server (``catdog.inference_client.InferenceClient``)."""

    def reload(self, version: str | None = None) -> dict[str, Any]:
        """Load ``version`` (the champion when None); raises ServiceUnavailable when down."""
        ...

    def model_info(self) -> dict[str, Any]:
        """What is served now: at least ``{"version": ...}``."""
        ...


class ExecutionLiveness(Protocol):
    def is_running(self, execution_id: str) -> bool:
        """Whether this execution still runs (False for one the orchestrator forgot)."""
        ...
