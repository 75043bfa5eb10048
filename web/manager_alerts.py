"""The alerts banner on every manager page, and acknowledging an alert (``catdog.alerts``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from catdog.alerts import Alert
from web.auth import current_manager, protect_pages
from web.deps import deps
from web.security import verify_csrf

BANNER_ALERTS = 10

manager_alerts = Blueprint("manager_alerts", __name__, url_prefix="/manager")
protect_pages(manager_alerts)
manager_alerts.before_request(verify_csrf)


@manager_alerts.app_context_processor
def banner() -> dict[str, Callable[[], list[Alert]]]:
    """``open_alerts()`` for manager/base.html: called only when a manager page renders."""
    return {"open_alerts": lambda: deps().storage.alerts.open_alerts(BANNER_ALERTS)}


@manager_alerts.post("/alerts/<alert_id>/acknowledge")
def acknowledge(alert_id: str) -> Any:
    current = deps()
    done = current.storage.alerts.acknowledge(alert_id, current_manager(), current.clock())
    flash(f"Acknowledged: {done.message}")
    return redirect(_back(), code=303)


def _back() -> str:
    """The manager page the form was on (only a local /manager/ path), else the dashboard."""
    target = request.form.get("next", "")
    if target.startswith("/manager/") and "//" not in target and "\\" not in target:
        return target
    return url_for("manager.dashboard")
