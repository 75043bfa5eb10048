"""ValidateModel: the accuracy gate; registers the candidate, rejects a weak one."""

from __future__ import annotations

from typing import Any

from catdog.observability import traced_step
from catdog.pipeline import steps
from catdog.pipeline.messages import Envelope, RunRef
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from lambdas.deps import production_deps


@traced_step(LambdaFunction.VALIDATE_MODEL.value)
def handler(
    event: dict[str, Any], context: Any, deps: PipelineDeps | None = None
) -> dict[str, Any]:
    deps = deps or production_deps()
    envelope = Envelope.parse(event)
    return envelope.merge(steps.validate_model(deps, RunRef.from_event(envelope.state)))
