"""Production dependencies of the handlers, built once per Lambda container."""

from __future__ import annotations

import functools

from catdog.pending import PendingDeps, RetryPolicy
from catdog.pipeline.factory import build_pipeline_deps
from catdog.pipeline.steps import PipelineDeps
from catdog.settings import Settings
from catdog.storage.factory import build_pending_queue, build_storage


@functools.cache
def production_deps() -> PipelineDeps:
    settings = Settings.from_env()
    return build_pipeline_deps(settings, build_storage(settings))


@functools.cache
def production_pending_deps() -> PendingDeps:
    from catdog.inference_client import InferenceClient

    settings = Settings.from_env()
    return PendingDeps(
        storage=build_storage(settings),
        predictor=InferenceClient(settings.inference_base_url),
        queue=build_pending_queue(settings),
        retry=RetryPolicy(settings.pending_retry_base_seconds, settings.pending_retry_max_seconds),
    )
