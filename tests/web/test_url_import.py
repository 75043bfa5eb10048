"""URL import: refusals by scheme and address (every hop), limits, and the pinned connection.

A tiny HTTP server on 127.0.0.1 plays the remote site. Production refuses loopback,
so the tests that fetch from it build an importer whose policy allows exactly
that one address; the refusal of loopback by the production policy is tested too.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from catdog.errors import ImageTooLarge, UrlFetchFailed, UrlRefused
from tests.factories import image_bytes
from web.app import create_app
from web.url_import import Resolver, UrlImporter, public_addresses_only, system_resolver

PNG = image_bytes("PNG", (32, 24))
LOOPBACK = ipaddress.ip_address("127.0.0.1")
LIMIT = 50_000


class Remote(BaseHTTPRequestHandler):
    hosts: list[str] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        Remote.hosts.append(self.headers.get("Host", ""))
        path = self.path
        if path == "/cat.png":
            self._send(PNG, "image/png")
        elif path == "/to-private":
            self._redirect("http://10.0.0.7/cat.png")
        elif path == "/to-metadata":
            self._redirect("http://169.254.169.254/latest/meta-data/")
        elif path == "/to-cat":
            self._redirect("/cat.png")
        elif path.startswith("/loop/"):
            self._redirect(f"/loop/{int(path.rsplit('/', 1)[1]) + 1}")
        elif path == "/big-declared":
            self._send(b"x" * (LIMIT + 1), "image/png")
        elif path == "/big-streamed":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(20):
                self.wfile.write(b"y" * 10_000)
        elif path == "/slow":
            time.sleep(3)
            self._send(PNG, "image/png")
        else:
            self._send(b"missing", "text/plain", 404)

    def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the importer hanging up early (size and time limits) is the point


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), Remote)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def only_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The test's policy: its own loopback server, and public addresses as in production."""
    return address == LOOPBACK or public_addresses_only(address)


def importer(timeout: float = 2.0, resolve: Resolver = system_resolver) -> UrlImporter:
    return UrlImporter(LIMIT, timeout, allow_address=only_loopback, resolve=resolve)


def test_fetches_an_image_from_an_allowed_address(remote):
    fetched = importer().fetch(f"{remote}/cat.png")
    assert fetched.data == PNG
    assert fetched.content_type == "image/png"


def test_follows_a_redirect_on_the_same_checked_host(remote):
    assert importer().fetch(f"{remote}/to-cat").data == PNG


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/cat.png",
        "http://localhost/cat.png",
        "http://10.1.2.3/cat.png",
        "http://172.16.0.1/cat.png",
        "http://172.31.255.255/cat.png",
        "http://192.168.1.10/cat.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/cat.png",
        "http://[fe80::1]/cat.png",
        "http://[fd00::1]/cat.png",
        "http://[::ffff:10.0.0.1]/cat.png",
        "http://0.0.0.0/cat.png",
        "http://224.0.0.1/cat.png",
        "http://100.64.0.1/cat.png",
        "http://240.0.0.1/cat.png",
    ],
)
def test_production_policy_refuses_non_public_addresses(url):
    with pytest.raises(UrlRefused):
        UrlImporter(LIMIT, 2.0).fetch(url)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/a.png",
        "gopher://x/",
        "javascript:alert(1)",
        "http://user:pw@example.com/a.png",
        "not a url",
        "http:///nohost",
    ],
)
def test_only_plain_http_and_https_urls(url):
    with pytest.raises(UrlRefused):
        UrlImporter(LIMIT, 2.0).fetch(url)


def test_a_host_resolving_to_any_private_address_is_refused():
    def mixed(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.1")]

    with pytest.raises(UrlRefused):
        UrlImporter(LIMIT, 2.0, resolve=mixed).fetch("http://rebind.example/a.png")


def test_redirects_are_checked_again(remote):
    with pytest.raises(UrlRefused, match="not a public address") as private:
        importer().fetch(f"{remote}/to-private")
    with pytest.raises(UrlRefused, match="not a public address") as metadata:
        importer().fetch(f"{remote}/to-metadata")
    # The message never names the internal address.
    assert "10.0.0.7" not in str(private.value)
    assert "169.254" not in str(metadata.value)


def test_too_many_redirects(remote):
    with pytest.raises(UrlFetchFailed, match="redirects"):
        importer().fetch(f"{remote}/loop/0")


def test_size_limit_declared_and_streamed(remote):
    with pytest.raises(ImageTooLarge):
        importer().fetch(f"{remote}/big-declared")
    with pytest.raises(ImageTooLarge):
        importer().fetch(f"{remote}/big-streamed")


def test_time_limit(remote):
    with pytest.raises(UrlFetchFailed, match="did not answer"):
        importer(timeout=0.5).fetch(f"{remote}/slow")


def test_http_errors_are_reported(remote):
    with pytest.raises(UrlFetchFailed, match="404"):
        importer().fetch(f"{remote}/missing")


def test_connects_to_the_checked_address_without_a_second_lookup(remote):
    """The resolver is asked once; the connection goes to its answer, and the Host
    header still names the URL's host (which real DNS could not resolve)."""
    calls: list[str] = []

    def resolve(host: str, port: int):
        calls.append(host)
        return [LOOPBACK]

    port = remote.rsplit(":", 1)[1]
    Remote.hosts.clear()
    fetched = importer(resolve=resolve).fetch(f"http://pictures.invalid:{port}/cat.png")
    assert fetched.data == PNG
    assert calls == ["pictures.invalid"]
    assert Remote.hosts == [f"pictures.invalid:{port}"]


def test_api_url_import_refuses_loopback_with_the_production_policy(client, remote):
    response = client.post("/api/v1/images", json={"key": "ssrf", "url": f"{remote}/cat.png"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "url_refused"
    response = client.post(
        "/api/v1/images", json={"key": "meta", "url": "http://169.254.169.254/latest/"}
    )
    assert response.get_json()["error"]["code"] == "url_refused"


def test_api_and_page_import_a_url_when_the_policy_allows_it(
    settings, storage, inference, orchestrator, remote
):
    app = create_app(
        settings,
        storage=storage,
        inference=inference,
        orchestrator=orchestrator,
        url_importer=importer(),
    )
    client = app.test_client()
    response = client.post("/api/v1/images", json={"key": "from-url", "url": f"{remote}/cat.png"})
    assert response.status_code == 201
    assert response.get_json()["content_type"] == "image/png"
    assert client.get("/api/v1/images/from-url/content").data == PNG

    page = client.get("/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/images", data={"key": "page-url", "url": f"{remote}/to-cat", "csrf_token": token}
    )
    assert response.status_code == 303
    assert client.get("/images/page-url/content").data == PNG
    response = client.post(
        "/images", data={"key": "page-bad", "url": f"{remote}/to-private", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "not a public address" in response.get_data(as_text=True)
