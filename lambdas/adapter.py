"""One adapter turns a pipeline step into a Lambda handler.

The handler parses the step's typed input from the task's envelope, calls the step
in the core, and merges its typed output back into the state document; it is
traced (an X-Ray subsegment on AWS) and logged with the execution's ids. A step's
exception propagates, so Lambda reports its class name as the error type that the
state machine's Retry and Catch match.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from catdog.observability import traced_step
from catdog.pending import PendingDeps
from catdog.pipeline.messages import Envelope, Output
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.steps import PipelineDeps
from catdog.secret_values import with_aws_secrets
from catdog.settings import Settings

StepInput = TypeVar("StepInput")


class StepHandler(Protocol):
    """What Lambda calls; tests pass their own ``deps``."""

    def __call__(
        self, event: dict[str, Any], context: Any, deps: PipelineDeps | None = None
    ) -> dict[str, Any]: ...


def step_handler(
    function: LambdaFunction,
    step: Callable[[PipelineDeps, StepInput], Output],
    parse: Callable[[Envelope, Settings], StepInput],
) -> StepHandler:
    """The handler of ``function``: ``parse`` the envelope, run ``step``, merge its output."""

    def handler(
        event: dict[str, Any], context: Any, deps: PipelineDeps | None = None
    ) -> dict[str, Any]:
        deps = deps or production_deps()
        envelope = Envelope.parse(event)
        return envelope.merge(step(deps, parse(envelope, deps.settings)))

    handler.__name__ = handler.__qualname__ = function.value
    return traced_step(function.value)(handler)


@functools.cache
def production_settings() -> Settings:
    """The settings of this Lambda container: its environment, secrets from Secrets Manager."""
    return with_aws_secrets(Settings.from_env())


@functools.cache
def production_deps() -> PipelineDeps:
    """The pipeline steps' dependencies, built once per Lambda container."""
    from catdog.pipeline.factory import build_pipeline_deps
    from catdog.storage.factory import build_storage

    settings = production_settings()
    return build_pipeline_deps(settings, build_storage(settings))


@functools.cache
def production_pending_deps() -> PendingDeps:
    """The pending-queue consumer's dependencies, built once per Lambda container."""
    from catdog.inference_client import InferenceClient
    from catdog.pending import RetryPolicy
    from catdog.storage.factory import build_pending_queue, build_storage

    settings = production_settings()
    return PendingDeps(
        storage=build_storage(settings),
        # The admin token exempts the consumer from the per-address limit on predictions.
        predictor=InferenceClient(settings.inference_base_url, settings.inference_admin_token),
        queue=build_pending_queue(settings),
        retry=RetryPolicy(settings.pending_retry_base_seconds, settings.pending_retry_max_seconds),
    )
