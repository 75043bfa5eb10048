"""gunicorn embedded in code: the one production WSGI server of every catdog HTTP unit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import NoMoreData, ParseException

# What gunicorn raises inside an application that reads a malformed or cut-off
# request body (a bad chunk size, a body shorter than announced): the client's
# fault, answered 400 by every catdog app, never 500.
MALFORMED_BODY_ERRORS: tuple[type[Exception], ...] = (ParseException, NoMoreData)
MALFORMED_BODY_MESSAGE = "the request body is malformed or incomplete"


class EmbeddedGunicorn(BaseApplication):
    """Configured from a dict, no command-line parsing. Each worker calls ``load_app``
    after the fork, so no connection, thread or model is shared between processes."""

    def __init__(self, load_app: Callable[[], Any], options: dict[str, Any]) -> None:
        self._load_app = load_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load_app()


def gthread_options(
    host: str, port: int, *, workers: int, threads: int, timeout: int, proc_name: str
) -> dict[str, Any]:
    """Options shared by every unit: threaded workers, bounded request lines and headers
    (bodies are limited by the apps), and no control socket (several servers per machine)."""
    return {
        "bind": f"{host}:{port}",
        "worker_class": "gthread",
        "workers": workers,
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": 15,
        "keepalive": 5,
        "control_socket_disable": True,
        "proc_name": proc_name,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }
