"""Structured logs and tracing set-up (catdog/observability.py)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from catdog import observability
from catdog.settings import Settings
from tests.deploy.support import ROOT

LOCAL = Settings(backend="local")


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """JSON logging into a buffer; the root logger is put back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    monkeypatch.setitem(observability._state, "logging", None)
    monkeypatch.setitem(observability._state, "steps_checked", False)
    monkeypatch.setattr(observability, "_process_ids", {})
    buffer = io.StringIO()
    observability.configure_logging("test-service", stream=buffer)
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def _records(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_the_ids_in_context(log_lines):
    log = logging.getLogger("catdog.test")
    log.info("before")
    with observability.log_context(execution_id="arn:exec:1", run_id="run-1"):
        log.warning("inside %s", "the run")
    log.info("after")
    before, inside, after = _records(log_lines)
    assert inside["message"] == "inside the run"
    assert inside["level"] == "WARNING"
    assert inside["logger"] == "catdog.test"
    assert inside["service"] == "test-service"
    assert (inside["execution_id"], inside["run_id"]) == ("arn:exec:1", "run-1")
    assert str(inside["time"]).endswith("+00:00")
    assert "run_id" not in before and "run_id" not in after


def test_bound_ids_stay_for_the_whole_process(log_lines):
    observability.bind(run_id="run-7", execution_id=None)
    logging.getLogger("training_job").info("epoch 1")
    (record,) = _records(log_lines)
    assert record["run_id"] == "run-7" and "execution_id" not in record


def test_configuring_twice_keeps_one_handler(log_lines):
    observability.configure_logging("test-service")
    logging.getLogger("x").info("once")
    assert len(_records(log_lines)) == 1


def test_exceptions_are_logged_inside_the_json(log_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed")
    (record,) = _records(log_lines)
    assert "ValueError: boom" in str(record["error"])


def test_a_traced_step_logs_its_ids_and_duration(log_lines):
    @observability.traced_step("CheckArtifact", settings_factory=lambda: LOCAL)
    def handler(event, context):
        logging.getLogger("catdog.pipeline").info("checking")
        return {"ok": True}

    event = {"state": {"run_id": "run-3"}, "execution": {"id": "arn:exec:3", "name": "n"}}
    assert handler(event, None) == {"ok": True}
    started, inner, finished = _records(log_lines)
    assert started["message"] == "step started" and started["step"] == "CheckArtifact"
    assert inner["run_id"] == "run-3" and inner["execution_id"] == "arn:exec:3"
    assert finished["message"] == "step finished"
    assert isinstance(finished["duration_ms"], float)
    assert handler.__name__ == "handler"


def test_a_failing_step_logs_the_error_type_and_raises(log_lines):
    @observability.traced_step("PromoteModel", settings_factory=lambda: LOCAL)
    def handler(event, context):
        raise KeyError("champion")

    with pytest.raises(KeyError):
        handler({"state": {}, "execution": {"name": "n"}}, None)
    failed = _records(log_lines)[-1]
    assert failed["error_type"] == "KeyError" and failed["level"] == "WARNING"


def test_a_local_step_leaves_the_process_logging_alone(monkeypatch):
    """Locally the steps run inside ``catdog up``: its log set-up must not be replaced."""
    monkeypatch.setitem(observability._state, "logging", None)
    monkeypatch.setitem(observability._state, "steps_checked", False)
    root = logging.getLogger()
    before = list(root.handlers)

    @observability.traced_step("CheckManagerMode", settings_factory=lambda: LOCAL)
    def handler(event, context):
        return "ok"

    assert handler({"state": {}, "execution": {"name": "n"}}, None) == "ok"
    assert root.handlers == before
    assert observability._state["logging"] is None


def test_ids_come_from_the_step_event_when_present():
    event = {"state": {"run_id": "r"}, "execution": {"id": "e", "name": "n"}}
    assert observability.ids_from_event(event) == {"execution_id": "e", "run_id": "r"}
    assert observability.ids_from_event({"state": {}, "execution": {}}) == {}


def test_nothing_is_traced_on_the_local_backend():
    assert observability.configure_tracing(LOCAL, "web") is False
    assert observability.tracing_enabled() is False
    from flask import Flask

    app = Flask("probe")
    observability.instrument_flask(app, LOCAL)
    assert app.before_request_funcs == {} and app.after_request_funcs == {}
    with observability.traced_segment("training_job", run_id="r"):
        pass  # no daemon, no segment, no error


def test_on_aws_boto3_is_patched_and_steps_are_annotated_subsegments():
    """In a child process: patching is for the whole process and cannot be undone."""
    script = textwrap.dedent(
        """
        from aws_xray_sdk.core import xray_recorder
        from aws_xray_sdk.core.patcher import _PATCHED_MODULES
        from catdog import observability
        from catdog.settings import Settings

        sent = []

        class Capture:
            def send_entity(self, entity):
                sent.append(entity.to_dict())

            def set_daemon_address(self, address):
                pass

        settings = Settings(backend="aws")
        assert observability.configure_tracing(settings, "pipeline") is True
        assert {"botocore", "httplib"} <= set(_PATCHED_MODULES), _PATCHED_MODULES
        xray_recorder.configure(emitter=Capture(), sampling=False)

        @observability.traced_step("ValidateModel", settings_factory=lambda: settings)
        def handler(event, context):
            return "ok"

        event = {"state": {"run_id": "run-9"}, "execution": {"id": "exec-9", "name": "n"}}
        with observability.traced_segment("training_job", run_id="run-9"):
            assert handler(event, None) == "ok"
        (segment,) = sent
        assert segment["name"] == "training_job"
        assert segment["annotations"] == {"run_id": "run-9"}
        (sub,) = segment["subsegments"]
        assert sub["name"] == "ValidateModel"
        assert sub["annotations"] == {"run_id": "run-9", "execution_id": "exec-9"}
        print("traced")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("traced")
