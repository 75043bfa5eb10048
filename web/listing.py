"""Filtered image listings on top of the catalog's two indexed orders.

The catalog indexes images newest first, overall and by predicted label. The
other filters (labeled or not, prediction and label disagree) are applied to
those pages. Each underlying page is consumed whole, so the cursor handed back
is always the catalog's own: no image is skipped or repeated between pages,
even while uploads happen. A sparse filter may return a short page (bounded
work per request) with a cursor to continue from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from catdog.domain import ImageRecord, Label, Page, parse_label
from catdog.errors import InvalidInput
from catdog.storage.ports import ImageCatalog

MAX_LIMIT = 100
MAX_BATCHES = 10


@dataclass(frozen=True)
class ImageFilter:
    predicted: Label | None = None
    labeled: bool | None = None
    disagreement: bool = False

    @classmethod
    def parse(
        cls, predicted: str | None, labeled: str | None, disagreement: str | None = None
    ) -> ImageFilter:
        """From query-string values; empty strings mean "no filter"."""
        return cls(
            predicted=parse_label(predicted) if predicted else None,
            labeled=_parse_bool("labeled", labeled),
            disagreement=bool(_parse_bool("disagreement", disagreement)),
        )

    @classmethod
    def from_query(cls, args: Mapping[str, str]) -> ImageFilter:
        """``?predicted=cat|dog&labeled=true|false&disagreement=true``: the same names
        on the pages and in the API."""
        if "label" in args:
            raise InvalidInput(
                "?label= is now ?predicted= (it filters by the predicted class); "
                "filter by manager labels with ?labeled=true|false"
            )
        return cls.parse(args.get("predicted"), args.get("labeled"), args.get("disagreement"))

    @property
    def is_empty(self) -> bool:
        return self.labeled is None and not self.disagreement

    def matches(self, record: ImageRecord) -> bool:
        if self.labeled is not None and (record.label is not None) != self.labeled:
            return False
        if self.disagreement:
            prediction = record.prediction
            return (
                prediction is not None
                and record.label is not None
                and prediction.label != record.label
            )
        return True


def parse_limit(raw: str | None, default: int = 24) -> int:
    if raw is None or raw == "":
        return default
    # isascii: str.isdigit is also true for "²" or "٣", which int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def list_images(
    catalog: ImageCatalog, image_filter: ImageFilter, cursor: str | None, limit: int
) -> Page[ImageRecord]:
    """Up to ``limit`` images matching ``image_filter``, newest first."""

    def fetch(position: str | None, count: int) -> Page[ImageRecord]:
        if image_filter.predicted is not None:
            return catalog.list_by_prediction(image_filter.predicted, position, count)
        return catalog.list_all(position, count)

    if image_filter.is_empty:
        return fetch(cursor or None, limit)
    items: list[ImageRecord] = []
    position = cursor or None
    for _ in range(MAX_BATCHES):
        page = fetch(position, limit - len(items))
        items.extend(record for record in page.items if image_filter.matches(record))
        position = page.next_cursor
        if position is None or len(items) >= limit:
            break
    return Page(items, position)


def _parse_bool(name: str, raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise InvalidInput(f"{name} must be true or false")
