"""``catdog up``: the embedded system on one machine.

Children: the inference server and the web app (production WSGI servers of
their own). In this process: the local Step Functions runtime (moto's ASL
interpreter with the Lambda handlers dispatched in-process), its scheduler,
the classifier of images stored while the inference server was down, and the
sweeper of orphaned image blobs.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Protocol

from catdog.bootstrap import default_baseline_dir, ensure_champion
from catdog.composition import with_local_secrets
from catdog.errors import ConfigurationError
from catdog.orphans import OrphanSweeper, PeriodicSweep
from catdog.settings import Settings
from catdog.storage.factory import build_storage
from catdog.storage.local.blobs import LocalBlobStore
from catdog.storage.ports import Storage
from hosts.embedded.supervisor import Child, ChildSpec, Supervisor

log = logging.getLogger("catdog.up")


class Service(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


def child_specs(settings: Settings, base_env: dict[str, str]) -> list[ChildSpec]:
    env = {**base_env, **settings.to_env()}
    python = sys.executable
    return [
        ChildSpec(
            "inference-server",
            [python, "-m", "inference_server"],
            env,
            settings.log_dir / "inference-server.log",
        ),
        ChildSpec("web", [python, "-m", "web"], env, settings.log_dir / "web.log"),
    ]


def in_process_services(settings: Settings, storage: Storage) -> list[Service]:
    from catdog.classification import PendingClassifier
    from catdog.inference_client import InferenceClient
    from hosts.embedded.step_functions import LocalPipeline

    client = InferenceClient(settings.inference_base_url, settings.inference_admin_token)
    services: list[Service] = [LocalPipeline(settings, storage), PendingClassifier(storage, client)]
    blobs = storage.blobs
    if isinstance(blobs, LocalBlobStore):
        sweeper = OrphanSweeper(
            blobs, storage.catalog, blobs.modified_at, settings.orphan_grace_seconds
        )
        services.append(PeriodicSweep(sweeper))
    return services


def run_system(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if settings.backend != "local":
        raise ConfigurationError("catdog up runs the embedded backend; set CATDOG_BACKEND=local")
    settings = with_local_secrets(settings.with_changes(data_dir=settings.data_dir.resolve()))
    storage = build_storage(settings)
    champion = ensure_champion(storage, default_baseline_dir(settings))
    log.info("champion model: %s", champion.version if champion else "none (no baseline found)")
    supervisor = Supervisor([Child(spec) for spec in child_specs(settings, dict(os.environ))])
    services = in_process_services(settings, storage)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        supervisor.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started: list[Service] = []
    try:
        supervisor.start()
        for service in services:
            service.start()
            started.append(service)
        _announce(settings)
        supervisor.run_until_stopped()
    finally:
        log.info("stopping")
        for service in reversed(started):
            service.stop()
        supervisor.stop()
    return 0


def _announce(settings: Settings) -> None:
    logs = Path(settings.log_dir)
    print(
        "\ncatdog is running (Ctrl-C stops it)\n"
        f"  web app:          http://{settings.web_host}:{settings.web_port}/\n"
        f"  inference server: {settings.inference_base_url}/v1/model\n"
        f"  pipeline:         Step Functions (moto) on 127.0.0.1:{settings.stepfunctions_port}\n"
        f"  data:             {settings.data_dir}\n"
        f"  logs:             {logs}\n",
        flush=True,
    )
