"""Serving the app in production: gunicorn (gthread workers) embedded, never Flask's dev server.

Each worker builds its own app after the fork (``load``), so no database
connection or HTTP client is shared between processes.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from catdog.composition import with_local_secrets
from catdog.gunicorn_app import EmbeddedGunicorn, gthread_options
from catdog.secret_values import with_aws_secrets
from catdog.settings import Settings
from catdog.storage.factory import build_storage

log = logging.getLogger(__name__)

WORKERS = 2
THREADS = 8
# Uploads wait for a URL import (bounded by url_import_timeout_s) and the inference server.
TIMEOUT_S = 60


def build_app(settings: Settings) -> Flask:
    """The production app: real storage, inference client and orchestrator."""
    from catdog.inference_client import InferenceClient
    from catdog.pipeline.factory import build_orchestrator
    from web.app import create_app

    if settings.backend == "local":
        settings = with_local_secrets(settings)
    else:
        settings = with_aws_secrets(settings)
    return create_app(
        settings,
        storage=build_storage(settings),
        inference=InferenceClient(settings.inference_base_url, settings.inference_admin_token),
        orchestrator=build_orchestrator(settings),
    )


def server_options(host: str, port: int, workers: int = WORKERS) -> dict[str, Any]:
    options = gthread_options(
        host, port, workers=workers, threads=THREADS, timeout=TIMEOUT_S, proc_name="catdog-web"
    )
    return {**options, "accesslog": "-", "errorlog": "-", "loglevel": "info"}


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    host = host or settings.web_host
    port = port or settings.web_port
    log.info("web app on http://%s:%d/", host, port)
    EmbeddedGunicorn(lambda: build_app(settings), server_options(host, port)).run()
