"""The embedded Step Functions: the committed ASL run by moto's interpreter on a loopback port.

``LocalPipeline.start()`` serves moto on ``127.0.0.1:<stepfunctions_port>``,
routes its Lambda invocations to the ``lambdas`` handlers in this process (see
``hosts.embedded.lambda_seam``), creates the functions and the state machine, and
runs the scheduler (the local twin of the EventBridge rule) and the archiver
(finished executions into SQLite, since moto forgets them on exit).
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import logging
import os
import socket
import threading
import zipfile
from datetime import datetime, timedelta
from typing import Any

from catdog.clock import Clock, utc_now
from catdog.errors import CatdogError, ConfigurationError, NotFound
from catdog.fleet.ports import InferenceFleet
from catdog.pipeline.archive import ExecutionArchive, archive_path
from catdog.pipeline.aws_clients import iam_client, lambda_client, stepfunctions_client
from catdog.pipeline.compute import LocalProcessCompute, TrainCompute
from catdog.pipeline.deps import PipelineDeps
from catdog.pipeline.factory import build_pipeline_deps
from catdog.pipeline.names import LambdaFunction
from catdog.pipeline.orchestrator import Orchestrator
from catdog.pipeline.ports import InferenceSignal
from catdog.settings import Settings
from catdog.storage.ports import Storage
from hosts.embedded import lambda_seam as seam
from hosts.embedded import moto_quirks
from hosts.embedded.forget import (
    forget_execution,
    prune_finished_threads,
    release_model_tracking,
)
from lambdas.handlers import handler_for
from workflows.asl import committed_definition, fill_placeholders

log = logging.getLogger("catdog.pipeline")

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
ROLE_NAME = "catdog-local"
_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
_QUIET_LOGGERS = ("moto", "werkzeug", "botocore.credentials")


def _placeholder_zip() -> bytes:
    """moto needs some code to create a function; ours runs in-process instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


