"""CheckManagerMode: go on only in auto mode, or when the input says force."""

from __future__ import annotations

from typing import Any

from catdog.observability import traced_step
from catdog.pipeline import steps
from catdog.pipeline.messages import Envelope, ExecutionContext
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from lambdas.deps import production_deps


@traced_step(LambdaFunction.CHECK_MANAGER_MODE.value)
def handler(
    event: dict[str, Any], context: Any, deps: PipelineDeps | None = None
) -> dict[str, Any]:
    deps = deps or production_deps()
    envelope = Envelope.parse(event)
    context = ExecutionContext.from_envelope(envelope, deps.settings)
    return envelope.merge(steps.check_manager_mode(deps, context))
