"""Image catalog on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from catdog.catalog_views import CatalogView, View, prefix_upper_bound
from catdog.clock import from_iso, to_iso
from catdog.domain import (
    CatalogCounts,
    ImageRecord,
    Label,
    LabelChange,
    Page,
    Prediction,
    parse_label,
)
from catdog.errors import InvalidInput, KeyConflict, NotFound
from catdog.keys import validate_key
from catdog.storage.cursor import check_limit, decode_cursor, encode_cursor
from catdog.storage.local.database import Database

_NEWEST = "ORDER BY uploaded_at DESC, key DESC"
# The WHERE of each partial index (migration 5), repeated exactly so SQLite picks it.
_VIEW_WHERE = {
    View.ALL: "",
    View.LABELED: "label IS NOT NULL",
    View.UNLABELED: "label IS NULL",
    View.DISAGREEMENT: (
        "label IS NOT NULL AND predicted_label IS NOT NULL AND label <> predicted_label"
    ),
}


class SqliteImageCatalog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, record: ImageRecord) -> None:
        validate_key(record.key)
        prediction = record.prediction
        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT INTO images (key, content_type, size, width, height, sha256,"
                    " uploaded_at, predicted_label, confidence, model_version, label,"
                    " labeled_at, labeled_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        record.key,
                        record.content_type,
                        record.size,
                        record.width,
                        record.height,
                        record.sha256,
                        to_iso(record.uploaded_at),
                        prediction.label if prediction else None,
                        prediction.confidence if prediction else None,
                        prediction.model_version if prediction else None,
                        record.label,
                        to_iso(record.labeled_at) if record.labeled_at else None,
                        record.labeled_by,
                    ),
                )
        except sqlite3.IntegrityError:
            raise KeyConflict(f"an image with key {record.key!r} already exists") from None

    def get(self, key: str) -> ImageRecord:
        row = self._db.connection().execute("SELECT * FROM images WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise NotFound(f"no image with key {key!r}")
        return _record(row)

    def find_by_sha256(self, sha256: str) -> ImageRecord | None:
        row = (
            self._db.connection()
            .execute("SELECT * FROM images WHERE sha256 = ? ORDER BY key LIMIT 1", (sha256,))
            .fetchone()
        )
        return None if row is None else _record(row)

    def list_all(self, cursor: str | None = None, limit: int = 50) -> Page[ImageRecord]:
        return self._newest_page("", (), cursor, limit)

    def list_by_prediction(
        self, label: Label, cursor: str | None = None, limit: int = 50
    ) -> Page[ImageRecord]:
        return self._newest_page("predicted_label = ?", (parse_label(label),), cursor, limit)

    def browse(
        self, view: CatalogView, cursor: str | None = None, limit: int = 50
    ) -> Page[ImageRecord]:
        if view.prefix is not None:
            return self._prefix_page(view.prefix, cursor, limit)
        if view.view is View.UNSURE:
            return self._unsure_page(view.unsure_below, cursor, limit)
        if view.view in (View.CAT, View.DOG):
            return self.list_by_prediction(parse_label(view.view.value), cursor, limit)
        return self._newest_page(_VIEW_WHERE[view.view], (), cursor, limit)

    def _prefix_page(self, prefix: str, cursor: str | None, limit: int) -> Page[ImageRecord]:
        check_limit(limit)
        low, above = prefix, ">="
        if cursor is not None:
            (after,) = _position(cursor, (str,))
            if after >= prefix:
                low, above = after, ">"
        rows = (
            self._db.connection()
            .execute(
                f"SELECT * FROM images WHERE key {above} ? AND key < ? ORDER BY key LIMIT ?",
                (low, prefix_upper_bound(prefix), limit + 1),
            )
            .fetchall()
        )
        return _page(rows, limit, lambda r: [r["key"]])

    def _unsure_page(self, below: float, cursor: str | None, limit: int) -> Page[ImageRecord]:
        return self._least_confident_first(
            "predicted_label IS NOT NULL AND confidence < ?", (below,), cursor, limit
        )

    def list_unlabeled_by_uncertainty(
        self, cursor: str | None = None, limit: int = 50
    ) -> Page[ImageRecord]:
        return self._least_confident_first(
            "label IS NULL AND predicted_label IS NOT NULL", (), cursor, limit
        )

    def _least_confident_first(
        self, where: str, params: tuple[Any, ...], cursor: str | None, limit: int
    ) -> Page[ImageRecord]:
        """A page of the images matching ``where``, by (confidence, key)."""
        check_limit(limit)
        if cursor is not None:
            confidence, key = _position(cursor, (float, str))
            # A row value, so SQLite seeks the index instead of scanning up to the cursor.
            where += " AND (confidence, key) > (?, ?)"
            params = (*params, confidence, key)
        rows = (
            self._db.connection()
            .execute(
                f"SELECT * FROM images WHERE {where} ORDER BY confidence, key LIMIT ?",
                (*params, limit + 1),
            )
            .fetchall()
        )
        return _page(rows, limit, lambda r: [r["confidence"], r["key"]])

    def list_pending(self, limit: int = 100) -> list[ImageRecord]:
        rows = (
            self._db.connection()
            .execute(
                "SELECT * FROM images WHERE predicted_label IS NULL"
                " ORDER BY uploaded_at, key LIMIT ?",
                (check_limit(limit),),
            )
            .fetchall()
        )
        return [_record(row) for row in rows]

    def iter_labeled(self) -> Iterator[ImageRecord]:
        rows = self._db.connection().execute(
            "SELECT * FROM images WHERE label IS NOT NULL ORDER BY key"
        )
        for row in rows.fetchall():
            yield _record(row)

    def set_label(self, key: str, label: Label, by: str, at: datetime) -> LabelChange:
        label = parse_label(label)
        with self._db.write() as conn:
            row = conn.execute("SELECT label FROM images WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise NotFound(f"no image with key {key!r}")
            conn.execute(
                "UPDATE images SET label = ?, labeled_at = ?, labeled_by = ? WHERE key = ?",
                (label, to_iso(at), by, key),
            )
            conn.execute(
                "INSERT INTO label_changes (key, old_label, new_label, changed_by, changed_at)"
                " VALUES (?,?,?,?,?)",
                (key, row["label"], label, by, to_iso(at)),
            )
        return LabelChange(key, row["label"], label, by, at)

    def label_history(self, key: str) -> list[LabelChange]:
        rows = (
            self._db.connection()
            .execute("SELECT * FROM label_changes WHERE key = ? ORDER BY id", (key,))
            .fetchall()
        )
        return [
            LabelChange(
                r["key"], r["old_label"], r["new_label"], r["changed_by"], from_iso(r["changed_at"])
            )
            for r in rows
        ]

    def set_prediction(self, key: str, prediction: Prediction) -> None:
        with self._db.write() as conn:
            updated = conn.execute(
                "UPDATE images SET predicted_label = ?, confidence = ?, model_version = ?"
                " WHERE key = ?",
                (
                    parse_label(prediction.label),
                    prediction.confidence,
                    prediction.model_version,
                    key,
                ),
            ).rowcount
        if updated == 0:
            raise NotFound(f"no image with key {key!r}")

    def count_labeled_since(self, since: datetime | None) -> int:
        sql = "SELECT COUNT(*) FROM images WHERE label IS NOT NULL"
        params: tuple[str, ...] = ()
        if since is not None:
            sql += " AND labeled_at > ?"
            params = (to_iso(since),)
        return int(self._db.connection().execute(sql, params).fetchone()[0])

    def counts(self) -> CatalogCounts:
        row = self._db.connection().execute("SELECT COUNT(*), COUNT(label) FROM images").fetchone()
        return CatalogCounts(images=int(row[0]), labeled=int(row[1]))

    def _newest_page(
        self, where: str, params: tuple[Any, ...], cursor: str | None, limit: int
    ) -> Page[ImageRecord]:
        check_limit(limit)
        clauses = [where] if where else []
        if cursor is not None:
            uploaded_at, key = _position(cursor, (str, str))
            # A row value, so SQLite seeks the index instead of scanning up to the cursor.
            clauses.append("(uploaded_at, key) < (?, ?)")
            params = (*params, uploaded_at, key)
        sql_where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = (
            self._db.connection()
            .execute(f"SELECT * FROM images {sql_where} {_NEWEST} LIMIT ?", (*params, limit + 1))
            .fetchall()
        )
        return _page(rows, limit, lambda r: [r["uploaded_at"], r["key"]])


def _position(cursor: str, types: tuple[type, ...]) -> list[Any]:
    position = decode_cursor(cursor)
    if (
        not isinstance(position, list)
        or len(position) != len(types)
        or not all(_is(value, kind) for value, kind in zip(position, types, strict=True))
    ):
        raise InvalidInput("the cursor is not valid; start again without it")
    return position


def _is(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)


def _page(rows: list[sqlite3.Row], limit: int, position: Any) -> Page[ImageRecord]:
    items = [_record(row) for row in rows[:limit]]
    next_cursor = encode_cursor(position(rows[limit - 1])) if len(rows) > limit else None
    return Page(items, next_cursor)


def _record(row: sqlite3.Row) -> ImageRecord:
    prediction = None
    if row["predicted_label"] is not None:
        prediction = Prediction(row["predicted_label"], row["confidence"], row["model_version"])
    return ImageRecord(
        key=row["key"],
        content_type=row["content_type"],
        size=row["size"],
        width=row["width"],
        height=row["height"],
        sha256=row["sha256"],
        uploaded_at=from_iso(row["uploaded_at"]),
        prediction=prediction,
        label=row["label"],
        labeled_at=from_iso(row["labeled_at"]) if row["labeled_at"] else None,
        labeled_by=row["labeled_by"],
    )
