"""The real system for end-to-end tests: ``catdog up`` as a child process on loopback.

``CatdogSystem`` starts ``catdog up`` (the console script, exactly what
``make up`` runs) with a temporary data directory, free ports, a tiny baseline
model and tiny training settings, waits until the web app, the inference server
and the pipeline answer, and stops it with SIGTERM. It also finds the
supervised children by their parent pid, so fault tests can ``kill -9`` them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import requests

from tests.network import free_port
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
CATDOG = Path(sys.executable).parent / "catdog"
READY_LINE = "catdog is running"
MANAGER = "erin"
PASSWORD = "e2e manager password, long enough"


# What a check may raise while part of the system is (re)starting: not yet, try again.
UNREACHABLE: tuple[type[Exception], ...] = (requests.RequestException, OSError)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


class CatdogSystem:
    """One ``catdog up`` on 127.0.0.1 with its own data directory and ports."""

    def __init__(self, root: Path, baseline_dir: Path, env: Mapping[str, str] | None = None):
        self.root = root
        self.data_dir = root / "data"
        self.web_port = free_port()
        self.inference_port = free_port()
        self.stepfunctions_port = free_port()
        self.web = f"http://127.0.0.1:{self.web_port}"
        self.inference = f"http://127.0.0.1:{self.inference_port}"
        self.log_path = root / "catdog-up.log"
        self.env = {
            **os.environ,
            "CATDOG_DATA_DIR": str(self.data_dir),
            "CATDOG_WEB_PORT": str(self.web_port),
            "CATDOG_INFERENCE_PORT": str(self.inference_port),
            "CATDOG_STEPFUNCTIONS_PORT": str(self.stepfunctions_port),
            "CATDOG_BASELINE_DIR": str(baseline_dir),
            "CATDOG_DEFAULT_EPOCHS": "1",
            "CATDOG_TRAINING_INPUT_SIZE": "32",
            "CATDOG_TRAINING_BATCH_SIZE": "8",
            # An incremental run takes two optimizer steps on the suite's few labels.
            "CATDOG_INCREMENTAL_STEPS": "2",
            "CATDOG_SCHEDULE_SECONDS": "3",
            "CATDOG_WAIT_SECONDS": "1",
            "CATDOG_RECONCILE_SECONDS": "2",
            # The suite sends thousands of anonymous requests from 127.0.0.1; the limits
            # themselves are tested by test_abuse.py on a system with the defaults.
            "CATDOG_RATE_LIMIT_BURST": "1000000",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self, timeout: float = 180.0) -> CatdogSystem:
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(CATDOG), "up"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 180.0) -> None:
        """The pipeline is deployed, the inference server is ready, the web app answers."""

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"catdog up exited early:\n{self.log()[-4000:]}")
            return (
                READY_LINE in self.log()
                and answers(f"{self.inference}/readyz")
                and answers(f"{self.web}/api/v1/openapi.json")
            )

        wait_until(
            ready, what="catdog up to be ready", timeout=timeout, interval=0.5, ignoring=UNREACHABLE
        )

    def stop(self, timeout: float = 60.0) -> int | None:
        process = self.process
        if process is None:
            return None
        children = self.children()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait(10)
        for pid in children.values():  # only if catdog up could not stop them itself
            kill_group(pid, signal.SIGKILL)
        self.process = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def child_log(self, name: str) -> str:
        path = self.data_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- processes --------------------------------------------------------------------------

    def children(self) -> dict[str, int]:
        """The supervised children of ``catdog up``: {"web": pid, "inference-server": pid}."""
        if self.process is None:
            return {}
        found = {}
        for pid, argv in child_processes(self.process.pid):
            if "-m" in argv and "web" in argv:
                found["web"] = pid
            elif "-m" in argv and "inference_server" in argv:
                found["inference-server"] = pid
        return found

    def training_pid(self, run_id: str) -> int | None:
        path = self.data_dir / "pipeline" / f"train-{run_id}.pid"
        try:
            return int(json.loads(path.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            return None

    # -- the command line -------------------------------------------------------------------

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 60.0) -> str:
        """Run ``catdog ARGS`` against this system's settings; returns stdout (must exit 0)."""
        done = subprocess.run(
            [str(CATDOG), *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"catdog {' '.join(args)}: {done.stderr}{done.stdout}"
        return done.stdout

    def add_manager(self, name: str = MANAGER, password: str = PASSWORD) -> None:
        self.cli("manager", "add-user", name, stdin=password + "\n")


def child_processes(parent: int) -> list[tuple[int, list[str]]]:
    """(pid, argv) of the live processes whose parent is ``parent`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == parent:
            found.append((int(entry.name), [a.decode(errors="replace") for a in argv if a]))
    return found


def kill_group(pid: int, sig: int = signal.SIGKILL) -> bool:
    """Signal the process group led by ``pid`` (catdog starts each child in its own)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
