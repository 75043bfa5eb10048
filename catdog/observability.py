"""Observability, set up once per process and then used everywhere the same way.

Logs: one JSON object per line (time, level, logger, service, message, and
``execution_id`` / ``run_id`` / ``model_version`` / ``request_id`` whenever they
are known), so one training run can be followed across the Step Functions
execution, each Lambda step, the Train instance's log and the inference server
(whose ``model_version`` is the run id) with a single CloudWatch Logs Insights
query (docs/aws.md).

Tracing: on AWS only (``settings.backend == "aws"``), aws-xray-sdk patches
botocore (every boto3 call) and ``httplib`` (calls to the inference server);
Lambda steps get a subsegment annotated with the run and execution ids, the
Flask app gets the X-Ray middleware. Locally there is no X-Ray daemon, so
nothing is patched and every helper here is a no-op for tracing.

Start-up calls:
- Lambda steps: ``@traced_step("CheckArtifact")`` on ``handler``; on AWS it calls
  ``setup_process`` itself on first use (locally ``catdog up`` owns the logging).
- Web app: ``setup_process(settings, "web")`` then ``instrument_flask(app, settings)``.
- Training job (``training_job/observed.py``): ``setup_process(settings, "training_job")``,
  ``bind(run_id=..., model_version=...)`` and ``with traced_segment("training_job",
  run_id=...):`` around the run.
- Inference server: ``JsonFormatter("inference_server")`` in its logging config on AWS.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import IO, Any, TypeVar

from catdog.settings import Settings

# The same names in every unit's lines: a trained model's version is its run id.
ID_FIELDS = ("execution_id", "run_id", "model_version", "request_id")
PATCHED_LIBRARIES = ("botocore", "httplib")

_NO_IDS: Mapping[str, str] = MappingProxyType({})
_ids: ContextVar[Mapping[str, str]] = ContextVar("catdog_log_ids", default=_NO_IDS)
_process_ids: dict[str, str] = {}
_state: dict[str, Any] = {"logging": None, "tracing": False, "steps_checked": False}
logger = logging.getLogger("catdog")

Handler = TypeVar("Handler", bound=Callable[..., Any])


class JsonFormatter(logging.Formatter):
    """One JSON object per record; ids from ``bind``/``log_context`` or ``extra=``."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "service": self.service,
            "message": record.getMessage(),
        }
        body.update(current_ids())
        for name in (*ID_FIELDS, "step", "duration_ms", "error_type"):
            value = record.__dict__.get(name)
            if value is not None:
                body[name] = value
        if record.exc_info:
            body["error"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure_logging(service: str, level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Send every log record through one JSON handler on stderr (idempotent).

    Replaces handlers already on the root logger (the Lambda runtime installs one
    that would print each record a second time, in its own format).
    """
    if _state["logging"] == service:
        return
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level)
    _state["logging"] = service


def configure_tracing(settings: Settings, service: str) -> bool:
    """Patch boto3 and httplib for X-Ray when running on AWS; True when tracing is on."""
    if settings.backend != "aws":
        return False
    if not _state["tracing"]:
        from aws_xray_sdk.core import patch, xray_recorder

        # Calls made outside any segment (start-up, background threads) are not errors.
        xray_recorder.configure(service=service, context_missing="IGNORE_ERROR")
        patch(PATCHED_LIBRARIES)
        _state["tracing"] = True
    return True


def setup_process(settings: Settings, service: str, level: str = "INFO") -> None:
    """Logging and tracing for this process; call once at start-up (repeats are no-ops)."""
    configure_logging(service, level)
    configure_tracing(settings, service)


def tracing_enabled() -> bool:
    return bool(_state["tracing"])


def instrument_flask(app: Any, settings: Settings) -> None:
    """Trace each request of a Flask app (AWS only)."""
    if settings.backend != "aws":
        return
    from aws_xray_sdk.core import xray_recorder
    from aws_xray_sdk.ext.flask.middleware import XRayMiddleware

    XRayMiddleware(app, xray_recorder)


def current_ids() -> dict[str, str]:
    """The ids every log line carries now: process-wide ones, then the context's."""
    return {**_process_ids, **_ids.get()}


def bind(**ids: str | None) -> None:
    """Attach ids to every later log line of this process (e.g. the training job's run)."""
    _process_ids.update({k: v for k, v in ids.items() if v})


@contextlib.contextmanager
def log_context(**ids: str | None) -> Iterator[None]:
    """Attach ids to the log lines written inside the block (this thread or task only)."""
    token = _ids.set({**_ids.get(), **{k: v for k, v in ids.items() if v}})
    try:
        yield
    finally:
        _ids.reset(token)


@contextlib.contextmanager
def traced_segment(name: str, **annotations: str | None) -> Iterator[None]:
    """A segment of its own (for processes outside Lambda and Flask, like the training
    job); a no-op unless tracing is on."""
    if not tracing_enabled():
        yield
        return
    from aws_xray_sdk.core import xray_recorder

    segment = xray_recorder.begin_segment(name)
    _annotate(segment, annotations)
    try:
        yield
    except BaseException as error:
        segment.add_exception(error, [])
        raise
    finally:
        xray_recorder.end_segment()


def line_logger(name: str) -> Callable[[str], None]:
    """A ``log(message)`` callable (what the training job takes) writing INFO records
    through ``name``'s logger, so its lines carry the bound ids."""
    target = logging.getLogger(name)

    def log(message: str) -> None:
        target.info(message)

    return log


def ids_from_event(event: Mapping[str, Any]) -> dict[str, str]:
    """``execution_id`` and ``run_id`` of a step's event, where present."""
    ids: dict[str, str] = {}
    execution = event.get("execution")
    if isinstance(execution, Mapping) and execution.get("id"):
        ids["execution_id"] = str(execution["id"])
    state = event.get("state")
    run_id = state.get("run_id") if isinstance(state, Mapping) else None
    if run_id:
        ids["run_id"] = str(run_id)
    return ids


def traced_step(
    step: str, settings_factory: Callable[[], Settings] | None = None
) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler: log start, end and failure with the step's ids, and
    trace it as an X-Ray subsegment annotated with them (on AWS)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(event: Mapping[str, Any], context: Any, *args: Any, **kwargs: Any) -> Any:
            _setup_for_steps(settings_factory or Settings.from_env)
            ids = ids_from_event(event) if isinstance(event, Mapping) else {}
            request_id = getattr(context, "aws_request_id", None)
            started = time.perf_counter()
            with log_context(**ids, request_id=request_id), _subsegment(step, ids):
                logger.info("step started", extra={"step": step})
                try:
                    result = handler(event, context, *args, **kwargs)
                except Exception as error:
                    logger.warning(
                        "step failed: %s",
                        error,
                        extra={"step": step, "error_type": type(error).__name__},
                    )
                    raise
                elapsed = round((time.perf_counter() - started) * 1000, 1)
                logger.info("step finished", extra={"step": step, "duration_ms": elapsed})
                return result

        # ``run`` has the handler's signature (functools.wraps), but mypy cannot prove that
        # for a TypeVar bound to Callable[..., Any]; a ParamSpec version would lose the
        # handlers' parameter names and defaults that lambdas.adapter's StepHandler needs.
        return run  # type: ignore[return-value]  # see above

    return decorate


def _setup_for_steps(settings_factory: Callable[[], Settings]) -> None:
    """On AWS a step is its own process (a Lambda container): set it up on first use.
    Locally the steps run inside ``catdog up``, whose logging is left as it is."""
    if _state.get("steps_checked"):
        return
    _state["steps_checked"] = True
    settings = settings_factory()
    if settings.backend == "aws" and _state["logging"] is None:
        setup_process(settings, "pipeline")


@contextlib.contextmanager
def _subsegment(name: str, annotations: Mapping[str, str | None]) -> Iterator[None]:
    if not tracing_enabled():
        yield
        return
    from aws_xray_sdk.core import xray_recorder

    with xray_recorder.in_subsegment(name) as subsegment:
        if subsegment is not None:
            _annotate(subsegment, annotations)
        yield


def _annotate(entity: Any, annotations: Mapping[str, str | None]) -> None:
    for key, value in annotations.items():
        if value:
            entity.put_annotation(key, value)
