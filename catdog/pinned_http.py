"""HTTP connections pinned to one checked address, and a watchdog that ends them on time.

The connection goes to the address that was checked (never a second DNS lookup),
while the Host header, SNI and the certificate check use the URL's host. Each
connection remembers the socket it is using (``live_socket``, kept even after
http.client hands the socket to a response), so a watchdog can shut it down at
the deadline whatever phase it is in: connect, TLS handshake, headers or body.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to ``address``; the Host header still names the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self.live_socket: socket.socket | None = None

    def connect(self) -> None:
        self.sock = self.live_socket = socket.create_connection(
            (self._address, self.port), self.timeout
        )


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``address``; SNI and the certificate check use the URL's host."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls_context = context
        self.live_socket: socket.socket | None = None

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.live_socket = raw
        tls = self._tls_context.wrap_socket(
            raw, server_hostname=self.host, do_handshake_on_connect=False
        )
        self.live_socket = tls  # the handshake below can be cut off by the watchdog
        tls.do_handshake()
        self.sock = tls


def pinned_connection(
    https: bool, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
) -> PinnedHTTPConnection | PinnedHTTPSConnection:
    if https:
        return PinnedHTTPSConnection(host, port, address, timeout, context)
    return PinnedHTTPConnection(host, port, address, timeout)


@contextmanager
def watchdog(
    connection: PinnedHTTPConnection | PinnedHTTPSConnection, seconds: float
) -> Iterator[None]:
    """Shut the connection's socket down after ``seconds``, whatever it is doing;
    close the connection afterwards in any case."""

    def expire() -> None:
        sock = connection.live_socket
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        connection.close()
        if connection.live_socket is not None:
            connection.live_socket.close()
