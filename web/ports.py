"""What the web app needs from the services around it (inference server, orchestrator).

Production passes ``catdog.inference_client.InferenceClient`` and the pipeline's
``Orchestrator``; tests pass small objects with the same methods.
"""

from __future__ import annotations

from typing import Any, Protocol

from catdog.classification import PredictionResultLike
from catdog.pipeline.executions import ExecutionDetail, ExecutionSummary
from catdog.pipeline.history import ExecutionPage, ExecutionQuery


class Inference(Protocol):
    def predict(self, data: bytes, content_type: str) -> PredictionResultLike:
        """Raises ServiceUnavailable when the server is down."""
        ...

    def reload(self, version: str | None = None) -> dict[str, Any]:
        """Serve ``version`` now; raises ServiceUnavailable, ModelRejected."""
        ...

    def model_info(self) -> dict[str, Any]:
        """What is served now: at least ``{"version": ...}``."""
        ...


class Orchestrator(Protocol):
    """The Step Functions state machine (``catdog.pipeline.orchestrator.Orchestrator``)."""

    def start_execution(self, execution_input: dict[str, Any], name: str | None = None) -> str:
        """Start the retraining state machine; returns the execution ARN."""
        ...

    def list_executions(self, limit: int = 50) -> list[ExecutionSummary]:
        """Recent executions, newest first."""
        ...

    def describe_execution(self, arn_or_name: str) -> ExecutionDetail:
        """One execution with its event history; raises NotFound."""
        ...

    def list_page(
        self, query: ExecutionQuery, cursor: str | None = None, limit: int = 20
    ) -> ExecutionPage:
        """Rows newest first, filtered, consecutive skipped checks collapsed; raises
        InvalidInput for a bad cursor."""
        ...

    def stop_execution(self, arn_or_name: str, cause: str) -> None:
        """StopExecution; a no-op for an execution that is not running."""
        ...
