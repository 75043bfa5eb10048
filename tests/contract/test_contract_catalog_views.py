"""The manager's catalog views on both backends: each filter and the key-prefix search
give full pages in their order, walk without gaps or repeats, and follow labels and
predictions as they change."""

from __future__ import annotations

import pytest

from catdog.catalog_views import CatalogView, View
from catdog.domain import ImageRecord, Prediction
from catdog.errors import InvalidInput
from catdog.storage.ports import Storage

from .support import MakeImage, at


def walk(storage: Storage, view: CatalogView, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = storage.catalog.browse(view, cursor, limit)
        pages.append([record.key for record in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 100


def fill(storage: Storage, make_image: MakeImage) -> dict[str, ImageRecord]:
    """24 images: predictions alternate cat/dog with confidences 0.50..0.96, every third
    labeled (some against the prediction), the last two still pending."""
    records = {}
    for i in range(24):
        key = f"{'k' if i % 2 else 'q'}-{i:02d}"
        prediction = None if i >= 22 else ("cat" if i % 2 else "dog", 0.5 + i * 0.02)
        label = None
        if i % 3 == 0:
            label = "cat" if i % 6 == 0 else "dog"
        record = make_image(
            key,
            uploaded=i,
            prediction=prediction,
            label=label,
            labeled=None if label is None else i,
            labeled_by=None if label is None else "m",
        )
        storage.catalog.create(record)
        records[key] = record
    return records


def newest(records: list[ImageRecord]) -> list[str]:
    return [r.key for r in sorted(records, key=lambda r: (r.uploaded_at, r.key), reverse=True)]


def test_every_view_pages_fully_in_its_order(storage: Storage, make_image: MakeImage) -> None:
    records = list(fill(storage, make_image).values())
    predicted = [r for r in records if r.prediction is not None]
    expected = {
        View.ALL: newest(records),
        View.CAT: newest([r for r in predicted if r.prediction and r.prediction.label == "cat"]),
        View.DOG: newest([r for r in predicted if r.prediction and r.prediction.label == "dog"]),
        View.LABELED: newest([r for r in records if r.label is not None]),
        View.UNLABELED: newest([r for r in records if r.label is None]),
        View.DISAGREEMENT: newest(
            [r for r in predicted if r.label and r.prediction and r.label != r.prediction.label]
        ),
        View.UNSURE: [
            r.key
            for r, confidence in sorted(
                ((r, r.prediction.confidence) for r in predicted if r.prediction),
                key=lambda pair: (pair[1], pair[0].key),
            )
            if confidence < 0.7
        ],
    }
    assert expected[View.DISAGREEMENT] and expected[View.UNSURE]
    for view, keys in expected.items():
        pages = walk(storage, CatalogView(view, unsure_below=0.7), limit=4)
        assert [key for page in pages for key in page] == keys, view
        assert all(len(page) == 4 for page in pages[:-1]), view  # every page but the last full


def test_key_prefix_search_in_key_order(storage: Storage, make_image: MakeImage) -> None:
    fill(storage, make_image)
    for extra in ("k", "k-1x", "j-99", "l-00", "k-"):  # around the prefix's edges
        storage.catalog.create(make_image(f"{extra}-edge" if extra != "k" else "k", uploaded=99))
    pages = walk(storage, CatalogView(prefix="k-1"), limit=3)
    assert [key for page in pages for key in page] == [
        "k-11",
        "k-13",
        "k-15",
        "k-17",
        "k-19",
        "k-1x-edge",
    ]
    assert [len(page) for page in pages] == [3, 3]
    everything = [k for page in walk(storage, CatalogView(prefix="k"), limit=50) for k in page]
    assert everything[0] == "k" and "l-00-edge" not in everything and "j-99-edge" not in everything
    assert walk(storage, CatalogView(prefix="zzz"), limit=5) == [[]]


def test_views_follow_labels_and_predictions(storage: Storage, make_image: MakeImage) -> None:
    storage.catalog.create(make_image("a", uploaded=1, prediction=("cat", 0.6)))
    storage.catalog.create(make_image("b", uploaded=2))

    def keys(view: View) -> list[str]:
        return [r.key for r in storage.catalog.browse(CatalogView(view), None, 10).items]

    assert (keys(View.UNLABELED), keys(View.UNSURE), keys(View.DISAGREEMENT)) == (
        ["b", "a"],
        ["a"],
        [],
    )
    storage.catalog.set_label("a", "dog", "m", at(5))
    assert (keys(View.UNLABELED), keys(View.LABELED), keys(View.DISAGREEMENT)) == (
        ["b"],
        ["a"],
        ["a"],
    )
    storage.catalog.set_label("a", "cat", "m", at(6))
    assert keys(View.DISAGREEMENT) == []
    storage.catalog.set_label("b", "cat", "m", at(7))
    assert keys(View.DISAGREEMENT) == []  # no prediction yet: nothing to disagree with
    storage.catalog.set_prediction("b", Prediction("dog", 0.95, "m2"))
    assert keys(View.DISAGREEMENT) == ["b"] and keys(View.UNSURE) == ["a"]
    storage.catalog.set_prediction("b", Prediction("cat", 0.55, "m3"))
    assert keys(View.DISAGREEMENT) == [] and keys(View.UNSURE) == ["b", "a"]
    assert keys(View.UNLABELED) == []


def test_bad_views_and_cursors(storage: Storage, make_image: MakeImage) -> None:
    with pytest.raises(InvalidInput, match="view must be"):
        CatalogView.parse("blurry", None, 0.7)
    with pytest.raises(InvalidInput, match="prefix"):
        CatalogView.parse("cat", "k-", 0.7)
    with pytest.raises(InvalidInput):
        CatalogView.parse(None, "bad prefix!", 0.7)
    assert CatalogView.parse("", "  k-1 ", 0.7) == CatalogView(View.ALL, "k-1", 0.7)
    with pytest.raises(InvalidInput):
        storage.catalog.browse(CatalogView(View.UNSURE), "bm90LWEtY3Vyc29y", 5)
