"""The public JSON API under /api/v1: images, their content, tokens, the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from catdog.clock import to_iso
from catdog.errors import InvalidInput, UnsupportedMediaType
from web.auth import client_address, issue_api_token
from web.deps import deps
from web.limits import store_image
from web.listing import ImageFilter, list_images, parse_limit
from web.media import blob_response
from web.openapi import openapi_document
from web.uploads import ImageView

api = Blueprint("api", __name__, url_prefix="/api/v1")


def json_body() -> dict[str, Any]:
    """The request's JSON object; 415 for another content type, 400 for bad JSON."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{name!r} is required and must be a string")
    return value


def bool_field(body: dict[str, Any], name: str) -> bool:
    """An optional JSON true/false (absent: false)."""
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name!r} must be true or false")
    return value


@api.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@api.post("/tokens")
def create_token() -> tuple[Response, int]:
    body = json_body()
    issued = issue_api_token(
        text_field(body, "username"), text_field(body, "password"), client_address()
    )
    return jsonify(token=issued.token, expires_at=to_iso(issued.expires_at)), 201


@api.post("/images")
def create_image() -> tuple[Response, int, dict[str, str]]:
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput("the multipart body needs a 'file' part")
        view = store_image(request.form.get("key", ""), data=upload.read())
    elif request.mimetype == "application/json":
        body = json_body()
        view = store_image(text_field(body, "key"), url=text_field(body, "url"))
    else:
        raise UnsupportedMediaType(
            "send multipart/form-data with 'key' and 'file', or JSON with 'key' and 'url'"
        )
    location = url_for("api.get_image", key=view.key)
    return jsonify(image_json(view)), 201, {"Location": location}


@api.get("/images")
def get_images() -> Response:
    current = deps()
    args = request.args
    image_filter = ImageFilter.from_query(args)
    page = list_images(
        current.storage.catalog, image_filter, args.get("cursor"), parse_limit(args.get("limit"))
    )
    items = [image_json(current.uploads.view(record)) for record in page.items]
    return jsonify(items=items, next_cursor=page.next_cursor)


@api.get("/images/<key>")
def get_image(key: str) -> Response:
    current = deps()
    return jsonify(image_json(current.uploads.view(current.storage.catalog.get(key))))


@api.get("/images/<key>/content")
def get_image_content(key: str) -> Response:
    storage = deps().storage
    record = storage.catalog.get(key)
    return blob_response(storage.blobs.get("images", record.blob_name), record.key)


def image_json(view: ImageView) -> dict[str, Any]:
    return {
        **view.to_dict(),
        "content_url": url_for("api.get_image_content", key=view.key),
        "thumbnail_url": url_for("user.thumbnail", key=view.key),
    }
