"""``catdog pipeline run [--force]`` and ``catdog executions [ID]``.

Both talk to the orchestrator through the boto3 ``stepfunctions`` client. On the
embedded backend that is the moto server a running ``catdog up`` serves on
``127.0.0.1:$CATDOG_STEPFUNCTIONS_PORT`` (default 8502), with the state machine
``catdog-retrain``; executions finished before its last restart are read from
the archive in ``$CATDOG_DATA_DIR/pipeline/executions.sqlite3``. On AWS it is the
state machine named by ``CATDOG_AWS_STATE_MACHINE_ARN``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from catdog.clock import to_iso
from catdog.errors import ServiceUnavailable
from catdog.gate import describe_evidence
from catdog.pipeline.executions import ExecutionDetail
from catdog.pipeline.factory import build_orchestrator
from catdog.pipeline.history import ExecutionQuery, ExecutionRow
from catdog.pipeline.outcome import Outcome, outcome_of
from catdog.settings import Settings
from catdog.storage.cursor import check_limit

_NOT_RUNNING = "is `catdog up` running? (it serves the pipeline on 127.0.0.1:{port})"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pipeline = subparsers.add_parser("pipeline", help="the retraining pipeline")
    actions = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="start a retraining execution, wait, print the outcome")
    run.add_argument(
        "--force", action="store_true", help="train even in manual mode or below the threshold"
    )
    run.add_argument(
        "--full",
        action="store_true",
        help="fit from scratch on every training image (default: continue from the champion)",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait (default: training limit + 10 min)",
    )
    run.set_defaults(func=run_pipeline)
    executions = subparsers.add_parser(
        "executions", help="list executions, or show one's states and events"
    )
    executions.add_argument("execution", nargs="?", help="execution name or ARN")
    executions.add_argument("--limit", type=int, default=20, help="rows per page")
    executions.add_argument(
        "--outcome", help="skipped, or one of: " + ", ".join(o.value for o in Outcome)
    )
    executions.add_argument("--since", help="started on or after this day (YYYY-MM-DD, UTC)")
    executions.add_argument("--until", help="started on or before this day (YYYY-MM-DD, UTC)")
    executions.add_argument(
        "--expand", action="store_true", help="one row per skipped check (not collapsed)"
    )
    executions.add_argument("--cursor", help="the next page (printed after a full page)")
    executions.add_argument("--json", action="store_true", help="print JSON")
    executions.set_defaults(func=show_executions)


def _unreachable(settings: Settings, exc: ServiceUnavailable) -> ServiceUnavailable:
    if settings.backend == "local":
        return ServiceUnavailable(f"{exc}; {_NOT_RUNNING.format(port=settings.stepfunctions_port)}")
    return exc


def run_pipeline(args: argparse.Namespace, settings: Settings) -> int:
    orchestrator = build_orchestrator(settings)
    try:
        arn = orchestrator.start_execution(
            {
                "trigger": "manual",
                "force": bool(args.force),
                "retrain_mode": "full" if args.full else "incremental",
            }
        )
    except ServiceUnavailable as exc:
        raise _unreachable(settings, exc) from exc
    print(f"started {arn.rsplit(':', 1)[-1]}", file=sys.stderr, flush=True)
    timeout = args.timeout or settings.training_timeout_seconds + 600
    detail = orchestrator.wait(arn, timeout=timeout, poll=1.0)
    print(_outcome_line(detail))
    return 0 if detail.summary.status == "SUCCEEDED" else 1


def _outcome_line(detail: ExecutionDetail) -> str:
    output: dict[str, Any] = detail.output if isinstance(detail.output, dict) else {}
    if detail.summary.status != "SUCCEEDED":
        return f"{detail.summary.name}: {detail.summary.status} {detail.error}: {detail.cause}"
    outcome = output.get("outcome", "?")
    parts = [f"{detail.summary.name}: {outcome}"]
    if output.get("reason"):
        parts.append(str(output["reason"]))
    if outcome == "promoted":
        parts.append(
            f"now serving {output.get('served_version') or output.get('promoted_version')}"
        )
    return " - ".join(parts)


def show_executions(args: argparse.Namespace, settings: Settings) -> int:
    orchestrator = build_orchestrator(settings)
    try:
        if args.execution:
            detail = orchestrator.describe_execution(args.execution)
            print(json.dumps(detail.to_dict(), indent=2) if args.json else _detail_text(detail))
            return 0
        try:
            orchestrator.state_machine_arn  # noqa: B018 - is anyone serving executions?
        except ServiceUnavailable as exc:
            if settings.backend != "local":
                raise
            print(
                f"catdog: {_unreachable(settings, exc)}; archived executions only", file=sys.stderr
            )
        query = ExecutionQuery.parse(args.outcome, args.since, args.until, args.expand)
        page = orchestrator.list_page(query, args.cursor, check_limit(args.limit, 1000))
    except ServiceUnavailable as exc:
        raise _unreachable(settings, exc) from exc
    if args.json:
        rows = [row.to_dict() for row in page.rows]
        print(json.dumps({"items": rows, "next_cursor": page.next_cursor}))
        return 0
    for row in page.rows:
        print(_row_text(row))
    if page.next_cursor:
        print(f"older: catdog executions --cursor {page.next_cursor}", file=sys.stderr)
    return 0


def _row_text(row: ExecutionRow) -> str:
    if row.group:
        kinds = ", ".join(f"{name} {count}" for name, count in row.by_outcome.items())
        newest = "-" if row.newest is None else to_iso(row.newest)
        oldest = "-" if row.oldest is None else to_iso(row.oldest)
        return f"{newest:28} {row.count} skipped checks since {oldest} ({kinds})"
    entry = row.execution
    start = "-" if entry.start_date is None else to_iso(entry.start_date)
    name = f"{entry.count} skipped checks (hourly count)" if entry.rollup else entry.name
    return f"{start:28} {entry.outcome.value:20} {entry.status:10} {name}"


def _detail_text(detail: ExecutionDetail) -> str:
    data = detail.to_dict()
    lines = [
        f"execution: {detail.summary.name}",
        f"status:    {detail.summary.status}" + (" (archived)" if detail.summary.archived else ""),
        f"outcome:   {outcome_of(detail.summary.status, detail.output, detail.state_names)}",
        f"started:   {data['start_date']}",
        f"stopped:   {data['stop_date']}",
        f"input:     {json.dumps(detail.input)}",
    ]
    if detail.error:
        lines.append(f"error:     {detail.error}: {detail.cause}")
    else:
        lines.append(f"output:    {json.dumps(detail.output)}")
    output = detail.output if isinstance(detail.output, dict) else {}
    if isinstance(output.get("evidence"), dict) and output["evidence"]:
        verdict = "accepted" if output.get("accepted") else "rejected"
        lines.append(f"gate:      {verdict} ({output.get('rule')}): {output.get('reason')}")
        lines.append(f"evidence:  {describe_evidence(output['evidence'])}")
    lines.append("states:")
    lines += [f"  {s['entered_at']}  {s['name']}" for s in data["states"]]
    lines.append("events:")
    lines += [f"  {e.get('id'):>4} {e.get('timestamp')}  {e.get('type')}" for e in detail.events]
    return "\n".join(lines)
