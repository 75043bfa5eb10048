"""Test doubles for the pipeline's outside world (train compute, inference server) and helpers."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from catdog.artifacts import write_artifact
from catdog.clock import to_iso, utc_now
from catdog.domain import (
    ACTIVE_RUN_STATUSES,
    ImageRecord,
    Mode,
    ModelStatus,
    ModelVersion,
    RunProgress,
    RunStatus,
)
from catdog.errors import CanaryMismatch, ServiceUnavailable
from catdog.notifiers import ALERTS_LOG, JsonLinesNotifier
from catdog.pipeline.compute import ComputeState, ComputeStatus, TrainCompute
from catdog.pipeline.deps import PipelineDeps
from catdog.pipeline.executions import ExecutionDetail
from catdog.pipeline.ports import ExecutionLiveness, InferenceSignal
from catdog.settings import Settings
from catdog.storage.ports import Storage
from hosts.embedded.step_functions import LocalPipeline
from tests.gate_metrics import paired_metrics
from tests.polling import wait_until
from tests.storage_support import champion_version

BASELINE = "baseline"


@dataclass
class TrainingScript:
    """What the fake training does: reach ``accuracy``, or fail with ``error``."""

    accuracy: float = 0.95
    error: str | None = None
    # Set to make the training wait (e.g. until the test has seen a second trigger).
    release: threading.Event | None = None


class FakeTrainCompute(TrainCompute):
    """Trains in a thread the way ``python -m training_job`` does: pending -> training,
    progress, then a complete artifact (written with the real ``write_artifact``) and exit,
    or the run marked failed and exit."""

    def __init__(self, storage: Storage, model_file: Path, script: TrainingScript | None = None):
        self._storage = storage
        self._model_file = model_file
        self.script = script or TrainingScript()
        self.started: list[str] = []
        self.stopped: list[str] = []
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, run_id: str) -> ComputeStatus:
        with self._lock:
            if run_id not in self._threads:
                self.started.append(run_id)
                thread = threading.Thread(target=self._train, args=(run_id,), daemon=True)
                self._threads[run_id] = thread
                thread.start()
        return self.status(run_id)

    def status(self, run_id: str) -> ComputeStatus:
        thread = self._threads.get(run_id)
        if thread is None:
            return ComputeStatus(ComputeState.NOT_STARTED)
        if thread.is_alive():
            return ComputeStatus(ComputeState.RUNNING)
        return ComputeStatus(ComputeState.STOPPED, 0)

    def stop(self, run_id: str) -> None:
        self.stopped.append(run_id)

    def wait_until_trained(self, run_id: str, timeout: float = 10.0) -> None:
        """Block (bounded) until the fake training of a started run has ended."""
        thread = self._threads[run_id]
        thread.join(timeout)
        assert not thread.is_alive(), f"the fake training of {run_id} did not end"

    def _train(self, run_id: str) -> None:
        runs = self._storage.runs
        runs.transition(
            run_id,
            RunStatus.TRAINING,
            utc_now(),
            allowed_from=frozenset({RunStatus.PENDING}),
        )
        if self.script.release is not None:
            self.script.release.wait(timeout=60)
        runs.record_progress(
            run_id, RunProgress(epoch=1, epochs=1, accuracy=0.9, updated_at=utc_now())
        )
        if self.script.error is not None:
            runs.transition(
                run_id,
                RunStatus.FAILED,
                utc_now(),
                allowed_from=ACTIVE_RUN_STATUSES,
                error=self.script.error,
            )
            return
        champion = self._storage.registry.champion()
        metrics: dict[str, Any] = {
            **paired_metrics(
                self.script.accuracy,
                champion_version=None if champion is None else champion.version,
                champion_accuracy=None if champion is None else champion.accuracy,
            ),
            "data_cutoff": to_iso(utc_now()),
            "canary": [],
        }
        write_artifact(self._storage.blobs, run_id, self._model_file, metrics, {})


@dataclass
class FakeInferenceServer(InferenceSignal):
    """Serves whatever it is told to reload; "down" for the first ``down_for`` calls."""

    storage: Storage
    down_for: int = 0
    served: str | None = None
    calls: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    def reload(self, version: str | None = None) -> dict[str, Any]:
        self.calls.append(f"reload {version}")
        if len(self.calls) <= self.down_for:
            raise ServiceUnavailable("connection refused")
        if version is None:
            version = champion_version(self.storage.registry)
        if version in self.refuse:
            raise CanaryMismatch(f"{version} does not reproduce its canary probabilities")
        self.served = version
        return {"version": version}

    def model_info(self) -> dict[str, Any]:
        self.calls.append("model_info")
        return {"version": self.served}


@dataclass
class FakeExecutions(ExecutionLiveness):
    """The executions the orchestrator still runs: exactly those in ``running``."""

    running: set[str] = field(default_factory=set)

    def is_running(self, execution_id: str) -> bool:
        return execution_id in self.running


def fake_pipeline_deps(
    settings: Settings,
    storage: Storage,
    compute: TrainCompute,
    executions: ExecutionLiveness | None = None,
) -> PipelineDeps:
    """What the steps run against, with the fakes above for the world outside storage."""
    return PipelineDeps(
        settings=settings,
        storage=storage,
        compute=compute,
        inference=FakeInferenceServer(storage, served=BASELINE),
        executions=executions or FakeExecutions(),
        notifier=JsonLinesNotifier(settings.log_dir / ALERTS_LOG),
    )


def run(
    pipeline: LocalPipeline, name: str, timeout: float = 60.0, **execution_input: Any
) -> ExecutionDetail:
    """Start a named execution with 1-second waits and wait until it finishes."""
    arn = pipeline.orchestrator.start_execution({"wait_seconds": 1, **execution_input}, name)
    return pipeline.orchestrator.wait(arn, timeout=timeout, poll=0.1)


def wait_for_state(
    pipeline: LocalPipeline, name: str, state: str, timeout: float = 30.0
) -> ExecutionDetail:
    """Poll (bounded) until the execution has entered ``state``."""
    return wait_until(
        lambda: pipeline.orchestrator.describe_execution(name),
        done=lambda detail: state in detail.state_names,
        what=f"{name} to enter {state}",
        timeout=timeout,
    )


def add_labels(storage: Storage, count: int, at: datetime | None = None) -> None:
    at = at or utc_now()
    for i in range(count):
        key = f"img-{at.timestamp():.0f}-{i}"
        storage.catalog.create(
            ImageRecord(
                key=key,
                content_type="image/jpeg",
                size=100,
                width=8,
                height=8,
                sha256=hashlib.sha256(key.encode()).hexdigest(),
                uploaded_at=at,
            )
        )
        storage.catalog.set_label(key, "cat" if i % 2 else "dog", "manager", at)


def install_champion(
    storage: Storage, accuracy: float = 0.90, cutoff: datetime | None = None
) -> None:
    now = utc_now()
    storage.registry.register(
        ModelVersion(
            version=BASELINE,
            artifact=f"{BASELINE}/",
            status=ModelStatus.CANDIDATE,
            created_at=now,
            metrics={"accuracy": accuracy},
            data_cutoff=cutoff or now - timedelta(days=1),
        )
    )
    storage.registry.promote(BASELINE, None, "test", "baseline", now)


def set_mode(
    storage: Storage,
    mode: Mode,
    threshold: int = 5,
    min_accuracy: float = 0.8,
    min_eval_images: int | None = None,
) -> None:
    current = storage.settings.get()
    storage.settings.put(
        type(current)(
            mode=mode,
            label_threshold=threshold,
            min_accuracy=min_accuracy,
            max_accuracy_drop=current.max_accuracy_drop,
            min_eval_images=current.min_eval_images if min_eval_images is None else min_eval_images,
        )
    )
