"""CreateTrainingRun: take the one-active-run lock (RunAlreadyActive when held)."""

from __future__ import annotations

from typing import Any

from catdog.observability import traced_step
from catdog.pipeline import steps
from catdog.pipeline.messages import Envelope, RunInput
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from lambdas.deps import production_deps


@traced_step(LambdaFunction.CREATE_TRAINING_RUN.value)
def handler(
    event: dict[str, Any], context: Any, deps: PipelineDeps | None = None
) -> dict[str, Any]:
    deps = deps or production_deps()
    envelope = Envelope.parse(event)
    return envelope.merge(steps.create_training_run(deps, RunInput.from_envelope(envelope)))
