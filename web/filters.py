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


def register(app: Flask) -> None:
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["iso"] = iso
