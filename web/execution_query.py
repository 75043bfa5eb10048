"""The executions listing's query string: filters in, links out (pages and API share it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from catdog.clock import to_iso
from catdog.pipeline.history import ExecutionQuery, ExecutionRow

FILTERS = ("outcome", "since", "until", "expand")


def execution_query(args: Mapping[str, str]) -> ExecutionQuery:
    """``?outcome=&since=YYYY-MM-DD&until=YYYY-MM-DD&expand=1``; InvalidInput when malformed."""
    return ExecutionQuery.parse(
        args.get("outcome"), args.get("since"), args.get("until"), args.get("expand") == "1"
    )


def filter_args(args: Mapping[str, str]) -> dict[str, str]:
    """The filters in force, to carry into paging links."""
    return {name: args[name] for name in FILTERS if args.get(name)}


def expand_args(row: ExecutionRow, filters: Mapping[str, Any]) -> dict[str, str]:
    """Query arguments that list the executions of a collapsed row one by one."""
    args = {**filters, "expand": "1"}
    if row.oldest is not None:
        args["since"] = to_iso(row.oldest)
    if row.newest is not None:
        args["until"] = to_iso(row.newest + timedelta(milliseconds=1))
    if "outcome" not in filters:
        args["outcome"] = "skipped"
    return args
