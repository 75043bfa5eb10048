"""A ``catdog up`` pipeline that starts a forced run, says READY, and waits to be killed.

Run as ``python -m tests.pipeline.crashing_up`` from the repository root, with the
settings in CATDOG_* variables.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from catdog.pipeline.compute import LocalProcessCompute
from catdog.pipeline.ports import InferenceSignal
from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from hosts.embedded.step_functions import LocalPipeline
from tests.polling import wait_until

RUN = "before-restart"
SLEEPER = "import time; time.sleep(120)"


class NoInferenceServer(InferenceSignal):
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
    wait_until(
        lambda: compute.pid_file(RUN).exists() and storage.runs.active(),
        what="the run to start",
        timeout=60,
    )
    print("READY", flush=True)
    time.sleep(300)


if __name__ == "__main__":
    main()
