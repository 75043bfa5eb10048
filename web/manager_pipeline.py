"""Manager pages about the pipeline: train now, training runs, models, executions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from catdog.champion import PromotionRequest
from catdog.domain import RunStatus, TrainingRun
from catdog.errors import InvalidInput, NotFound
from catdog.pipeline.messages import parse_retrain_mode
from catdog.pipeline.orchestrator import console_url
from catdog.pipeline.outcome import Outcome, outcome_of
from web.auth import current_manager, protect_pages
from web.charts import training_charts
from web.control import (
    current_champion_version,
    promote,
    was_champion,
)
from web.deps import deps
from web.execution_query import execution_query, expand_args, filter_args
from web.security import verify_csrf
from web.timeline import timeline

manager_pipeline = Blueprint("manager_pipeline", __name__, url_prefix="/manager")
protect_pages(manager_pipeline)
manager_pipeline.before_request(verify_csrf)

RUNS_PAGE = 20
EXECUTIONS_PAGE = 25


@manager_pipeline.post("/training-runs")
def start_training() -> Any:
    current = deps()
    mode = parse_retrain_mode(request.form.get("retrain_mode") or None)
    started = current.train_now(mode)
    flash(f"Training started ({mode.value}): run {started.run_id}.")
    return redirect(url_for("manager_pipeline.run", run_id=started.run_id), code=303)


@manager_pipeline.get("/training-runs")
def runs() -> str:
    cursor = request.args.get("cursor") or None
    page = deps().storage.runs.list(cursor, RUNS_PAGE)
    return render_template("manager/runs.html", runs=page.items, page=page, cursor=cursor)


@manager_pipeline.get("/training-runs/<run_id>")
def run(run_id: str) -> str:
    current = deps()
    found = _find_run(run_id)
    champion = current.storage.registry.champion()
    chart = training_charts(found.history) if found else ""
    return render_template(
        "manager/run.html", run_id=run_id, run=found, champion=champion, chart=chart
    )


@manager_pipeline.get("/training-runs/<run_id>/outcome")
def run_outcome(run_id: str) -> str:
    """The run page's outcome part alone (gate evidence, metrics, confusion matrix), which
    the page's script swaps in when the run it watches ends."""
    return render_template("manager/_run_outcome.html", run=deps().storage.runs.get(run_id))


@manager_pipeline.post("/training-runs/<run_id>/cancel")
def cancel_training(run_id: str) -> Any:
    current = deps()
    if request.form.get("confirm") != "yes":
        raise InvalidInput("confirm that this run should stop")
    current.cancel_run(run_id, current_manager())
    flash(f"Run {run_id} cancelled: training stopped, the champion stays.")
    return redirect(url_for("manager_pipeline.run", run_id=run_id), code=303)


def _find_run(run_id: str) -> TrainingRun | None:
    """The run, or None while a just-started execution has not created it yet."""
    try:
        return deps().storage.runs.get(run_id)
    except NotFound:
        if not run_id.startswith("manual-"):
            raise
        return None


@manager_pipeline.get("/models")
def models() -> str:
    registry = deps().storage.registry
    versions = registry.list()
    history = registry.history()
    rollback = {m.version for m in versions if was_champion(m, history)}
    return render_template(
        "manager/models.html",
        models=versions,
        history=history,
        champion=current_champion_version(registry),
        rollback=rollback,
    )


@manager_pipeline.post("/models/<version>/promote")
def promote_model(version: str) -> Any:
    current = deps()
    wanted = PromotionRequest(
        version,
        request.form.get("expected_champion"),
        current_manager(),
        request.form.get("reason", ""),
        override=request.form.get("override") == "yes",
    )
    storage = current.storage
    outcome = promote(
        storage.registry, storage.runs, current.inference_fleet(), wanted, current.clock
    )
    category = "message" if outcome.served else "warning"
    flash(f"{version} is now the champion; {outcome.detail}.", category)
    return redirect(url_for("manager_pipeline.models"), code=303)


@manager_pipeline.get("/executions")
def executions() -> str:
    current = deps()
    orchestrator = current.orchestrator
    query = execution_query(request.args)
    cursor = request.args.get("cursor") or None
    page = None if orchestrator is None else orchestrator.list_page(query, cursor, EXECUTIONS_PAGE)
    return render_template(
        "manager/executions.html",
        page=page,
        configured=orchestrator is not None,
        filters=filter_args(request.args),
        outcomes=list(Outcome),
        console=console_url if current.settings.backend == "aws" else None,
        expand_args=expand_args,
    )


@manager_pipeline.get("/executions/<execution_id>")
def execution(execution_id: str) -> str:
    detail = deps().pipeline().describe_execution(execution_id)
    aws = deps().settings.backend == "aws"
    return render_template(
        "manager/execution.html",
        detail=detail,
        steps=timeline(detail.events),
        RunStatus=RunStatus,
        outcome=outcome_of(detail.summary.status, detail.output, detail.state_names),
        console=console_url(detail.summary.execution_arn) if aws else None,
    )
