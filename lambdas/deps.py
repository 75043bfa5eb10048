"""Production dependencies of the handlers, built once per Lambda container."""

from __future__ import annotations

import functools

from catdog.pipeline.factory import build_pipeline_deps
from catdog.pipeline.steps import PipelineDeps
from catdog.settings import Settings
from catdog.storage.factory import build_storage


@functools.cache
def production_deps() -> PipelineDeps:
    settings = Settings.from_env()
    return build_pipeline_deps(settings, build_storage(settings))
