"""StartTrainInstance: start the training compute for the run."""

from __future__ import annotations

from typing import Any

from catdog.observability import traced_step
from catdog.pipeline import steps
from catdog.pipeline.messages import Envelope, RunRef
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from lambdas.deps import production_deps


@traced_step(LambdaFunction.START_TRAIN_INSTANCE.value)
def handler(
    event: dict[str, Any], context: Any, deps: PipelineDeps | None = None
) -> dict[str, Any]:
    deps = deps or production_deps()
    envelope = Envelope.parse(event)
    return envelope.merge(steps.start_train_instance(deps, RunRef.from_event(envelope.state)))
