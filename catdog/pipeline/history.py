"""The executions listing as ops read it: outcome per execution, filters, cursor
paging through the whole history, consecutive skipped checks as one row.

Sources (the live orchestrator, the archive) yield ``ExecutionEntry`` items
newest first; ``build_page`` merges them into rows. Nothing here talks to AWS.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from catdog.clock import from_iso, to_iso
from catdog.errors import InvalidInput
from catdog.pipeline.outcome import Outcome, parse_outcome_filter
from catdog.storage.cursor import decode_cursor, encode_cursor

Position = tuple[str, str]  # (start date ISO, execution ARN): the listing's sort key
_NO_START = "0000"


@dataclass(frozen=True)
class ExecutionEntry:
    """One execution, or (``count`` > 1) skipped checks of one hour kept as a count."""

    execution_arn: str
    name: str
    status: str
    outcome: Outcome
    start_date: datetime | None
    stop_date: datetime | None = None
    count: int = 1
    first_start: datetime | None = None
    archived: bool = False
    rollup: bool = False  # compacted skipped checks: only their count and span are kept

    @property
    def position(self) -> Position:
        start = _NO_START if self.start_date is None else to_iso(self.start_date)
        return (start, self.execution_arn)

    def to_dict(self) -> dict[str, Any]:
        return {
            "execution_arn": None if self.rollup else self.execution_arn,
            "name": self.name,
            "status": self.status,
            "outcome": self.outcome.value,
            "start_date": None if self.start_date is None else to_iso(self.start_date),
            "stop_date": None if self.stop_date is None else to_iso(self.stop_date),
            "count": self.count,
            "archived": self.archived,
        }


ROLLUP_PREFIX = "skipped-hour:"


@dataclass(frozen=True)
class ExecutionQuery:
    """Which executions to list: outcomes (None: all), start date in [since, until)."""

    outcomes: frozenset[Outcome] | None = None
    since: datetime | None = None
    until: datetime | None = None
    collapse: bool = True

    @classmethod
    def parse(
        cls,
        outcome: str | None = None,
        since: str | None = None,
        until: str | None = None,
        expand: bool = False,
    ) -> ExecutionQuery:
        """From query-string values: ``since``/``until`` are days (``until`` included)."""
        first = parse_day(since, "since")
        last = parse_day(until, "until")
        if last is not None and "T" not in (until or ""):
            last += timedelta(days=1)  # the whole last day
        if first is not None and last is not None and last <= first:
            raise InvalidInput("until must not be before since")
        return cls(parse_outcome_filter(outcome), first, last, not expand)

    def matches(self, entry: ExecutionEntry) -> bool:
        if self.outcomes is not None and entry.outcome not in self.outcomes:
            return False
        start = entry.start_date
        if start is not None and self.since is not None and start < self.since:
            return False
        return not (start is not None and self.until is not None and start >= self.until)

    def past_since(self, entry: ExecutionEntry) -> bool:
        """Newest-first sources stop once they are older than ``since``."""
        start = entry.start_date
        return self.since is not None and start is not None and start < self.since


@dataclass
class ExecutionRow:
    """One row of the listing: one execution, or consecutive skipped checks."""

    entries: list[ExecutionEntry] = field(default_factory=list)
    group: bool = False

    @property
    def execution(self) -> ExecutionEntry:
        return self.entries[0]

    @property
    def count(self) -> int:
        return sum(entry.count for entry in self.entries)

    @property
    def newest(self) -> datetime | None:
        return self.entries[0].start_date

    @property
    def oldest(self) -> datetime | None:
        last = self.entries[-1]
        return last.first_start or last.start_date

    @property
    def by_outcome(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for entry in self.entries:
            counts[entry.outcome.value] += entry.count
        return dict(counts)

    def to_dict(self) -> dict[str, Any]:
        if not self.group:
            return {"kind": "execution", **self.execution.to_dict()}
        return {
            "kind": "skipped",
            "count": self.count,
            "by_outcome": self.by_outcome,
            "newest": None if self.newest is None else to_iso(self.newest),
            "oldest": None if self.oldest is None else to_iso(self.oldest),
        }


@dataclass(frozen=True)
class ExecutionPage:
    rows: list[ExecutionRow]
    next_cursor: str | None = None


@dataclass(frozen=True)
class Resume:
    """Where a page starts: after ``position``; the live source from page ``token``."""

    position: Position | None = None
    token: str | None = None

    def encode(self) -> str:
        return encode_cursor({"p": list(self.position or ()), "t": self.token})

    @classmethod
    def decode(cls, cursor: str | None) -> Resume:
        if not cursor:
            return cls()
        data = decode_cursor(cursor)
        position = data.get("p") if isinstance(data, dict) else None
        token = data.get("t") if isinstance(data, dict) else None
        valid = (
            isinstance(position, list)
            and len(position) == 2
            and all(isinstance(part, str) for part in position)
            and (token is None or isinstance(token, str))
        )
        if not valid:
            raise InvalidInput("the cursor is not valid; start again without it")
        assert isinstance(position, list)
        return cls((position[0], position[1]), token)


@dataclass
class LiveEntry:
    """An entry from the live source, with the page token that lists it again."""

    entry: ExecutionEntry
    token: str | None


def merged(live: Iterable[LiveEntry], archived: Iterable[ExecutionEntry]) -> Iterator[LiveEntry]:
    """Both sources newest first, as one stream; an execution in both appears once."""
    stream = heapq.merge(
        live,
        (LiveEntry(entry, None) for entry in archived),
        key=lambda item: item.entry.position,
        reverse=True,
    )
    previous: str | None = None
    for item in stream:
        if item.entry.execution_arn != previous:
            yield item
        previous = item.entry.execution_arn


def build_page(
    stream: Iterable[LiveEntry],
    resume: Resume,
    limit: int,
    collapse: bool = True,
    max_scan: int | None = None,
) -> ExecutionPage:
    """Up to ``limit`` rows; consecutive skipped checks become one row when ``collapse``.

    ``max_scan`` bounds the entries one page may read (a source that pays per
    entry); the page then ends early, with a cursor to go on.
    """
    rows: list[ExecutionRow] = []
    group: ExecutionRow | None = None
    last: LiveEntry | None = None
    token = resume.token
    more = False
    for scanned, item in enumerate(stream):
        entry = item.entry
        grouped = collapse and entry.outcome.skipped
        if (group is None or not grouped) and len(rows) + (group is not None) >= limit:
            more = True
            break
        if max_scan is not None and scanned >= max_scan:
            more = True
            break
        if grouped:
            if group is None:
                group = ExecutionRow(group=True)
            group.entries.append(entry)
        else:
            if group is not None:
                rows.append(_single(group))
                group = None
            rows.append(ExecutionRow([entry]))
        last = item
        if not entry.archived:  # from the live source: its page lists it again
            token = item.token
    if group is not None:
        rows.append(_single(group))
    if not more or last is None:
        return ExecutionPage(rows)
    return ExecutionPage(rows, Resume(last.entry.position, token).encode())


def _single(group: ExecutionRow) -> ExecutionRow:
    """A "group" of one skipped execution reads better as that execution."""
    if len(group.entries) == 1 and not group.entries[0].rollup and group.count == 1:
        return ExecutionRow(group.entries)
    return group


def parse_day(value: str | None, name: str) -> datetime | None:
    """A ``YYYY-MM-DD`` (UTC) or ISO time filter; None when empty."""
    if not value:
        return None
    try:
        return from_iso(value if "T" in value else value + "T00:00:00Z")
    except ValueError:
        raise InvalidInput(f"{name} must be a date (YYYY-MM-DD), not {value!r}") from None
