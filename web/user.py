"""User pages: upload (file or URL), result, gallery by class, search, list of images."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response as BaseResponse

from catdog.domain import LABELS, parse_label
from catdog.errors import CatdogError, InvalidInput, NotFound
from web.deps import deps
from web.http_errors import error_headers
from web.limits import store_image
from web.listing import ImageFilter, list_images, parse_limit
from web.media import blob_response
from web.security import verify_csrf
from web.uploads import ImageView

user = Blueprint("user", __name__)
user.before_request(verify_csrf)

GALLERY_PAGE = 24
TABLE_PAGE = 50


@user.get("/")
def index() -> str:
    return render_template("user/upload.html", form={}, error=None)


@user.post("/images")
def upload() -> Any:
    key = request.form.get("key", "").strip()
    url = request.form.get("url", "").strip()
    upload_file = request.files.get("file")
    try:
        view = _store(key, url, upload_file.read() if upload_file else b"")
    except CatdogError as error:
        form = {"key": key, "url": url}
        page = render_template("user/upload.html", form=form, error=str(error))
        return Response(
            page, status=error.http_status, mimetype="text/html", headers=error_headers(error)
        )
    return redirect(url_for("user.image", key=view.key), code=303)


def _store(key: str, url: str, data: bytes) -> ImageView:
    if url and data:
        raise InvalidInput("choose a file or a URL, not both")
    if url:
        return store_image(key, url=url)
    if not data:
        raise InvalidInput("choose an image file (or give a URL)")
    return store_image(key, data=data)


@user.get("/images/<key>")
def image(key: str) -> str:
    current = deps()
    view = current.uploads.view(current.storage.catalog.get(key))
    return render_template("user/result.html", image=view)


@user.get("/images/<key>/content")
def content(key: str) -> Response:
    storage = deps().storage
    record = storage.catalog.get(key)
    return blob_response(storage.blobs.get("images", record.blob_name), record.key)


@user.get("/images/<key>/thumbnail")
def thumbnail(key: str) -> Response:
    storage = deps().storage
    record = storage.catalog.get(key)
    blob = storage.blobs.get("images", record.thumbnail_name)
    return blob_response(blob, f"{record.key}.thumbnail.jpg")


@user.get("/gallery/<label>")
def gallery(label: str) -> str:
    current = deps()
    chosen = parse_label(label)
    cursor = request.args.get("cursor") or None
    page = current.storage.catalog.list_by_prediction(chosen, cursor, GALLERY_PAGE)
    views = [current.uploads.view(record) for record in page.items]
    return render_template(
        "user/gallery.html", label=chosen, labels=LABELS, images=views, page=page, cursor=cursor
    )


@user.get("/search")
def search() -> BaseResponse | tuple[str, int] | str:
    key = request.args.get("key", "").strip()
    if not key:
        return render_template("user/search.html", key="", missing=False)
    try:
        deps().storage.catalog.get(key)
    except NotFound:
        return render_template("user/search.html", key=key, missing=True), 404
    return redirect(url_for("user.image", key=key))


@user.get("/images")
def images() -> str:
    current = deps()
    args = request.args
    image_filter = ImageFilter.from_query(args)
    cursor = args.get("cursor") or None
    page = list_images(current.storage.catalog, image_filter, cursor, parse_limit(None, TABLE_PAGE))
    views = [current.uploads.view(record) for record in page.items]
    query = {k: v for k, v in args.items() if k != "cursor" and v}
    return render_template(
        "user/images.html", images=views, page=page, filters=query, cursor=cursor
    )
