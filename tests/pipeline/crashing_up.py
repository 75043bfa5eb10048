"""A ``catdog up`` pipeline that starts a forced run, says READY, and waits to be killed.

Run as ``python tests/pipeline/crashing_up.py`` with the settings in CATDOG_* variables.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from catdog.pipeline.compute import LocalProcessCompute
from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from hosts.embedded.step_functions import LocalPipeline

RUN = "before-restart"
SLEEPER = "import time; time.sleep(120)"


class NoInferenceServer:
    def reload(self, version: str | None = None) -> dict[str, Any]:
        raise RuntimeError("this run never gets that far")

    def model_info(self) -> dict[str, Any]:
        return {}


def main() -> None:
    settings = Settings.from_env()
    storage = build_local_storage(settings)
    compute = LocalProcessCompute(settings, command=lambda run_id: [sys.executable, "-c", SLEEPER])
    pipeline = LocalPipeline(
        settings, storage, compute=compute, inference=NoInferenceServer(), schedule=False
    )
    pipeline.start()
    body = {"trigger": "manual", "force": True, "wait_seconds": 1}
    pipeline.orchestrator.start_execution(body, RUN)
    deadline = time.monotonic() + 60
    while not (compute.pid_file(RUN).exists() and storage.runs.active()):
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.1)
    print("READY", flush=True)
    time.sleep(300)


if __name__ == "__main__":
    main()
