"""Serving stored images: their sniffed content type, never sniffable, never a document."""

from __future__ import annotations

from flask import Response

from catdog.storage.ports import Blob
from web.security import CONTENT_CSP

# Keys are never overwritten, so what a key names never changes.
MAX_AGE_S = 24 * 3600


def blob_response(blob: Blob, download_name: str) -> Response:
    response = Response(blob.data, mimetype=blob.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CONTENT_CSP
    response.headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    response.cache_control.private = True
    response.cache_control.max_age = MAX_AGE_S
    return response
