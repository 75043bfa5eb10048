"""The inference server's composition root: builds the service and serves it with
gunicorn (never Flask's dev server).

One gthread worker process, so the batcher and the model are shared by all
request threads. Everything with threads (TensorFlow, the batcher, the
reconciler) and every storage connection is built inside the worker, after
gunicorn forks it, because threads and connections do not survive a fork.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flask import Flask

from catdog.artifacts import MODEL_FILE
from catdog.composition import decode_budget
from catdog.errors import CatdogError
from catdog.gunicorn_app import EmbeddedGunicorn, gthread_options
from catdog.preprocessing import preprocess_bytes
from catdog.settings import Settings
from inference_server.app import create_app
from inference_server.batching import MicroBatcher
from inference_server.holder import ModelHolder
from inference_server.logs import logging_config
from inference_server.service import InferenceService, Reconciler
from inference_server.sources import (
    DirectorySource,
    FallbackSource,
    ModelSource,
    RegistrySource,
    directory_version,
)

log = logging.getLogger(__name__)


def build_service(settings: Settings, source: ModelSource) -> InferenceService:
    """The data plane wired from the settings (not started)."""
    max_pixels = settings.max_image_pixels
    holder = ModelHolder(warmup_batch_sizes=(1,), max_image_pixels=max_pixels)
    budget = decode_budget(settings)

    def preprocess(data: bytes, input_size: int) -> Any:
        return preprocess_bytes(data, input_size, max_pixels, budget)

    batcher = MicroBatcher(
        holder, preprocess, settings.batch_max_size, settings.batch_max_wait_ms / 1000.0
    )
    return InferenceService(holder, batcher, source, settings.unsure_threshold)


def baseline_dir(settings: Settings) -> Path | None:
    """The shipped baseline model directory, when configured and present."""
    path = settings.baseline_dir
    return path if path is not None and (path / MODEL_FILE).is_file() else None


def registry_source(settings: Settings) -> ModelSource:
    """The registry champion, falling back to the baseline while the registry is empty."""
    from catdog.storage.factory import build_storage

    storage = build_storage(settings)
    source: ModelSource = RegistrySource(storage.registry, storage.blobs, settings.model_cache_dir)
    baseline = baseline_dir(settings)
    return source if baseline is None else FallbackSource(source, baseline)


class InferenceRuntime:
    """What lives in the worker process: the service, its first load and the reconciler."""

    def __init__(
        self,
        settings: Settings,
        source_factory: Callable[[], ModelSource],
        reconcile: bool,
        fallback_version: str | None = None,
    ) -> None:
        self._settings = settings
        self._source_factory = source_factory
        self._reconcile = reconcile
        self._fallback_version = fallback_version
        self.service: InferenceService | None = None
        self._reconciler: Reconciler | None = None

    def start(self) -> Flask:
        """Build and start everything; the first model loads in the background."""
        service = build_service(self._settings, self._source_factory())
        service.start()
        self.service = service
        threading.Thread(target=self._first_load, name="first-load", daemon=True).start()
        if self._reconcile:
            self._reconciler = Reconciler(service, self._settings.reconcile_seconds)
            self._reconciler.start()
        return create_app(service, self._settings)

    def stop(self) -> None:
        if self._reconciler is not None:
            self._reconciler.stop()
        if self.service is not None:
            self.service.close()
        log.info("event=stopped")

    def _first_load(self) -> None:
        assert self.service is not None
        try:
            self.service.reload()
            return
        except CatdogError as exc:
            log.error("event=first_load_failed reason=%r", str(exc))
        if self._fallback_version and not self.service.is_ready():
            try:
                self.service.reload(self._fallback_version)
            except CatdogError as exc:
                log.error("event=fallback_load_failed reason=%r", str(exc))


def gunicorn_options(
    settings: Settings, host: str, port: int, on_exit: Callable[[], None]
) -> dict[str, Any]:
    def worker_exit(server: Any, worker: Any) -> None:
        on_exit()

    # One worker: the model and the micro-batcher are shared by all request threads.
    options = gthread_options(
        host,
        port,
        workers=1,
        threads=settings.inference_threads,
        timeout=120,
        proc_name="catdog-inference",
    )
    return {
        **options,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "logconfig_dict": logging_config(json_lines=settings.backend == "aws"),
        "worker_exit": worker_exit,
    }


def serve(settings: Settings, host: str, port: int, model_dirs: Sequence[Path] = ()) -> None:
    """Run the server until SIGTERM/SIGINT. With ``model_dirs``, serve those as they are
    (the first one; the others can be swapped in by version); otherwise follow the registry."""
    if model_dirs:
        dirs = list(model_dirs)
        runtime = InferenceRuntime(settings, lambda: DirectorySource(dirs), reconcile=False)
    else:
        baseline = baseline_dir(settings)
        runtime = InferenceRuntime(
            settings,
            lambda: registry_source(settings),
            reconcile=True,
            fallback_version=None if baseline is None else directory_version(baseline),
        )
    log.info(
        "event=starting host=%s port=%d mode=%s", host, port, "dirs" if model_dirs else "registry"
    )
    EmbeddedGunicorn(runtime.start, gunicorn_options(settings, host, port, runtime.stop)).run()
