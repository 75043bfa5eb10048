"""The real server (``python -m inference_server``, gunicorn) as a child process on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from catdog.inference_client import InferenceClient
from catdog.settings import Settings
from tests.network import free_port
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    """Start with ``start()``, stop with ``stop()`` (SIGTERM); stderr goes to ``log_path``."""

    def __init__(self, settings: Settings, log_path: Path, args: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._settings = settings
        self._args = list(args)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float = 120.0) -> ServerProcess:
        env = {
            **os.environ,
            **self._settings.to_env(),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
        }
        command = [sys.executable, "-m", "inference_server", "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, *self._args], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        client = InferenceClient(self.url, timeout=2.0)
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the server exited with {process.returncode}")
            return client.is_ready()

        try:
            wait_until(ready, what="the server to be ready", timeout=ready_timeout, interval=0.2)
        except AssertionError as error:
            self.stop()
            raise RuntimeError(f"{error}:\n{self.log()}") from error
        return self

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; returns the exit status (kills it if it does not stop)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
