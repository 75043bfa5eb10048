"""Every Lambda function's handler, named as its function (``lambdas.handlers.<name>``):
the step it runs and how the step's input is read from the task's envelope."""

from __future__ import annotations

from typing import Any

from catdog.errors import ServiceUnavailable
from catdog.observability import traced_step
from catdog.pending import PendingDeps, classify_announced, parse_sqs_event
from catdog.pipeline import steps
from catdog.pipeline.messages import (
    ArtifactCheckInput,
    Envelope,
    ExecutionContext,
    FailureInput,
    PromoteInput,
    RunEnding,
    RunInput,
    RunRef,
    Served,
)
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from catdog.settings import Settings
from lambdas.adapter import StepHandler, production_pending_deps, step_handler


def _force(envelope: Envelope, settings: Settings) -> bool:
    return bool(envelope.state.get("force", False))


def _run_ref(envelope: Envelope, settings: Settings) -> RunRef:
    return RunRef.from_event(envelope.state)


def _run_ending(envelope: Envelope, settings: Settings) -> RunEnding:
    return RunEnding.from_envelope(steps.run_id_for(envelope.execution_name), envelope)


def _no_input(envelope: Envelope, settings: Settings) -> None:
    return None


def _serve_champion(deps: PipelineDeps, _: None) -> Served:
    return steps.signal_inference_server(deps)


check_manager_mode: StepHandler = step_handler(
    LambdaFunction.CHECK_MANAGER_MODE, steps.check_manager_mode, ExecutionContext.from_envelope
)
check_label_threshold: StepHandler = step_handler(
    LambdaFunction.CHECK_LABEL_THRESHOLD, steps.check_label_threshold, _force
)
create_training_run: StepHandler = step_handler(
    LambdaFunction.CREATE_TRAINING_RUN,
    steps.create_training_run,
    lambda envelope, _settings: RunInput.from_envelope(envelope),
)
start_train_instance: StepHandler = step_handler(
    LambdaFunction.START_TRAIN_INSTANCE, steps.start_train_instance, _run_ref
)
check_artifact: StepHandler = step_handler(
    LambdaFunction.CHECK_ARTIFACT,
    steps.check_artifact,
    lambda envelope, _settings: ArtifactCheckInput.from_event(envelope.state),
)
validate_model: StepHandler = step_handler(
    LambdaFunction.VALIDATE_MODEL, steps.validate_model, _run_ref
)
promote_model: StepHandler = step_handler(
    LambdaFunction.PROMOTE_MODEL,
    steps.promote_model,
    lambda envelope, _settings: PromoteInput.from_event(envelope.state),
)
signal_inference_server: StepHandler = step_handler(
    LambdaFunction.SIGNAL_INFERENCE_SERVER, _serve_champion, _no_input
)
stop_train_instance: StepHandler = step_handler(
    LambdaFunction.STOP_TRAIN_INSTANCE, steps.stop_train_instance, _run_ending
)
mark_run_failed: StepHandler = step_handler(
    LambdaFunction.MARK_RUN_FAILED,
    steps.mark_run_failed,
    lambda envelope, _settings: FailureInput.from_envelope(envelope),
)


@traced_step("ClassifyPending")
def classify_pending(
    event: dict[str, Any], context: Any, deps: PendingDeps | None = None
) -> dict[str, Any]:
    """The SQS consumer (not a state-machine step) that classifies uploads stored while
    the inference tier was down. A batch with images still unclassifiable raises
    ServiceUnavailable after their messages got a backoff delay, so Lambda keeps them."""
    deps = deps or production_pending_deps()
    result = classify_announced(
        deps.storage, deps.predictor, deps.queue, parse_sqs_event(event), deps.retry
    )
    if result.deferred:
        raise ServiceUnavailable(f"inference tier unavailable; {len(result.deferred)} deferred")
    return {"outcomes": result.outcomes}


def handler_for(function: LambdaFunction) -> StepHandler:
    """The handler of one state-machine function; deployed as ``lambdas.handlers.<value>``."""
    handler: StepHandler = globals()[function.value]
    return handler
