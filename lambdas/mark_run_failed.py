"""MarkRunFailed: fail the execution's run with the error a Catch recorded."""

from __future__ import annotations

from typing import Any

from catdog.observability import traced_step
from catdog.pipeline import steps
from catdog.pipeline.messages import Envelope, FailureInput
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from lambdas.deps import production_deps


@traced_step(LambdaFunction.MARK_RUN_FAILED.value)
def handler(
    event: dict[str, Any], context: Any, deps: PipelineDeps | None = None
) -> dict[str, Any]:
    deps = deps or production_deps()
    envelope = Envelope.parse(event)
    failure = FailureInput.from_envelope(envelope)
    return envelope.merge(steps.mark_run_failed(deps, failure))
