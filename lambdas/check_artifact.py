"""CheckArtifact: ready, still training, or raise TrainingFailed / TrainingTimedOut."""

from __future__ import annotations

from typing import Any

from catdog.observability import traced_step
from catdog.pipeline import steps
from catdog.pipeline.messages import ArtifactCheckInput, Envelope
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from lambdas.deps import production_deps


@traced_step(LambdaFunction.CHECK_ARTIFACT.value)
def handler(
    event: dict[str, Any], context: Any, deps: PipelineDeps | None = None
) -> dict[str, Any]:
    deps = deps or production_deps()
    envelope = Envelope.parse(event)
    request = ArtifactCheckInput.from_event(envelope.state)
    return envelope.merge(steps.check_artifact(deps, request))
