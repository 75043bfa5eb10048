"""The retraining state machine, built with the Step Functions Data Science SDK.

``build_definition()`` is pure: no AWS calls, no environment. ``python -m
workflows export`` writes it to ``workflows/retrain.asl.json``, which is the
file deployed (CloudFormation ``DefinitionSubstitutions`` fill the
``${...FunctionArn}`` placeholders) and run locally (the runtime fills them).
"""

from __future__ import annotations

import json
from typing import Any

from stepfunctions.steps import (
    Catch,
    Chain,
    Choice,
    ChoiceRule,
    Fail,
    LambdaStep,
    Pass,
    Retry,
    Succeed,
    Wait,
)
from stepfunctions.steps.states import Graph

from catdog.pipeline.names import LambdaFunction, StepName

COMMENT = "catdog retraining: gate, train, validate, promote, hot-swap"
TASK_TIMEOUT_SECONDS = 120
LAMBDA_TRANSIENT_ERRORS = [
    "ServiceUnavailable",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
# The inference server may be restarting; its own reconciliation also catches up later.
SIGNAL_RETRY_ERRORS = ["ServiceUnavailable", "ServedVersionMismatch", "ModelNotLoaded"]


class FailWithCause(Fail):
    """A Fail state whose error and cause come from the state (``ErrorPath``/``CausePath``).

    The SDK predates these ASL fields, so they are added to its output here.
    """

    def __init__(self, state_id: str, error_path: str, cause_path: str, **kwargs: Any) -> None:
        super().__init__(state_id, **kwargs)
        self._paths = {"ErrorPath": error_path, "CausePath": cause_path}

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = super().to_dict()
        result.update(self._paths)
        return result


def _task(
    name: StepName,
    function: LambdaFunction,
    timeout: int = TASK_TIMEOUT_SECONDS,
    first_retry: Retry | None = None,
) -> LambdaStep:
    """A Lambda task; ``first_retry`` goes before the generic one (the first match wins)."""
    step = LambdaStep(
        state_id=name.value,
        parameters={
            "FunctionName": "${" + function.placeholder + "}",
            "Payload": {
                "state.$": "$",
                "execution": {"name.$": "$$.Execution.Name", "id.$": "$$.Execution.Id"},
            },
        },
        output_path="$.Payload",
        timeout_seconds=timeout,
    )
    if first_retry is not None:
        step.add_retry(first_retry)
    step.add_retry(
        Retry(
            error_equals=LAMBDA_TRANSIENT_ERRORS,
            interval_seconds=2,
            max_attempts=3,
            backoff_rate=2.0,
        )
    )
    return step


def _is_true(variable: str) -> ChoiceRule:
    return ChoiceRule.BooleanEquals(variable=variable, value=True)


def build_definition() -> Graph:
    """The whole state machine as an SDK graph (``.to_dict()`` gives the ASL)."""
    failed = FailWithCause(
        StepName.PIPELINE_FAILED.value, error_path="$.error.Error", cause_path="$.error.Cause"
    )
    stop_after_failure = _task(
        StepName.STOP_TRAIN_INSTANCE_AFTER_FAILURE, LambdaFunction.STOP_TRAIN_INSTANCE
    )
    stop_after_failure.add_catch(
        Catch(error_equals=["States.ALL"], next_step=failed, result_path="$.stop_error")
    )
    stop_after_failure.next(failed)
    mark_failed = _task(StepName.MARK_RUN_FAILED, LambdaFunction.MARK_RUN_FAILED)
    mark_failed.add_catch(
        Catch(error_equals=["States.ALL"], next_step=stop_after_failure, result_path="$.mark_error")
    )
    mark_failed.next(stop_after_failure)

    def on_error(step: LambdaStep) -> LambdaStep:
        step.add_catch(
            Catch(error_equals=["States.ALL"], next_step=mark_failed, result_path="$.error")
        )
        return step

    skipped_by_mode = Succeed(StepName.SKIPPED_BY_MODE.value, comment="mode is manual")
    skipped_by_threshold = Succeed(
        StepName.SKIPPED_BY_THRESHOLD.value, comment="too few new labels"
    )
    skipped_run_active = Succeed(
        StepName.SKIPPED_RUN_ACTIVE.value, comment="another run holds the lock"
    )
    promoted = Succeed(StepName.PROMOTED.value, comment="the new champion is served")
    promoted_not_served = Succeed(
        StepName.PROMOTED_NOT_SERVED.value,
        comment="champion changed; the server did not load it (reconciliation retries)",
    )
    rejected = Succeed(StepName.REJECTED.value, comment="the gate kept the champion")

    # One terminal state per outcome, so the console shows how each execution ended.
    which = Choice(StepName.WHICH_OUTCOME.value)
    which.add_choice(ChoiceRule.StringEquals(variable="$.outcome", value="rejected"), rejected)
    which.add_choice(
        ChoiceRule.StringEquals(variable="$.outcome", value="promoted_not_served"),
        promoted_not_served,
    )
    which.add_choice(
        ChoiceRule.And(
            [
                ChoiceRule.IsPresent(variable="$.rolled_back_from", value=True),
                ChoiceRule.IsNull(variable="$.rolled_back_from", value=False),
            ]
        ),
        promoted_not_served,
    )
    which.default_choice(promoted)

    stop = on_error(_task(StepName.STOP_TRAIN_INSTANCE, LambdaFunction.STOP_TRAIN_INSTANCE))
    stop.next(which)

    serving_failed = Pass(
        StepName.SERVING_FAILED.value, result="promoted_not_served", result_path="$.outcome"
    )
    serving_failed.next(stop)
    signal = _task(
        StepName.SIGNAL_INFERENCE_SERVER,
        LambdaFunction.SIGNAL_INFERENCE_SERVER,
        first_retry=Retry(
            error_equals=SIGNAL_RETRY_ERRORS, interval_seconds=1, max_attempts=6, backoff_rate=2.0
        ),
    )
    # Once promoted, the run is done: a server that stays down picks the champion up
    # by reconciliation, so a failed signal is recorded, not treated as a failed run.
    signal.add_catch(
        Catch(error_equals=["States.ALL"], next_step=serving_failed, result_path="$.signal_error")
    )
    signal.next(stop)

    promote = on_error(_task(StepName.PROMOTE_MODEL, LambdaFunction.PROMOTE_MODEL))
    promote.next(signal)

    accepted = Choice(StepName.MODEL_ACCEPTED.value)
    accepted.add_choice(_is_true("$.accepted"), promote)
    accepted.default_choice(stop)
    validate = on_error(_task(StepName.VALIDATE_MODEL, LambdaFunction.VALIDATE_MODEL, timeout=300))
    validate.next(accepted)

    wait = Wait(StepName.WAIT_FOR_TRAINING.value, seconds_path="$.wait_seconds")
    check_artifact = on_error(_task(StepName.CHECK_ARTIFACT, LambdaFunction.CHECK_ARTIFACT))
    wait.next(check_artifact)
    ready = Choice(StepName.ARTIFACT_READY.value)
    ready.add_choice(ChoiceRule.StringEquals(variable="$.artifact", value="ready"), validate)
    ready.default_choice(wait)
    check_artifact.next(ready)

    start = on_error(_task(StepName.START_TRAIN_INSTANCE, LambdaFunction.START_TRAIN_INSTANCE))
    start.next(wait)

    lock_held = Pass(StepName.LOCK_HELD.value, result="skipped", result_path="$.outcome")
    lock_held.next(skipped_run_active)
    create_run = _task(StepName.CREATE_TRAINING_RUN, LambdaFunction.CREATE_TRAINING_RUN)
    create_run.add_catch(
        Catch(error_equals=["RunAlreadyActive"], next_step=lock_held, result_path="$.lock")
    )
    on_error(create_run).next(start)

    enough = Choice(StepName.ENOUGH_NEW_LABELS.value)
    enough.add_choice(_is_true("$.proceed"), create_run)
    enough.default_choice(skipped_by_threshold)
    threshold = on_error(
        _task(StepName.CHECK_LABEL_THRESHOLD, LambdaFunction.CHECK_LABEL_THRESHOLD)
    )
    threshold.next(enough)

    mode_ok = Choice(StepName.MODE_ALLOWS_TRAINING.value)
    mode_ok.add_choice(_is_true("$.proceed"), threshold)
    mode_ok.default_choice(skipped_by_mode)
    check_mode = on_error(_task(StepName.CHECK_MANAGER_MODE, LambdaFunction.CHECK_MANAGER_MODE))
    check_mode.next(mode_ok)

    return Graph(Chain([check_mode]), comment=COMMENT)


def definition_json() -> str:
    """The ASL document exactly as committed (stable key order, trailing newline)."""
    return json.dumps(build_definition().to_dict(), indent=2) + "\n"
