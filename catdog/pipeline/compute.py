"""Train compute: where a training run's process lives.

The port (``TrainCompute``) is what the pipeline steps need: start a run, ask
whether it is still running, stop it. ``LocalProcessCompute`` runs
``python -m training_job --run-id ID`` as a child process; the EC2 adapter is in
``catdog.pipeline.ec2_compute``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from catdog.keys import validate_key
from catdog.settings import Settings


class ComputeState(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ComputeStatus:
    state: ComputeState
    exit_code: int | None = None
    detail: str = ""

    @property
    def running(self) -> bool:
        return self.state is ComputeState.RUNNING


class TrainCompute(Protocol):
    """Runs one training run at a time. Every method is idempotent."""

    def start(self, run_id: str) -> ComputeStatus:
        """Start training ``run_id``; a no-op when it was already started."""
        ...

    def status(self, run_id: str) -> ComputeStatus: ...

    def stop(self, run_id: str) -> None:
        """Stop the compute of ``run_id``; a no-op when it is not running."""
        ...


def training_command(run_id: str) -> list[str]:
    return [sys.executable, "-m", "training_job", "--run-id", run_id]


def _process_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` (clock ticks since boot), to tell it from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (comm) may contain spaces; the fields after it are space separated.
    after_comm = stat.rsplit(")", 1)[1].split()
    if after_comm[0] == "Z":  # a zombie has finished; only its parent's wait() is missing
        return None
    return int(after_comm[19])


class LocalProcessCompute:
    """Training as child processes of this machine.

    A pid file per run under ``<data_dir>/pipeline/`` records the process, so a
    restarted ``catdog up`` (a new parent) can still tell whether it runs and
    stop it. The log goes to ``<log_dir>/train-<run_id>.log``.
    """

    def __init__(
        self,
        settings: Settings,
        command: Callable[[str], list[str]] = training_command,
        base_env: Mapping[str, str] | None = None,
        stop_grace_seconds: float = 10.0,
    ) -> None:
        self._settings = settings
        self._command = command
        self._base_env = base_env
        self._grace = stop_grace_seconds
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._state_dir = settings.data_dir / "pipeline"

    def pid_file(self, run_id: str) -> Path:
        return self._state_dir / f"train-{validate_key(run_id)}.pid"

    def log_file(self, run_id: str) -> Path:
        return self._settings.log_dir / f"train-{validate_key(run_id)}.log"

    def start(self, run_id: str) -> ComputeStatus:
        current = self.status(run_id)
        if current.state is not ComputeState.NOT_STARTED:
            return current
        self._state_dir.mkdir(parents=True, exist_ok=True)
        self._settings.log_dir.mkdir(parents=True, exist_ok=True)
        base = os.environ if self._base_env is None else self._base_env
        env = {**base, **self._settings.to_env()}
        with self.log_file(run_id).open("ab") as log:
            child = subprocess.Popen(
                self._command(run_id),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group, so stop() reaches its children
            )
        self._children[run_id] = child
        record = {"pid": child.pid, "start_ticks": _process_start_ticks(child.pid)}
        tmp = self.pid_file(run_id).with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, self.pid_file(run_id))
        return ComputeStatus(ComputeState.RUNNING, detail=f"pid {child.pid}")

    def status(self, run_id: str) -> ComputeStatus:
        child = self._children.get(run_id)
        if child is not None:
            code = child.poll()
            if code is None:
                return ComputeStatus(ComputeState.RUNNING, detail=f"pid {child.pid}")
            return ComputeStatus(ComputeState.STOPPED, code, f"pid {child.pid} exited with {code}")
        record = self._read_pid_file(run_id)
        if record is None:
            return ComputeStatus(ComputeState.NOT_STARTED)
        if self._alive(record):
            return ComputeStatus(ComputeState.RUNNING, detail=f"pid {record['pid']}")
        return ComputeStatus(ComputeState.STOPPED, detail=f"pid {record['pid']} is gone")

    def stop(self, run_id: str) -> None:
        record = self._read_pid_file(run_id)
        child = self._children.get(run_id)
        if record is not None and (child is not None or self._alive(record)):
            self._terminate(int(record["pid"]), child)
        if child is not None:
            child.poll()

    def stop_owned(self) -> None:
        """Stop every run this object started (when ``catdog up`` shuts down)."""
        for run_id in list(self._children):
            self.stop(run_id)

    def _terminate(self, pid: int, child: subprocess.Popen[bytes] | None) -> None:
        for sig, wait in ((signal.SIGTERM, self._grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                return
            if child is not None:
                try:
                    child.wait(timeout=wait)
                    return
                except subprocess.TimeoutExpired:
                    continue
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if _process_start_ticks(pid) is None:
                    return
                time.sleep(0.05)

    def _read_pid_file(self, run_id: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.pid_file(run_id).read_text())
        except (OSError, ValueError):
            return None
        return data

    @staticmethod
    def _alive(record: Mapping[str, Any]) -> bool:
        ticks = _process_start_ticks(int(record["pid"]))
        return ticks is not None and ticks == record.get("start_ticks")