class LocalPipeline:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        *,
        compute: TrainCompute | None = None,
        inference: InferenceSignal | None = None,
        fleet: InferenceFleet | None = None,
        name_prefix: str = "catdog",
        schedule: bool = True,
        archive_interval: float = 2.0,
        forget_finished: bool = True,
        clock: Clock = utc_now,
    ) -> None:
        """``forget_finished=False`` when this interpreter stands in for AWS Step Functions,
        which keeps finished executions for 90 days: a deployed stack's web app reads them
        there, with no archive beside it, so they must not move into the local archive."""
        self.settings = settings
        self._storage = storage
        self._compute = compute or LocalProcessCompute(settings)
        self._inference = inference
        self._fleet = fleet
        self._prefix = name_prefix
        self._schedule = schedule
        self._archive_interval = archive_interval
        self._forget_finished = forget_finished
        self._clock = clock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: Any = None
        self.archive = ExecutionArchive(archive_path(settings.data_dir))
        self.orchestrator = Orchestrator(
            stepfunctions_client(settings),
            archive=self.archive,
            state_machine_name=f"{name_prefix}-retrain",
            clock=clock,
        )
        self.deps: PipelineDeps | None = None
        self._compacted_at: datetime | None = None
        self._archiving = threading.Lock()

    def function_name(self, function: LambdaFunction) -> str:
        return f"{self._prefix}-{function.function_suffix}"

    def start(self) -> None:
        from moto.moto_api._internal import moto_api_backend
        from moto.server import ThreadedMotoServer

        self._stop = threading.Event()  # a stopped pipeline may be started again
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        moto_api_backend.set_config(MOTO_CONFIG)
        seam.install()
        moto_quirks.install()
        port = self.settings.stepfunctions_port
        _require_free_port(port)  # moto's server would wait forever for a port it cannot bind
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        # The interpreter's own Lambda calls go to localhost:$MOTO_PORT (moto reads it per call).
        os.environ["MOTO_PORT"] = str(port)
        try:
            self._deploy()
        except Exception:
            self.stop()
            raise
        if self._forget_finished:
            self._spawn("pipeline-archiver", self._archive_loop)
        if self._schedule:
            self._spawn("pipeline-scheduler", self._schedule_loop)
        log.info(
            "pipeline: state machine %s on 127.0.0.1:%d", self.orchestrator.state_machine_arn, port
        )

    def _deploy(self) -> None:
        """What CloudFormation does on AWS: functions, then the state machine that names them."""
        deps = build_pipeline_deps(self.settings, self._storage, self._compute, self.orchestrator)
        deps = dataclasses.replace(deps, clock=self._clock)
        if self._inference is not None:
            deps = dataclasses.replace(deps, inference=self._inference)
        if self._fleet is not None:  # every inference instance SignalInferenceServer signals
            deps = dataclasses.replace(deps, fleet=self._fleet)
        self.deps = deps
        role_arn = self._create_role()
        arns = self._create_functions(deps, role_arn)
        self._create_state_machine(arns, role_arn)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        try:
            self.archive_finished()
        except CatdogError as exc:
            log.warning("pipeline: could not archive executions on stop: %s", exc)
        if isinstance(self._compute, LocalProcessCompute):
            self._compute.stop_owned()
        if self._server is not None:
            self._server.stop()
            inner = getattr(self._server, "_server", None)
            if inner is not None:
                inner.server_close()  # free the port for the next start
            self._server = None
        for function in LambdaFunction:
            seam.unregister(self.function_name(function))

    def _create_role(self) -> str:
        """moto's Lambda insists on a role that Lambda may assume."""
        client = iam_client(self.settings)
        try:
            return str(client.get_role(RoleName=ROLE_NAME)["Role"]["Arn"])
        except client.exceptions.NoSuchEntityException:
            answer = client.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=_TRUST_POLICY)
            return str(answer["Role"]["Arn"])

    def _create_functions(self, deps: PipelineDeps, role_arn: str) -> dict[LambdaFunction, str]:
        client = lambda_client(self.settings)
        code = _placeholder_zip()
        arns: dict[LambdaFunction, str] = {}
        listed = client.list_functions()["Functions"]
        existing = {f["FunctionName"]: f["FunctionArn"] for f in listed}
        for function in LambdaFunction:
            name = self.function_name(function)
            seam.register(name, functools.partial(_call, handler_for(function), deps))
            if name in existing:
                arns[function] = existing[name]
                continue
            answer = client.create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role=role_arn,
                Handler=f"lambdas.handlers.{function.value}",
                Code={"ZipFile": code},
                Timeout=300,
            )
            arns[function] = answer["FunctionArn"]
        return arns

    def _create_state_machine(self, arns: dict[LambdaFunction, str], role_arn: str) -> None:
        definition = fill_placeholders(committed_definition(), arns)
        client = stepfunctions_client(self.settings)
        name = self.orchestrator.state_machine_name
        for machine in client.list_state_machines()["stateMachines"]:
            if machine["name"] == name:
                client.update_state_machine(
                    stateMachineArn=machine["stateMachineArn"], definition=definition
                )
                return
        client.create_state_machine(name=name, definition=definition, roleArn=role_arn)

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _schedule_loop(self) -> None:
        while not self._stop.wait(self.settings.schedule_seconds):
            try:
                self.orchestrator.start_execution({"trigger": "schedule"})
            except CatdogError as exc:
                log.warning("pipeline: scheduled execution not started: %s", exc)

    def _archive_loop(self) -> None:
        while not self._stop.wait(self._archive_interval):
            try:
                self.archive_finished()
            except CatdogError as exc:
                log.warning("pipeline: archiving failed: %s", exc)

    def archive_finished(self) -> int:
        """Move finished executions from the interpreter into the archive (so the
        interpreter's memory stays flat); returns how many were archived."""
        if self._server is None or not self._forget_finished:
            return 0
        count = 0
        with self._archiving:  # the archiver thread and a caller may both ask
            for summary in self.orchestrator.list_live():
                if summary.running:
                    continue
                if not self.archive.has(summary.execution_arn):
                    try:
                        detail = self.orchestrator.describe_live(summary.execution_arn)
                    except NotFound:
                        continue  # gone meanwhile
                    self.archive.save(detail)
                    count += 1
                forget_execution(summary.execution_arn)
            prune_finished_threads()
            release_model_tracking()
            self._compact_when_due()
        return count

    def _compact_when_due(self) -> None:
        """Skipped checks older than the retention become hourly counts (once a minute)."""
        now = self._clock()
        if self._compacted_at is not None and (now - self._compacted_at).total_seconds() < 60:
            return
        self._compacted_at = now
        retention = timedelta(days=self.settings.skipped_retention_days)
        folded = self.archive.compact(now - retention)
        if folded:
            log.info("pipeline: %d skipped checks kept as hourly counts", folded)


def _require_free_port(port: int) -> None:
    with socket.socket() as probe:
        # Like the server itself: connections of a previous run in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigurationError(
                f"127.0.0.1:{port} (CATDOG_STEPFUNCTIONS_PORT) is in use: "
                f"is another catdog up running? ({exc})"
            ) from exc


def _call(handler: Any, deps: PipelineDeps, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = handler(event, None, deps=deps)
    return result
