"""StopTrainInstance: stop the execution's training compute (both paths)."""

from __future__ import annotations

from typing import Any

from catdog.observability import traced_step
from catdog.pipeline import steps
from catdog.pipeline.messages import Envelope, RunRef
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from lambdas.deps import production_deps


@traced_step(LambdaFunction.STOP_TRAIN_INSTANCE.value)
def handler(
    event: dict[str, Any], context: Any, deps: PipelineDeps | None = None
) -> dict[str, Any]:
    deps = deps or production_deps()
    envelope = Envelope.parse(event)
    ref = RunRef(steps.run_id_for(envelope.execution_name))
    return envelope.merge(steps.stop_train_instance(deps, ref))
