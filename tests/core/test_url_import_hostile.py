"""URL import against hostile servers and addresses: one wall-clock deadline (DNS
included), an explicit deny list whatever the Python patch level, and messages that
never leak internal addresses, banners or TLS error text."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from catdog.address_policy import public_addresses_only
from catdog.errors import UrlFetchFailed, UrlRefused
from web.url_import import IPAddress, UrlImporter

LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
        "2002:a00:1::1",  # 6to4 wrapping 10.0.0.1
        "2001::1",  # Teredo
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64
        "fec0::1",  # site-local
        "2001:db8::1",  # documentation
        "3fff::1",  # documentation
        "fc00::1",
        "fe80::1",
        "ff02::1",
        "::",
        "::1",
        "::127.0.0.1",  # IPv4-compatible
        "::ffff:169.254.169.254",
        "100::1",  # discard-only
        "5f00::1",
        "192.0.2.1",
        "198.51.100.1",
        "203.0.113.1",
        "198.18.0.1",
        "192.88.99.1",
        "192.0.0.8",
        "100.64.0.1",
        "255.255.255.255",
    ],
)
def test_the_deny_list_covers_every_non_public_range(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finding: before CPython 3.11.10, 6to4 and site-local counted as global."""
    monkeypatch.setattr(ipaddress.IPv6Address, "is_global", property(lambda self: True))
    monkeypatch.setattr(ipaddress.IPv4Address, "is_global", property(lambda self: True))
    assert not public_addresses_only(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert public_addresses_only(ipaddress.ip_address(address))


def resolving_to(*addresses: str) -> Callable[[str, int], list[IPAddress]]:
    return lambda host, port: [ipaddress.ip_address(a) for a in addresses]


def test_refusals_never_name_the_internal_address() -> None:
    importer = UrlImporter(1000, 2.0, resolve=resolving_to("10.20.30.40"))
    with pytest.raises(UrlRefused) as refused:
        importer.fetch("http://intranet.example/cat.jpg")
    assert "10.20.30.40" not in str(refused.value)
    assert "not a public address" in str(refused.value)


def test_dns_that_never_answers_ends_at_the_deadline() -> None:
    """The finding: DNS resolution had no timeout and could hold a web thread."""
    release = threading.Event()

    def hanging(host: str, port: int) -> list[IPAddress]:
        release.wait(30)
        return [LOOPBACK]

    importer = UrlImporter(1000, 0.3, resolve=hanging)
    try:
        with pytest.raises(UrlFetchFailed, match=r"did not answer in 0\.3 s"):
            importer.fetch("http://slow-dns.example/cat.jpg")
    finally:
        release.set()


Behaviour = Callable[[socket.socket, threading.Event], None]


@pytest.fixture
def hostile_server() -> Iterator[Callable[[Behaviour], int]]:
    """A raw TCP server on 127.0.0.1 that runs a behaviour per connection."""
    stop = threading.Event()
    servers: list[socket.socket] = []

    def start(behaviour: Behaviour) -> int:
        server = socket.create_server(("127.0.0.1", 0))
        server.settimeout(0.2)
        servers.append(server)

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                except OSError:
                    continue
                threading.Thread(target=_run, args=(behaviour, conn), daemon=True).start()

        def _run(behaviour: Behaviour, conn: socket.socket) -> None:
            try:
                conn.recv(65536)
                behaviour(conn, stop)
            except OSError:
                pass
            finally:
                conn.close()

        threading.Thread(target=serve, daemon=True).start()
        return int(server.getsockname()[1])

    yield start
    stop.set()
    for server in servers:
        server.close()


def loopback_importer(timeout: float) -> UrlImporter:
    return UrlImporter(100_000, timeout, allow_address=lambda a: a == LOOPBACK)


def continue_forever(conn: socket.socket, stop: threading.Event) -> None:
    while not stop.wait(0.02):
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")


def trickle_headers(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.05):
        conn.sendall(b"X-Slow: 1\r\n")


def ssh_banner(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.6p1 internal-build-host\r\n")


@pytest.mark.parametrize("behaviour", [continue_forever, trickle_headers])
def test_a_server_that_never_finishes_its_headers_is_cut_off(
    hostile_server: Callable[[Behaviour], int], behaviour: Behaviour
) -> None:
    """The finding: the header phase had no overall deadline (100 Continue forever)."""
    port = hostile_server(behaviour)
    started = time.monotonic()
    with pytest.raises(UrlFetchFailed, match=r"did not answer in 0\.5 s"):
        loopback_importer(0.5).fetch(f"http://127.0.0.1:{port}/cat.jpg")
    assert time.monotonic() - started < 20  # bounded at all (the old code never returned)


def test_a_non_http_banner_is_not_repeated(hostile_server: Callable[[Behaviour], int]) -> None:
    port = hostile_server(ssh_banner)
    with pytest.raises(UrlFetchFailed) as failed:
        loopback_importer(2.0).fetch(f"http://127.0.0.1:{port}/cat.jpg")
    message = str(failed.value)
    assert "SSH" not in message and "internal-build-host" not in message
    assert "HTTP" in message


def test_tls_errors_are_not_repeated(hostile_server: Callable[[Behaviour], int]) -> None:
    port = hostile_server(ssh_banner)  # not TLS at all: the handshake fails
    with pytest.raises(UrlFetchFailed) as failed:
        loopback_importer(2.0).fetch(f"https://127.0.0.1:{port}/cat.jpg")
    message = str(failed.value)
    assert "SSL" not in message and "WRONG_VERSION" not in message and "SSH" not in message
    assert "TLS" in message


def test_a_refused_connection_says_so_without_the_address() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(UrlFetchFailed, match="refused the connection") as failed:
        loopback_importer(2.0).fetch(f"http://127.0.0.1:{port}/cat.jpg")
    assert "127.0.0.1" not in str(failed.value)
