"""Serving the app in production: gunicorn (gthread workers) embedded, never Flask's dev server.

Each worker builds its own app after the fork (``load``), so no database
connection or HTTP client is shared between processes.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from catdog.composition import with_local_secrets
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
    return create_app(
        settings,
        storage=build_storage(settings),
        inference=InferenceClient(settings.inference_base_url, settings.inference_admin_token),
        orchestrator=build_orchestrator(settings),
    )


class WebServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return build_app(self._settings)


def server_options(host: str, port: int, workers: int = WORKERS) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "worker_class": "gthread",
        "workers": workers,
        "threads": THREADS,
        "timeout": TIMEOUT_S,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "catdog-web",
        # Limits on request lines and headers; bodies are limited by the app.
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    host = host or settings.web_host
    port = port or settings.web_port
    log.info("web app on http://%s:%d/", host, port)
    WebServer(settings, server_options(host, port)).run()
