"""Template filters: how numbers and times read on the pages."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask


def percent(value: float | None, digits: int = 1) -> str:
    return "\u2013" if value is None else f"{value * 100:.{digits}f}%"


def when(moment: datetime | None) -> str:
    return "\u2013" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat()


def span(oldest: datetime | None, newest: datetime | None) -> str:
    """A time span as ops read it: "2026-11-29 09:00-19:36 UTC" (with an en dash)."""
    if oldest is None or newest is None:
        return when(oldest or newest)
    first, last = oldest.astimezone(UTC), newest.astimezone(UTC)
    if first.date() == last.date():
        return f"{first:%Y-%m-%d %H:%M}\u2013{last:%H:%M} UTC"
    return f"{first:%Y-%m-%d %H:%M} \u2013 {last:%Y-%m-%d %H:%M} UTC"


def register(app: Flask) -> None:
    app.jinja_env.filters["span"] = span
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["iso"] = iso
