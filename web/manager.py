"""Manager pages about images: dashboard, labeling queue, image pages, settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from catdog.catalog_views import View
from catdog.domain import parse_label
from catdog.errors import InvalidInput, InvalidSettings
from web.auth import current_manager, protect_pages
from web.browse import browse_args, browse_view
from web.control import update_settings
from web.deps import deps
from web.login import safe_next
from web.overview import overview
from web.security import verify_csrf

manager = Blueprint("manager", __name__, url_prefix="/manager")
protect_pages(manager)
manager.before_request(verify_csrf)

QUEUE_PAGE = 20
BROWSE_PAGE = 50
MAX_BULK = 200


@manager.get("/")
def dashboard() -> str:
    return render_template("manager/dashboard.html", view=overview(deps().storage))


@manager.get("/queue")
def queue() -> str:
    current = deps()
    cursor = request.args.get("cursor") or None
    page = current.storage.catalog.list_unlabeled_by_uncertainty(cursor, QUEUE_PAGE)
    views = [current.uploads.view(record) for record in page.items]
    return render_template("manager/queue.html", images=views, page=page, cursor=cursor)


@manager.get("/images")
def images() -> str:
    """Every image with its prediction and label, by view (each an index) or key prefix."""
    current = deps()
    view = browse_view(request.args, current.settings.unsure_threshold)
    cursor = request.args.get("cursor") or None
    page = current.storage.catalog.browse(view, cursor, BROWSE_PAGE)
    return render_template(
        "manager/images.html",
        images=[current.uploads.view(record) for record in page.items],
        page=page,
        cursor=cursor,
        view=view,
        views=list(View),
        args=browse_args(request.args),
    )


@manager.get("/search")
def search() -> Any:
    key = request.args.get("key", "").strip()
    deps().storage.catalog.get(key)  # NotFound: 404 page
    return redirect(url_for("manager.image", key=key))


@manager.get("/images/<key>")
def image(key: str) -> str:
    current = deps()
    view = current.uploads.view(current.storage.catalog.get(key))
    history = current.storage.catalog.label_history(key)
    return render_template("manager/image.html", image=view, history=history)


@manager.post("/images/<key>/label")
def label_image(key: str) -> Any:
    current = deps()
    label = parse_label(request.form.get("label"))
    current.storage.catalog.set_label(key, label, current_manager(), current.clock())
    if request.headers.get("X-Requested-With") == "fetch":
        return "", 204
    flash(f"Labeled {key} as {label}.")
    return redirect(safe_next(request.form.get("next") or url_for("manager.queue")), code=303)


@manager.post("/labels")
def label_many() -> Any:
    current = deps()
    label = parse_label(request.form.get("label"))
    keys = request.form.getlist("keys")
    if not keys:
        raise InvalidInput("select at least one image")
    if len(keys) > MAX_BULK:
        raise InvalidInput(f"label at most {MAX_BULK} images at once")
    for key in keys:
        current.storage.catalog.set_label(key, label, current_manager(), current.clock())
    flash(f"Labeled {len(keys)} image{'s' if len(keys) != 1 else ''} as {label}.")
    return redirect(safe_next(request.form.get("next") or url_for("manager.queue")), code=303)


@manager.get("/settings")
def settings_form() -> str:
    stored = deps().storage.settings.get()
    return render_template("manager/settings.html", settings=stored, error=None)


@manager.post("/settings")
def save_settings() -> Any:
    store = deps().storage.settings
    try:
        update_settings(store, settings_from_form(request.form))
    except InvalidSettings as error:
        page = render_template("manager/settings.html", settings=store.get(), error=str(error))
        return page, 422
    flash("Settings saved.")
    return redirect(url_for("manager.settings_form"), code=303)


def settings_from_form(form: Any) -> dict[str, Any]:
    """The settings form speaks percent; the settings store speaks fractions."""
    try:
        return {
            "mode": form.get("mode", ""),
            "label_threshold": int(form.get("label_threshold", "")),
            "min_accuracy": float(form.get("min_accuracy", "")) / 100,
            "max_accuracy_drop": float(form.get("max_accuracy_drop", "")) / 100,
            "min_eval_images": int(form.get("min_eval_images", "")),
        }
    except ValueError:
        raise InvalidSettings("every setting needs a number") from None
