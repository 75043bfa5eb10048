"""A local stand-in for the inference tier's load balancer: a real HTTP proxy on loopback
that sends each request to the next backend in turn, as an ALB's round robin does.

Like the ALB, it answers 502 when a backend cannot be reached, so a test that counts
failed requests through it sees every failure of the instances behind it.
"""

from __future__ import annotations

import http.client
import itertools
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# Hop-by-hop headers a proxy does not forward.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


class RoundRobinProxy:
    """``with RoundRobinProxy(backends) as url:`` serves on 127.0.0.1 while inside."""

    def __init__(self, backends: Sequence[str], timeout: float = 30.0) -> None:
        self.backends = [urlsplit(b) for b in backends]
        self.timeout = timeout
        self.sent: dict[str, int] = {b.netloc: 0 for b in self.backends}
        self._next = itertools.cycle(range(len(self.backends)))
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> str:
        self._thread.start()
        return self.url

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def pick(self) -> Any:
        with self._lock:
            backend = self.backends[next(self._next)]
            self.sent[backend.netloc] += 1
        return backend

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                backend = proxy.pick()
                connection = http.client.HTTPConnection(
                    backend.hostname, backend.port, timeout=proxy.timeout
                )
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    status, data = response.status, response.read()
                    answer = [
                        (k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP
                    ]
                except (OSError, http.client.HTTPException):
                    status, data, answer = 502, b"", []
                finally:
                    connection.close()
                self.send_response(status)
                for key, value in answer:
                    if key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Forward
