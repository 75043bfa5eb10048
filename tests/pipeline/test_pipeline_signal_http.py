"""SignalInferenceServer through the real InferenceClient over loopback HTTP.

The server's port refuses connections at first (bound, not listening), so the
client raises ServiceUnavailable, the Lambda reports that error type and the
state's Retry matches it; once the server listens, the retry reloads and verifies.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from catdog.domain import RunStatus
from catdog.inference_client import InferenceClient
from catdog.storage.ports import Storage
from tests.network import free_port
from tests.pipeline.pipeline_support import BASELINE, install_champion
from tests.polling import wait_until

TOKEN = "signal-test-token"


class TinyInferenceServer(BaseHTTPRequestHandler):
    served: str | None = BASELINE
    requests: list[str] = []

    def do_POST(self) -> None:
        self.requests.append(f"POST {self.path}")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"error": {"code": "unauthorized", "message": "no"}})
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        type(self).served = body.get("version")
        self._answer(200, {"version": type(self).served})

    def do_GET(self) -> None:
        self.requests.append(f"GET {self.path}")
        self._answer(200, {"version": type(self).served})

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_signal_retries_until_the_real_client_reaches_the_server(
    start_pipeline, storage: Storage
) -> None:
    install_champion(storage, accuracy=0.9)
    TinyInferenceServer.served, TinyInferenceServer.requests = BASELINE, []
    port = free_port()
    server = HTTPServer(("127.0.0.1", port), TinyInferenceServer, bind_and_activate=False)
    server.server_bind()  # the port is ours, but refuses connections until activated
    client = InferenceClient(f"http://127.0.0.1:{port}", admin_token=TOKEN, timeout=5)
    pipeline = start_pipeline(inference_=client)
    arn = pipeline.orchestrator.start_execution(
        {"trigger": "manual", "force": True, "wait_seconds": 1}, "signal-http"
    )
    serving = False
    try:
        wait_until(
            lambda: any(
                e["type"] == "TaskFailed" and "ServiceUnavailable" in str(e)
                for e in pipeline.orchestrator.describe_live(arn).events
            ),
            what="the signal to fail while the server was down",
            timeout=60,
            interval=0.05,
        )
        server.server_activate()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        serving = True
        detail = pipeline.orchestrator.wait(arn, timeout=60, poll=0.1)
    finally:
        if serving:
            server.shutdown()
        server.server_close()

    assert detail.summary.status == "SUCCEEDED"
    assert detail.output["outcome"] == "promoted"
    assert detail.output["served_version"] == "signal-http"
    assert "signal_error" not in detail.output
    assert TinyInferenceServer.served == "signal-http"
    assert TinyInferenceServer.requests == ["POST /v1/admin/reload", "GET /v1/model"]
    assert storage.runs.get("signal-http").status is RunStatus.PROMOTED
