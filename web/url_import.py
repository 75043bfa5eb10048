"""Fetching an image from a user-supplied URL without letting the URL reach inside.

A URL import is a request our server makes on a stranger's behalf, so every hop
is checked: http/https only; the host is resolved once and every address it
resolves to must be public (catdog.address_policy); the connection then goes to
that exact address (the Host header and, for https, the SNI name and certificate
check still use the URL's host), so a DNS answer that changes between check and
connect (DNS rebinding) cannot slip through. Redirects are followed by hand and
re-checked.

One wall-clock deadline covers everything: DNS runs in a worker thread that is
waited for at most until the deadline, every socket operation gets the time
left, and a watchdog shuts the socket down when the deadline passes (a server
that trickles bytes, or sends ``100 Continue`` forever, cannot hold a thread).
Errors say what the user can act on, never an internal address, a banner or
TLS error text.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from catdog.address_policy import IPAddress, public_addresses_only
from catdog.errors import ImageTooLarge, UrlFetchFailed, UrlRefused
from catdog.pinned_http import pinned_connection, watchdog

AddressPolicy = Callable[[IPAddress], bool]
Resolver = Callable[[str, int], list[IPAddress]]

__all__ = ["FetchedImage", "IPAddress", "UrlImporter", "public_addresses_only", "system_resolver"]

MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2048
CHUNK_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "catdog-url-import/1"
DNS_THREADS = 8
NOT_PUBLIC = (
    "the URL's host is not a public address; only images on public web sites can be imported"
)


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host`` (one lookup)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UrlFetchFailed("the host name could not be found; check the URL") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self._at - time.monotonic()
        if left <= 0:
            raise TimeoutError("URL import deadline passed")
        return left

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self._at


@dataclass(frozen=True)
class FetchedImage:
    data: bytes
    url: str
    content_type: str | None


@dataclass(frozen=True)
class _Target:
    https: bool
    host: str
    port: int
    path: str


class UrlImporter:
    """Downloads one URL within ``max_bytes`` and ``timeout_s`` seconds, safely."""

    def __init__(
        self,
        max_bytes: int,
        timeout_s: float,
        *,
        allow_address: AddressPolicy = public_addresses_only,
        resolve: Resolver = system_resolver,
        max_redirects: int = MAX_REDIRECTS,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._allow = allow_address
        self._resolve = resolve
        self._max_redirects = max_redirects
        self._tls = tls_context or ssl.create_default_context()
        # Lookups that outlive their deadline finish here, never in a request thread.
        self._dns = ThreadPoolExecutor(DNS_THREADS, thread_name_prefix="url-import-dns")

    def fetch(self, url: str) -> FetchedImage:
        """The body of ``url`` after at most ``max_redirects`` redirects.

        Raises UrlRefused (scheme, or a non-public address at any hop),
        UrlFetchFailed (DNS, connection, TLS, timeout, HTTP error status, too many
        redirects) or ImageTooLarge (more than ``max_bytes``).
        """
        deadline = _Deadline(self._timeout_s)
        try:
            for _hop in range(self._max_redirects + 1):
                target = _parse(url)
                address = self._checked_address(target, deadline)
                location = self._get(target, address, url, deadline)
                if isinstance(location, FetchedImage):
                    return location
                url = urljoin(url, location)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise self._failure(exc, deadline) from None
        raise UrlFetchFailed(f"the URL redirects more than {self._max_redirects} times")

    def _checked_address(self, target: _Target, deadline: _Deadline) -> IPAddress:
        lookup = self._dns.submit(self._resolve, target.host, target.port)
        try:
            addresses = lookup.result(timeout=deadline.remaining())
        except FutureTimeout:
            lookup.cancel()
            raise TimeoutError("DNS did not answer in time") from None
        if not addresses:
            raise UrlFetchFailed("the host name has no address; check the URL")
        if not all(self._allow(address) for address in addresses):
            raise UrlRefused(NOT_PUBLIC)
        return addresses[0]

    def _get(
        self, target: _Target, address: IPAddress, url: str, deadline: _Deadline
    ) -> FetchedImage | str:
        """The fetched image, or the Location of a redirect."""
        connection = pinned_connection(
            target.https, target.host, target.port, str(address), deadline.remaining(), self._tls
        )
        with watchdog(connection, deadline.remaining()):
            connection.request(
                "GET",
                target.path,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*", "Connection": "close"},
            )
            response = connection.getresponse()
            deadline.remaining()  # headers cut off by the watchdog look complete: they are not
            if response.status in REDIRECT_STATUSES:
                location = response.getheader("Location")
                if not location:
                    raise UrlFetchFailed(
                        f"the URL answered HTTP {response.status} without a Location"
                    )
                return location
            if response.status != 200:
                raise UrlFetchFailed(f"the URL answered HTTP {response.status}")
            data = self._read_body(response, connection.live_socket, deadline)
            return FetchedImage(data, url, response.getheader("Content-Type"))

    def _read_body(
        self,
        response: http.client.HTTPResponse,
        sock: socket.socket | None,
        deadline: _Deadline,
    ) -> bytes:
        declared = response.getheader("Content-Length") or ""
        if declared.isascii() and declared.isdigit() and int(declared) > self._max_bytes:
            raise ImageTooLarge(
                f"the URL sends {int(declared):,} bytes; the limit is {self._max_bytes:,} bytes"
            )
        chunks: list[bytes] = []
        total = 0
        while True:
            left = deadline.remaining()  # raises once the deadline has passed
            if sock is not None:
                sock.settimeout(left)
            chunk = response.read1(CHUNK_BYTES)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > self._max_bytes:
                raise ImageTooLarge(f"the URL sends more than {self._max_bytes:,} bytes")
            chunks.append(chunk)

    def _failure(self, error: Exception, deadline: _Deadline) -> UrlFetchFailed:
        """What the user is told: what they can act on, nothing about our network or
        the remote's software (no addresses, banners or TLS library text)."""
        if isinstance(error, TimeoutError | socket.timeout) or deadline.passed:
            return UrlFetchFailed(f"the server did not answer in {self._timeout_s:g} s")
        if isinstance(error, ssl.SSLError | ssl.CertificateError):
            return UrlFetchFailed(
                "the server's HTTPS certificate or TLS setup could not be verified"
            )
        if isinstance(error, ConnectionRefusedError):
            return UrlFetchFailed("the server refused the connection")
        if isinstance(error, http.client.HTTPException):
            return UrlFetchFailed("the server did not answer with a valid HTTP response")
        if isinstance(error, OSError):
            return UrlFetchFailed("the server could not be reached")
        return UrlFetchFailed("the URL could not be fetched")


def _parse(url: str) -> _Target:
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UrlRefused("the URL is not valid") from None
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("only http and https URLs can be imported")
    if not parts.hostname:
        raise UrlRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("URLs with credentials cannot be imported")
    try:
        host = (
            parts.hostname.encode("idna").decode("ascii")
            if not _is_ip(parts.hostname)
            else parts.hostname
        )
    except UnicodeError:
        raise UrlRefused("the URL's host name is not valid") from None
    https = parts.scheme == "https"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # Non-ASCII and spaces are sent percent-encoded, as a browser would send them.
    path = quote(path, safe="/%?=&:@!$'()*+,;~-._[]")
    return _Target(https, host, port or (443 if https else 80), path)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
