"""Static files: from ``web/static`` locally, from the static bucket on AWS.

On AWS the Lambda serves ``/static/...`` from the bucket through the blob
store (same origin, so the pages' Content-Security-Policy stays ``'self'``);
``publish_static`` copies the files there at deploy time.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Flask, Response, send_from_directory

from catdog.errors import NotFound
from catdog.settings import Settings
from catdog.storage.ports import BlobStore

STATIC_DIR = Path(__file__).parent / "static"
BUCKET_PREFIX = "web/"
MAX_AGE_S = 3600


def register_static(app: Flask, settings: Settings) -> None:
    if settings.backend == "aws":
        app.add_url_rule("/static/<path:filename>", "static", _from_bucket)
    else:
        app.add_url_rule("/static/<path:filename>", "static", _from_folder)


def _from_folder(filename: str) -> Response:
    return send_from_directory(STATIC_DIR, filename, max_age=MAX_AGE_S)


def _from_bucket(filename: str) -> Response:
    from web.deps import deps

    if ".." in filename.split("/"):
        raise NotFound("no such file")
    blob = deps().storage.blobs.get("static", BUCKET_PREFIX + filename)
    response = Response(blob.data, mimetype=blob.content_type)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_S
    return response


def publish_static(blobs: BlobStore) -> list[str]:
    """Copy every file of ``web/static`` to the static bucket; returns the names written."""
    written = []
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            name = BUCKET_PREFIX + path.relative_to(STATIC_DIR).as_posix()
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            blobs.put("static", name, path.read_bytes(), content_type)
            written.append(name)
    return written
