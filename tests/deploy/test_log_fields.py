"""Every unit's log lines on AWS: JSON with the same id fields, and the query that follows a run."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from catdog import observability
from catdog.inference_client import REQUEST_ID_HEADER, InferenceClient
from catdog.settings import Settings
from inference_server.logs import logging_config
from tests.deploy.support import ROOT
from web.lambda_handler import request_id_of

LOCAL = Settings(backend="local")


@pytest.fixture
def restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    monkeypatch.setitem(observability._state, "logging", None)
    monkeypatch.setitem(observability._state, "steps_checked", False)
    monkeypatch.setattr(observability, "_process_ids", {})
    # dictConfig shuts down every handler the process ever made. Once TensorFlow is
    # imported (any test module may do it at collection), that includes absl's
    # handler, which closes its stream: pytest's capture file. Clear the handler
    # registry without closing anything, as a fresh process would have none. (The
    # registry is logging's private ``_handlers``, which typeshed does not declare.)
    handler_registry = vars(logging)["_handlers"]
    monkeypatch.setattr(logging.config, "_clearExistingHandlers", handler_registry.clear)
    yield
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_the_id_fields_are_the_four_every_unit_uses() -> None:
    assert observability.ID_FIELDS == ("execution_id", "run_id", "model_version", "request_id")


def test_a_step_logs_the_lambda_request_id(restore_logging: None) -> None:
    buffer = io.StringIO()
    observability.configure_logging("pipeline", stream=buffer)

    @observability.traced_step("PromoteModel", settings_factory=lambda: LOCAL)
    def handler(event: dict[str, Any], context: Any) -> str:
        return "ok"

    handler({"state": {"run_id": "r-1"}}, SimpleNamespace(aws_request_id="req-1"))
    for line in _lines(buffer):
        assert (line["run_id"], line["request_id"]) == ("r-1", "req-1")


def test_the_inference_server_writes_json_lines_with_the_model_version_on_aws(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(logging_config(json_lines=True))
    logging.getLogger("inference_server.holder").info(
        "event=model_swapped version=%s", "run-7", extra={"model_version": "run-7"}
    )
    (line,) = [json.loads(raw) for raw in capsys.readouterr().err.splitlines()]
    assert line["service"] == "inference_server"
    assert line["model_version"] == "run-7"
    assert line["message"] == "event=model_swapped version=run-7"


def test_locally_the_inference_server_keeps_key_value_lines(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(logging_config())
    logging.getLogger("inference_server.holder").info("event=stopped")
    assert "level=INFO" in capsys.readouterr().err


def test_the_web_function_logs_api_gateways_request_id() -> None:
    context = SimpleNamespace(aws_request_id="lambda-id")
    assert request_id_of({"requestContext": {"requestId": "api-id"}}, context) == "api-id"
    assert request_id_of({}, context) == "lambda-id"


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str | None] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append(self.headers.get(REQUEST_ID_HEADER))
        body = json.dumps(
            {
                "label": "cat",
                "confidence": 0.9,
                "probabilities": {"cat": 0.9, "dog": 0.1},
                "unsure": False,
                "model_version": "v1",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


def test_the_inference_client_passes_the_callers_request_id_on() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = InferenceClient(f"http://127.0.0.1:{server.server_address[1]}")
        client.predict(b"x", "image/jpeg")
        with observability.log_context(request_id="req-42"):
            client.predict(b"x", "image/jpeg")
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.seen == [None, "req-42"]


def test_the_training_job_on_aws_writes_json_lines_with_its_run(tmp_path: Any) -> None:
    """In a child process: on AWS the job patches the process for X-Ray for good."""
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from catdog.settings import Settings
        from catdog.storage.factory import build_storage
        from training_job.observed import run_observed_job

        data = Path({str(tmp_path)!r})
        storage = build_storage(Settings(data_dir=data))
        print(run_observed_job("run-missing", Settings(backend="aws", data_dir=data), storage))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "3", result.stderr  # no such run
    lines = [json.loads(raw) for raw in result.stderr.splitlines() if raw.startswith("{")]
    assert lines and {line["service"] for line in lines} == {"training_job"}
    for line in lines:
        assert (line["run_id"], line["model_version"]) == ("run-missing", "run-missing")
    assert any("run-missing" in line["message"] for line in lines)


def test_the_documented_query_follows_a_run_through_every_units_fields() -> None:
    text = (ROOT / "docs" / "aws.md").read_text()
    (query,) = re.findall(r"```\n(fields @timestamp[^`]*)```", text)
    assert 'filter run_id = "<run id>" or model_version = "<run id>"' in query
    section = text.split("## Following one training run")[1].split("\n## ")[0]
    for group in ("/aws/lambda/<stack>-*", "/catdog/<stack>/instances"):
        assert group in section
