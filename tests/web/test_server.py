"""The production entry points: ``python -m web`` (gunicorn) and the Lambda handler."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.factories import image_bytes
from tests.network import free_port
from tests.polling import wait_until


def answers(url: str, process: subprocess.Popen[bytes]) -> bool:
    """Whether ``url`` answers; fails at once if the server process has exited."""
    if process.poll() is not None:
        raise AssertionError(f"python -m web exited with {process.returncode}")
    urllib.request.urlopen(url, timeout=2).close()
    return True


@pytest.mark.slow
def test_python_m_web_serves_the_app_with_gunicorn(tmp_path: Path):
    port = free_port()
    env = {
        **os.environ,
        "CATDOG_DATA_DIR": str(tmp_path / "data"),
        "CATDOG_INFERENCE_PORT": str(free_port()),  # nothing listens: uploads stay pending
        "CATDOG_STEPFUNCTIONS_PORT": str(free_port()),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        url = f"{base}/api/v1/openapi.json"
        wait_until(
            lambda: answers(url, process),
            what=f"{url} to answer",
            timeout=60,
            interval=0.2,
            ignoring=(OSError,),
        )
        with urllib.request.urlopen(f"{base}/") as response:
            assert response.status == 200
            assert "gunicorn" in response.headers["Server"]
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        boundary = "catdogtest"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nserved\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                'filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
            + image_bytes("PNG")
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            f"{base}/api/v1/images",
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            method="POST",
        )
        with urllib.request.urlopen(request) as response:
            created = json.loads(response.read())
        assert response.status == 201
        assert created["status"] == "pending"  # no inference server: stored, not lost
        assert (tmp_path / "data" / "secrets.json").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def http_context(path: str) -> dict[str, str]:
    return {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.1"}


def test_lambda_handler_runs_the_same_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import web.lambda_handler as lambda_handler

    monkeypatch.setenv("CATDOG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CATDOG_SECRET_KEY", "lambda-test")
    monkeypatch.setattr(lambda_handler, "_handler", None)
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/api/v1/images",
        "rawQueryString": "limit=5",
        "headers": {"host": "api.example", "x-forwarded-proto": "https"},
        "requestContext": {"http": http_context("/api/v1/images")},
        "isBase64Encoded": False,
        "body": "",
    }
    answer = lambda_handler.handler(event, None)
    assert answer["statusCode"] == 200
    body = answer["body"]
    if answer.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    assert json.loads(body) == {"items": [], "next_cursor": None}
    missing = lambda_handler.handler(
        {
            **event,
            "rawPath": "/api/v1/images/none",
            "requestContext": {"http": http_context("/api/v1/images/none")},
        },
        None,
    )
    assert missing["statusCode"] == 404


def test_rest_api_stage_prefixes_generated_links() -> None:
    from web.lambda_handler import with_stage_prefix

    seen: dict[str, str] = {}

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        seen["script_name"] = str(environ.get("SCRIPT_NAME", ""))
        return [b""]

    wrapped = with_stage_prefix(app)
    wrapped({"apig_wsgi.request_context": {"stage": "app"}, "SCRIPT_NAME": ""}, print)
    assert seen["script_name"] == "/app"
    wrapped({"apig_wsgi.request_context": {"stage": "$default"}, "SCRIPT_NAME": ""}, print)
    assert seen["script_name"] == ""


def test_the_client_address_is_api_gateways_source_ip_not_x_forwarded_for() -> None:
    """A forged X-Forwarded-For must not give a client a fresh per-address bucket."""
    from apig_wsgi import make_lambda_handler

    from web.lambda_handler import with_source_address

    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(str(environ["REMOTE_ADDR"]))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    handler = make_lambda_handler(with_source_address(app))
    rest_event = {
        "httpMethod": "POST",
        "path": "/api/v1/images",
        "headers": {"X-Forwarded-For": "1.2.3.4, 203.0.113.9", "Host": "api.example"},
        "queryStringParameters": None,
        "requestContext": {"stage": "app", "identity": {"sourceIp": "203.0.113.9"}},
        "body": "",
        "isBase64Encoded": False,
    }
    handler(rest_event, None)
    http_event = {
        "version": "2.0",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"x-forwarded-for": "5.6.7.8"},
        "requestContext": {"http": http_context("/")},
        "body": "",
        "isBase64Encoded": False,
    }
    handler(http_event, None)
    assert seen == ["203.0.113.9", "198.51.100.1"]
