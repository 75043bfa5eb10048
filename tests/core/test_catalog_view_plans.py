"""Every catalog view reads its own SQLite index: the query plan of each page (first and
after a cursor) is an index search or an ordered index scan, never a scan of the table
or a sort, so a page costs the same at any catalog size (timings: benchmarks/list_bench.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from catdog.catalog_views import CatalogView, View
from catdog.domain import ImageRecord, Prediction
from catdog.settings import Settings
from catdog.storage.local import build_local_storage
from catdog.storage.local.catalog import SqliteImageCatalog
from tests.contract.support import at

INDEX_OF = {
    View.ALL: "images_newest",
    View.CAT: "images_by_prediction",
    View.DOG: "images_by_prediction",
    View.LABELED: "images_labeled_newest",
    View.UNLABELED: "images_unlabeled_newest",
    View.DISAGREEMENT: "images_disagreement_newest",
    View.UNSURE: "images_by_confidence",
}


@pytest.mark.parametrize("view", [*View, "prefix"])
def test_each_view_reads_only_its_index(tmp_path: Path, view: View | str) -> None:
    settings = Settings(data_dir=tmp_path)
    storage = build_local_storage(settings)
    for i in range(40):
        storage.catalog.create(
            ImageRecord(
                key=f"img-{i:03d}",
                content_type="image/jpeg",
                size=1,
                width=1,
                height=1,
                sha256=f"{i:064d}",
                uploaded_at=at(i),
                prediction=Prediction("cat" if i % 2 else "dog", 0.5 + i / 100, "m"),
                label=("dog" if i % 4 == 1 else "cat") if i % 3 == 0 else None,
                labeled_at=at(i) if i % 3 == 0 else None,
            )
        )
    catalog = storage.catalog
    assert isinstance(catalog, SqliteImageCatalog)
    conn = catalog._db.connection()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    chosen = CatalogView(prefix="img-0") if view == "prefix" else CatalogView(View(view))
    first = storage.catalog.browse(chosen, None, 3)
    assert first.next_cursor is not None
    storage.catalog.browse(chosen, first.next_cursor, 3)
    conn.set_trace_callback(None)
    pages = [s for s in statements if s.startswith("SELECT * FROM images")]
    assert len(pages) == 2
    index = "sqlite_autoindex_images_1" if view == "prefix" else INDEX_OF[View(view)]
    for sql in pages:
        plan = [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]
        assert len(plan) == 1 and f"USING INDEX {index}" in plan[0], (sql, plan)
        assert "TEMP B-TREE" not in plan[0]
    assert "SEARCH" in next(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + pages[1]))
