"""Fetching an image from a user-supplied URL without letting the URL reach inside.

A URL import is a request our server makes on a stranger's behalf, so every hop
is checked: http/https only; the host is resolved once and every address it
resolves to must be public; the connection then goes to that exact address
(the Host header and, for https, the SNI name and certificate check still use
the URL's host), so a DNS answer that changes between check and connect (DNS
rebinding) cannot slip through. Redirects are followed by hand and re-checked.
Bytes and wall-clock time are both bounded.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from catdog.errors import ImageTooLarge, UrlFetchFailed, UrlRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], bool]
Resolver = Callable[[str, int], list[IPAddress]]

MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2048
CHUNK_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "catdog-url-import/1"


def public_addresses_only(address: IPAddress) -> bool:
    """The production policy: only globally routable unicast addresses.

    ``is_global`` is False for loopback, private (10/8, 172.16/12, 192.168/16,
    fc00::/7), link-local (169.254/16 with the cloud metadata address, fe80::/10),
    shared (100.64/10), reserved, documentation and unspecified ranges.
    IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_reserved
        and not address.is_unspecified
    )


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host`` (one lookup)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlFetchFailed(f"the host {host!r} cannot be resolved") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


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

    def fetch(self, url: str) -> FetchedImage:
        """The body of ``url`` after at most ``max_redirects`` redirects.

        Raises UrlRefused (scheme, or a non-public address at any hop),
        UrlFetchFailed (DNS, connection, timeout, HTTP error status, too many
        redirects) or ImageTooLarge (more than ``max_bytes``).
        """
        deadline = time.monotonic() + self._timeout_s
        for _hop in range(self._max_redirects + 1):
            target = _parse(url)
            address = self._checked_address(target)
            location = self._get(target, address, url, deadline)
            if isinstance(location, FetchedImage):
                return location
            url = urljoin(url, location)
        raise UrlFetchFailed(f"more than {self._max_redirects} redirects")

    def _checked_address(self, target: _Target) -> IPAddress:
        addresses = self._resolve(target.host, target.port)
        if not addresses:
            raise UrlFetchFailed(f"the host {target.host!r} has no address")
        refused = [a for a in addresses if not self._allow(a)]
        if refused:
            raise UrlRefused(
                f"the host {target.host!r} resolves to {refused[0]}, which is not a public address"
            )
        return addresses[0]

    def _get(
        self, target: _Target, address: IPAddress, url: str, deadline: float
    ) -> FetchedImage | str:
        """The fetched image, or the Location of a redirect."""
        connection = _connection(target, address, _remaining(deadline), self._tls)
        try:
            connection.request(
                "GET",
                target.path,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*", "Connection": "close"},
            )
            response = connection.getresponse()
            if response.status in REDIRECT_STATUSES:
                location = response.getheader("Location")
                if not location:
                    raise UrlFetchFailed(f"HTTP {response.status} without a Location")
                return location
            if response.status != 200:
                raise UrlFetchFailed(f"the URL answered HTTP {response.status}")
            data = self._read_body(response, connection, deadline)
            return FetchedImage(data, url, response.getheader("Content-Type"))
        except TimeoutError:
            raise UrlFetchFailed(f"the URL did not answer within {self._timeout_s:g} s") from None
        except ssl.SSLError as exc:
            raise UrlFetchFailed(f"TLS failed: {exc.reason or exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise UrlFetchFailed(f"the URL cannot be fetched: {exc}") from None
        finally:
            connection.close()

    def _read_body(
        self,
        response: http.client.HTTPResponse,
        connection: http.client.HTTPConnection,
        deadline: float,
    ) -> bytes:
        declared = response.getheader("Content-Length") or ""
        if declared.isascii() and declared.isdigit() and int(declared) > self._max_bytes:
            raise ImageTooLarge(
                f"the URL sends {int(declared):,} bytes; the limit is {self._max_bytes:,} bytes"
            )
        chunks: list[bytes] = []
        total = 0
        while True:
            if connection.sock is not None:
                connection.sock.settimeout(_remaining(deadline))
            chunk = response.read1(CHUNK_BYTES)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > self._max_bytes:
                raise ImageTooLarge(f"the URL sends more than {self._max_bytes:,} bytes")
            chunks.append(chunk)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("URL import deadline passed")
    return left


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
    https = parts.scheme == "https"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(https, parts.hostname, port or (443 if https else 80), path)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to ``address``; the Host header still names the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``address``; SNI and the certificate check use the URL's host."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls_context = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls_context.wrap_socket(sock, server_hostname=self.host)


def _connection(
    target: _Target, address: IPAddress, timeout: float, context: ssl.SSLContext
) -> http.client.HTTPConnection:
    if target.https:
        return _PinnedHTTPSConnection(target.host, target.port, str(address), timeout, context)
    return _PinnedHTTPConnection(target.host, target.port, str(address), timeout)
