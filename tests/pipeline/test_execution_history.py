"""The executions listing: outcome per execution, collapsed skipped checks, filters,
paging through the whole history, and the archive's hourly counts of old skipped checks."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from catdog.errors import InvalidInput, NotFound
from catdog.pipeline.archive import ExecutionArchive
from catdog.pipeline.history import ExecutionQuery
from catdog.pipeline.orchestrator import Orchestrator, console_url
from catdog.pipeline.outcome import Outcome, outcome_of
from tests.pipeline.execution_fixtures import DAY, MACHINE, execution, ticks


class OfflineStepFunctions:
    """A Step Functions client that knows no executions (the archive answers)."""

    def list_executions(self, **kwargs: Any) -> dict[str, Any]:
        return {"executions": []}

    def describe_execution(self, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ExecutionDoesNotExist"}}, "DescribeExecution")


class PagedStepFunctions:
    """Step Functions' own listing (newest first, ``maxResults`` per page, ``nextToken``),
    as on AWS where every execution of the last 90 days is listed there."""

    def __init__(self, details: list[Any]) -> None:
        self._details = sorted(details, key=lambda d: d.summary.start_date, reverse=True)
        self.list_calls = 0
        self.describe_calls = 0

    def list_executions(self, **kwargs: Any) -> dict[str, Any]:
        self.list_calls += 1
        start = int(kwargs.get("nextToken") or 0)
        wanted = kwargs.get("statusFilter")
        items = [d for d in self._details if wanted is None or d.summary.status == wanted]
        page = items[start : start + kwargs["maxResults"]]
        answer: dict[str, Any] = {
            "executions": [
                {
                    "executionArn": d.summary.execution_arn,
                    "name": d.summary.name,
                    "status": d.summary.status,
                    "startDate": d.summary.start_date,
                    "stopDate": d.summary.stop_date,
                }
                for d in page
            ]
        }
        if start + len(page) < len(items):
            answer["nextToken"] = str(start + len(page))
        return answer

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self.describe_calls += 1
        detail = next(d for d in self._details if d.summary.execution_arn == executionArn)
        return {
            "executionArn": executionArn,
            "name": detail.summary.name,
            "status": detail.summary.status,
            "startDate": detail.summary.start_date,
            "output": None if detail.output is None else json.dumps(detail.output),
        }


@pytest.fixture
def archive(tmp_path: Path) -> ExecutionArchive:
    return ExecutionArchive(tmp_path / "executions.sqlite3")


def archived_orchestrator(archive: ExecutionArchive) -> Orchestrator:
    return Orchestrator(OfflineStepFunctions(), MACHINE, archive)


def walk(orchestrator: Orchestrator, query: ExecutionQuery, limit: int) -> list[list[Any]]:
    pages, cursor = [], None
    while True:
        page = orchestrator.list_page(query, cursor, limit)
        pages.append(page.rows)
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 1000, "paging does not end"


def test_outcome_comes_from_the_terminal_state_or_the_status() -> None:
    for kind in (
        "skipped_mode",
        "skipped_threshold",
        "promoted",
        "rejected",
        "promoted_not_served",
        "failed",
        "cancelled",
    ):
        detail = execution(kind, DAY)
        found = outcome_of(detail.summary.status, detail.output, detail.state_names)
        assert found is Outcome(kind)
        assert outcome_of(detail.summary.status, detail.output) is Outcome(kind)  # output alone
    # Executions of the earlier definition ended in "Skipped" / "Finished".
    lock = {"outcome": "skipped", "lock": {"Error": "RunAlreadyActive"}}
    assert outcome_of("SUCCEEDED", lock, ["LockHeld", "Skipped"]) is Outcome.SKIPPED_RUN_ACTIVE
    rolled = {"outcome": "promoted", "rolled_back_from": "v2"}
    assert outcome_of("SUCCEEDED", rolled, ["Finished"]) is Outcome.PROMOTED_NOT_SERVED
    assert outcome_of("RUNNING", None) is Outcome.RUNNING


def test_a_day_of_schedule_ticks_reads_as_a_handful_of_rows(archive: ExecutionArchive) -> None:
    for detail in ticks():
        archive.save(detail)
    page = archived_orchestrator(archive).list_page(ExecutionQuery(), limit=20)
    assert page.next_cursor is None
    shape = [(row.group, row.count) for row in page.rows]
    # Newest first: skips after 15:00, the rejection, skips 10:03-14:57, the promotion, skips.
    assert shape == [(True, 179), (False, 1), (True, 99), (False, 1), (True, 200)]
    assert [row.execution.outcome for row in page.rows if not row.group] == [
        Outcome.REJECTED,
        Outcome.PROMOTED,
    ]
    middle = page.rows[2]
    assert middle.by_outcome == {"skipped_threshold": 60, "skipped_mode": 39}
    assert (middle.oldest, middle.newest) == (
        DAY.replace(hour=10, minute=3),
        DAY.replace(hour=14, minute=57),
    )
    assert page.rows[2].to_dict()["kind"] == "skipped"


def test_filters_by_outcome_and_date(archive: ExecutionArchive) -> None:
    for detail in ticks() + ticks(DAY + timedelta(days=1)):
        archive.save(detail)
    orchestrator = archived_orchestrator(archive)
    promoted = orchestrator.list_page(ExecutionQuery.parse("promoted"), limit=50).rows
    assert [row.execution.start_date for row in promoted] == [
        DAY.replace(hour=10) + timedelta(days=1),
        DAY.replace(hour=10),
    ]
    first_day = ExecutionQuery.parse("promoted", since="2026-11-20", until="2026-11-20")
    assert len(orchestrator.list_page(first_day, limit=50).rows) == 1
    skipped = orchestrator.list_page(ExecutionQuery.parse("skipped", since="2026-11-21"), None, 5)
    assert [row.count for row in skipped.rows] == [478]  # one row: nothing else in between
    with pytest.raises(InvalidInput, match="outcome"):
        ExecutionQuery.parse("maybe")
    with pytest.raises(InvalidInput, match="until"):
        ExecutionQuery.parse(since="2026-11-21", until="2026-11-20")


def test_paging_reaches_the_oldest_execution_without_repeats(archive: ExecutionArchive) -> None:
    details = ticks()
    for detail in details:
        archive.save(detail)
    orchestrator = archived_orchestrator(archive)
    pages = walk(orchestrator, ExecutionQuery(collapse=False), limit=50)
    names = [row.execution.name for rows in pages for row in rows]
    assert len(pages) == 10 and all(len(rows) == 50 for rows in pages[:-1])
    assert names == [d.summary.name for d in reversed(details)]
    # Collapsed, one row a page: every row once, the oldest last.
    rows = [row for rows in walk(orchestrator, ExecutionQuery(), limit=1) for row in rows]
    assert [row.count for row in rows] == [179, 1, 99, 1, 200]
    assert rows[-1].oldest == DAY
    with pytest.raises(InvalidInput):
        orchestrator.list_page(ExecutionQuery(), "not-a-cursor")


def test_old_skipped_checks_become_hourly_counts(archive: ExecutionArchive) -> None:
    for detail in ticks():
        archive.save(detail)
    assert archive.size() == {"executions": 480, "hourly_counts": 0, "folded": 0}
    folded = archive.compact(DAY.replace(hour=12))  # retention ends at noon
    assert folded == 239  # 240 ticks before noon, one of them the promotion
    size = archive.size()
    assert size == {"executions": 241, "hourly_counts": 12, "folded": 239}
    assert archive.compact(DAY.replace(hour=12)) == 0  # nothing left to fold
    # Every execution that did something is still there in full.
    promoted = archive.get(f"promoted-{DAY.replace(hour=10):%Y%m%dT%H%M%S}")
    assert promoted is not None and promoted.state_names == ["Promoted"]
    # The listing still adds up, old skips as counts within collapsed rows.
    rows = archived_orchestrator(archive).list_page(ExecutionQuery(), limit=20).rows
    assert sum(row.count for row in rows) == 480
    assert [row.count for row in rows][-2:] == [1, 200]
    expanded = archived_orchestrator(archive).list_page(
        ExecutionQuery.parse("skipped_mode", until="2026-11-20", expand=True), limit=100
    )
    hourly = [row.execution for row in expanded.rows if row.execution.rollup]
    assert len(hourly) == 12 and {entry.count for entry in hourly} <= {19, 20}
    # Folding an hour in two steps adds up in one count.
    later = execution("skipped_mode", DAY.replace(hour=11, minute=59, second=30))
    archive.save(later)
    assert archive.compact(DAY.replace(hour=12)) == 1
    assert archive.size()["hourly_counts"] == 12
    assert archive.size()["folded"] == 240


def test_step_functions_pages_merge_with_the_archive(archive: ExecutionArchive) -> None:
    """On AWS: Step Functions lists recent executions (paged by token), the archive the
    older ones; one listing pages through both, and describes each execution once."""
    details = ticks()
    for detail in details[:100]:  # the oldest, only in the archive
        archive.save(detail)
    client = PagedStepFunctions(details[90:])  # the rest (10 in both)
    orchestrator = Orchestrator(client, MACHINE, archive)
    pages = walk(orchestrator, ExecutionQuery(collapse=False), limit=70)
    names = [row.execution.name for rows in pages for row in rows]
    assert names == [d.summary.name for d in reversed(details)]
    assert client.describe_calls == len(details) - 90  # outcomes are cached per execution
    collapsed = orchestrator.list_page(ExecutionQuery(), limit=20).rows
    assert [row.count for row in collapsed] == [179, 1, 99, 1, 200]
    cancelled = orchestrator.list_page(ExecutionQuery.parse("cancelled"), limit=20).rows
    assert cancelled == []


def test_console_link_names_the_region_and_execution() -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:execution:catdog-retrain:manual-1"
    url = console_url(arn)
    assert url.startswith("https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1")
    assert url.endswith(f"#/v2/executions/details/{arn}")


def test_an_archived_execution_is_described_after_the_interpreter_forgot_it(
    archive: ExecutionArchive,
) -> None:
    detail = execution("rejected", DAY, name="kept")
    archive.save(detail)
    orchestrator = archived_orchestrator(archive)
    assert orchestrator.describe_execution("kept").output == detail.output
    assert orchestrator.wait(detail.summary.execution_arn, timeout=1).summary.name == "kept"
    with pytest.raises(NotFound):
        orchestrator.describe_execution("never-ran")


def test_an_earlier_archive_is_upgraded_once_by_concurrent_openers(tmp_path: Path) -> None:
    """catdog up, the web app and the CLI may open an archive of the earlier layout at once."""
    import sqlite3
    import threading

    path = tmp_path / "executions.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE executions (execution_arn TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " status TEXT NOT NULL, start_date TEXT, stop_date TEXT, detail TEXT NOT NULL)"
        )
        old = execution("rejected", DAY, name="old-layout")
        data = old.to_dict()
        db.execute(
            "INSERT INTO executions VALUES (?,?,?,?,?,?)",
            (
                old.summary.execution_arn,
                "old-layout",
                "SUCCEEDED",
                data["start_date"],
                data["stop_date"],
                json.dumps(data),
            ),
        )
    errors: list[Exception] = []

    def open_archive() -> None:
        try:
            ExecutionArchive(path)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_archive) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = archived_orchestrator(ExecutionArchive(path)).list_page(ExecutionQuery()).rows
    assert [(row.execution.name, row.execution.outcome) for row in rows] == [
        ("old-layout", Outcome.REJECTED)
    ]


def test_a_quiet_week_of_skipped_checks_is_one_row(archive: ExecutionArchive) -> None:
    for i in range(7 * 480):
        archive.save(execution("skipped_mode", DAY + timedelta(minutes=3 * i)))
    rows = archived_orchestrator(archive).list_page(ExecutionQuery(), limit=20).rows
    assert [(row.group, row.count) for row in rows] == [(True, 7 * 480)]
