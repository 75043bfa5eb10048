"""Anonymous traffic is limited per client address; managers are not.

Uploads and URL imports each take a token from the address's bucket before any
work is done, and the bytes an address stores count against its daily quota
(given back when the image is refused after all).
"""

from __future__ import annotations

from catdog.errors import InvalidToken
from web.auth import bearer_manager, client_address, session_manager
from web.deps import deps
from web.uploads import ImageView


def is_manager_request() -> bool:
    """A manager's valid bearer token or page session; anything else is anonymous."""
    try:
        return bearer_manager() is not None or session_manager() is not None
    except InvalidToken:
        return False


def store_image(key: str, data: bytes | None = None, url: str | None = None) -> ImageView:
    """Upload ``data`` or import ``url`` under ``key``, within the anonymous limits.

    Raises RateLimited or QuotaExceeded (429 with Retry-After) besides what
    UploadService raises.
    """
    current = deps()
    uploads = current.uploads
    if is_manager_request():
        return uploads.import_url(key, url) if url else uploads.upload(key, data or b"")
    address = client_address()
    current.limiter.check("url_import" if url else "upload", address)
    body = uploads.fetch_url(url) if url else data or b""
    with current.quota.storing(address, len(body)):
        return uploads.upload(key, body)
