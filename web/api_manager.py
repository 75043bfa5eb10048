"""The managers' JSON API under /api/v1: every route needs a bearer token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from catdog.champion import PromotionRequest
from catdog.domain import parse_label
from catdog.errors import InvalidInput
from catdog.new_labels import new_labels
from catdog.pipeline.messages import parse_retrain_mode
from catdog.pipeline.orchestrator import console_url
from catdog.pipeline.outcome import outcome_of
from catdog.storage.cursor import check_limit
from web.api import bool_field, image_json, json_body, text_field
from web.auth import change_password, client_address, current_manager, protect_api, revoke_all
from web.browse import browse_view
from web.control import (
    current_champion_version,
    promote,
    update_settings,
)
from web.deps import deps
from web.execution_query import execution_query
from web.listing import parse_limit
from web.ports import Orchestrator
from web.timeline import timeline

api_manager = Blueprint("api_manager", __name__, url_prefix="/api/v1")
protect_api(api_manager)


@api_manager.put("/images/<key>/label")
def put_label(key: str) -> Response:
    current = deps()
    label = parse_label(json_body().get("label"))
    current.storage.catalog.set_label(key, label, current_manager(), current.clock())
    return jsonify(image_json(current.uploads.view(current.storage.catalog.get(key))))


@api_manager.get("/images/<key>/labels")
def get_label_history(key: str) -> Response:
    catalog = deps().storage.catalog
    catalog.get(key)
    return jsonify(items=[change.to_dict() for change in catalog.label_history(key)])


@api_manager.get("/catalog")
def get_catalog() -> Response:
    """The manager's image browser: one view (each an index) or a key prefix, by pages."""
    current = deps()
    view = browse_view(request.args, current.settings.unsure_threshold)
    limit = parse_limit(request.args.get("limit"))
    page = current.storage.catalog.browse(view, request.args.get("cursor") or None, limit)
    items = [image_json(current.uploads.view(record)) for record in page.items]
    return jsonify(items=items, next_cursor=page.next_cursor)


@api_manager.get("/labels/new")
def get_new_labels() -> Response:
    """New labels by the pipeline's own rule (``catdog.new_labels``), against the threshold."""
    storage = deps().storage
    return jsonify(new_labels(storage.catalog, storage.registry, storage.settings).to_dict())


@api_manager.get("/settings")
def get_settings() -> Response:
    return jsonify(deps().storage.settings.get().to_dict())


@api_manager.put("/settings")
def put_settings() -> Response:
    return jsonify(update_settings(deps().storage.settings, json_body()).to_dict())


@api_manager.post("/training-runs")
def post_training_run() -> tuple[Response, int]:
    """Train now: ``{"retrain_mode": "full"}`` fits from scratch (default incremental)."""
    current = deps()
    body = json_body() if request.get_data() else {}
    mode = parse_retrain_mode(body.get("retrain_mode"))
    started = current.train_now(mode)
    return jsonify(started.to_dict()), 202


@api_manager.get("/training-runs")
def get_training_runs() -> Response:
    runs = deps().storage.runs
    page = runs.list(request.args.get("cursor") or None, parse_limit(request.args.get("limit")))
    active = runs.active()
    return jsonify(
        items=[run.to_dict() for run in page.items],
        next_cursor=page.next_cursor,
        active=None if active is None else active.to_dict(),
    )


@api_manager.get("/training-runs/<run_id>")
def get_training_run(run_id: str) -> Response:
    return jsonify(deps().storage.runs.get(run_id).to_dict())


@api_manager.post("/training-runs/<run_id>/cancel")
def post_cancel_training_run(run_id: str) -> Response:
    current = deps()
    run = current.cancel_run(run_id, current_manager())
    return jsonify(run.to_dict())


@api_manager.get("/alerts")
def get_alerts() -> Response:
    """Open alerts (failed, rejected, promoted-but-not-served runs), newest first."""
    limit = parse_limit(request.args.get("limit"))
    return jsonify(items=[a.to_dict() for a in deps().storage.alerts.open_alerts(limit)])


@api_manager.post("/alerts/<alert_id>/acknowledge")
def post_acknowledge_alert(alert_id: str) -> Response:
    current = deps()
    done = current.storage.alerts.acknowledge(alert_id, current_manager(), current.clock())
    return jsonify(done.to_dict())


@api_manager.get("/models")
def get_models() -> Response:
    registry = deps().storage.registry
    return jsonify(
        champion=current_champion_version(registry),
        items=[model.to_dict() for model in registry.list()],
        history=[change.to_dict() for change in registry.history()],
    )


@api_manager.post("/models/<version>/promote")
def post_promote(version: str) -> Response:
    """Promote or roll back: always a compare-and-set against ``expected_champion``
    (the version the manager saw as champion, null when there was none)."""
    current = deps()
    body = json_body()
    if "expected_champion" not in body:
        raise InvalidInput(
            "'expected_champion' is required: the champion you saw (GET /api/v1/models),"
            " or null when there was none"
        )
    expected = body["expected_champion"]
    if expected is not None and (not isinstance(expected, str) or not expected):
        raise InvalidInput("'expected_champion' must be a version string or null")
    wanted = PromotionRequest(
        version,
        expected,
        current_manager(),
        str(body.get("reason", "")),
        override=bool_field(body, "override"),
    )
    storage = current.storage
    outcome = promote(
        storage.registry, storage.runs, current.inference_fleet(), wanted, current.clock
    )
    return jsonify(outcome.to_dict())


@api_manager.delete("/tokens")
def delete_tokens() -> tuple[str, int]:
    """Sign out everywhere: every API token and page session of this manager is revoked."""
    revoke_all(current_manager())
    return "", 204


@api_manager.put("/password")
def put_password() -> tuple[str, int]:
    """A new password (the current one is checked, throttled like a login); every API
    token and page session issued before is revoked."""
    body = json_body()
    change_password(
        current_manager(),
        text_field(body, "current_password"),
        text_field(body, "new_password"),
        client_address(),
    )
    return "", 204


@api_manager.get("/executions")
def get_executions() -> Response:
    current = deps()
    limit = check_limit(parse_limit(request.args.get("limit"), 20), 100)
    query = execution_query(request.args)
    page = _orchestrator().list_page(query, request.args.get("cursor") or None, limit)
    aws = current.settings.backend == "aws"
    items = [_row_json(row.to_dict(), aws) for row in page.rows]
    return jsonify(items=items, next_cursor=page.next_cursor)


def _row_json(row: dict[str, Any], aws: bool) -> dict[str, Any]:
    if aws and row.get("execution_arn"):
        return {**row, "console_url": console_url(row["execution_arn"])}
    return row


def _orchestrator() -> Orchestrator:
    return deps().pipeline()


@api_manager.get("/executions/<execution_id>")
def get_execution(execution_id: str) -> Response:
    detail = _orchestrator().describe_execution(execution_id)
    steps = [step.to_dict() for step in timeline(detail.events)]
    outcome = outcome_of(detail.summary.status, detail.output, detail.state_names)
    body = {**detail.to_dict(), "outcome": outcome.value, "timeline": steps}
    return jsonify(_row_json(body, deps().settings.backend == "aws"))
