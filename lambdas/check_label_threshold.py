"""CheckLabelThreshold: go on only when enough labels arrived since the champion's cutoff."""

from __future__ import annotations

from typing import Any

from catdog.observability import traced_step
from catdog.pipeline import steps
from catdog.pipeline.messages import Envelope
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from lambdas.deps import production_deps


@traced_step(LambdaFunction.CHECK_LABEL_THRESHOLD.value)
def handler(
    event: dict[str, Any], context: Any, deps: PipelineDeps | None = None
) -> dict[str, Any]:
    deps = deps or production_deps()
    envelope = Envelope.parse(event)
    force = bool(envelope.state.get("force", False))
    return envelope.merge(steps.check_label_threshold(deps, force))
