"""Child processes of ``catdog up``: started, watched, restarted with back-off, stopped."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    stop_timeout: float = 20.0


class Child:
    """One supervised process; its output goes to its log file."""

    def __init__(
        self, spec: ChildSpec, popen: Callable[..., subprocess.Popen[bytes]] = subprocess.Popen
    ):
        self.spec = spec
        self._popen = popen
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        self.spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.spec.log_path, "ab")  # noqa: SIM115 - lives as long as the child
        self._process = self._popen(
            list(self.spec.argv),
            env=dict(self.spec.env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.info("started %s (pid %s), log: %s", self.spec.name, self.pid, self.spec.log_path)

    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=self.spec.stop_timeout)
            except subprocess.TimeoutExpired:
                log.warning(
                    "%s did not stop in %ss; killing it", self.spec.name, self.spec.stop_timeout
                )
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        self._process = None


class Supervisor:
    """Keeps children running: a child that exits is restarted after a growing delay."""

    def __init__(
        self,
        children: Sequence[Child],
        sleep: Callable[[float], None] = time.sleep,
        max_backoff: float = 30.0,
    ) -> None:
        self.children = list(children)
        self._sleep = sleep
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self._next_start: dict[str, float] = {}

    def start(self) -> None:
        for child in self.children:
            child.start()

    def watch_once(self, now: float) -> None:
        for child in self.children:
            code = child.exit_code()
            if code is None:
                continue
            due = self._next_start.get(child.spec.name)
            if due is None:
                delay = min(self._max_backoff, 2.0 ** min(child.restarts, 5))
                log.warning("%s exited with %s; restarting in %.0fs", child.spec.name, code, delay)
                self._next_start[child.spec.name] = now + delay
            elif now >= due:
                del self._next_start[child.spec.name]
                child.restarts += 1
                child.stop()
                child.start()

    def run_until_stopped(self, poll_seconds: float = 1.0) -> None:
        while not self._stop.wait(poll_seconds):
            self.watch_once(time.monotonic())

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        for child in reversed(self.children):
            child.stop()
