"""Production dependencies of the handlers, built once per Lambda container."""

from __future__ import annotations

import functools

from catdog.pending import PendingDeps, RetryPolicy
from catdog.pipeline.factory import build_pipeline_deps
from catdog.pipeline.steps import PipelineDeps
from catdog.secret_values import with_aws_secrets
from catdog.settings import Settings
from catdog.storage.factory import build_pending_queue, build_storage


@functools.cache
def production_deps() -> PipelineDeps:
    settings = with_aws_secrets(Settings.from_env())
    return build_pipeline_deps(settings, build_storage(settings))


@functools.cache
def production_pending_deps() -> PendingDeps:
    from catdog.inference_client import InferenceClient

    settings = with_aws_secrets(Settings.from_env())
    return PendingDeps(
        storage=build_storage(settings),
        # The admin token exempts the consumer from the per-address limit on predictions.
        predictor=InferenceClient(settings.inference_base_url, settings.inference_admin_token),
        queue=build_pending_queue(settings),
        retry=RetryPolicy(settings.pending_retry_base_seconds, settings.pending_retry_max_seconds),
    )
