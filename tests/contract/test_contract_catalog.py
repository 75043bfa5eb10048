"""ImageCatalog contract: records, listings, labels with their audit trail, counts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catdog.domain import CatalogCounts, ImageRecord, LabelChange, Page, Prediction
from catdog.errors import InvalidInput, KeyConflict, NotFound
from catdog.storage.cursor import encode_cursor
from catdog.storage.ports import ImageCatalog, Storage

from .support import MakeImage, at, unchecked

Listing = Callable[[str | None, int], Page[ImageRecord]]
"""One of the catalog's paged listings: (cursor, limit) -> page."""


def _all_pages(fetch: Listing, limit: int) -> list[Page[ImageRecord]]:
    pages: list[Page[ImageRecord]] = []
    cursor = None
    while True:
        page = fetch(cursor, limit)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            return pages


def _keys(records: list[ImageRecord]) -> list[str]:
    return [r.key for r in records]


def test_create_then_get_returns_the_same_record(storage: Storage, make_image: MakeImage) -> None:
    record = make_image(
        "full.jpg",
        uploaded=3.25,
        prediction=("dog", 0.8125),
        label="cat",
        labeled=4.5,
        labeled_by="alice",
    )
    storage.catalog.create(record)

    assert storage.catalog.get("full.jpg") == record


def test_create_plain_record_round_trips(storage: Storage, make_image: MakeImage) -> None:
    record = make_image("plain.png", uploaded=0.000001)
    storage.catalog.create(record)

    got = storage.catalog.get("plain.png")
    assert got == record
    assert got.prediction is None and got.label is None and got.labeled_at is None


def test_create_existing_key_conflicts_and_keeps_the_original(
    storage: Storage, make_image: MakeImage
) -> None:
    original = make_image("dup.jpg", sha256="first")
    storage.catalog.create(original)

    with pytest.raises(KeyConflict):
        storage.catalog.create(make_image("dup.jpg", sha256="second", uploaded=9))

    assert storage.catalog.get("dup.jpg") == original
    assert storage.catalog.counts() == CatalogCounts(images=1, labeled=0)


def test_get_missing_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        storage.catalog.get("missing.jpg")


def test_find_by_sha256(storage: Storage, make_image: MakeImage) -> None:
    storage.catalog.create(make_image("b.jpg", sha256="same"))
    storage.catalog.create(make_image("a.jpg", sha256="same", uploaded=5))
    storage.catalog.create(make_image("c.jpg", sha256="other"))

    found = storage.catalog.find_by_sha256("same")
    assert found is not None and found.key == "a.jpg"  # the smallest key among duplicates
    other = storage.catalog.find_by_sha256("other")
    assert other is not None and other.key == "c.jpg"
    assert storage.catalog.find_by_sha256("nothing") is None


def test_list_all_pages_newest_first_without_gaps_or_duplicates(
    storage: Storage, make_image: MakeImage
) -> None:
    # 23 records; three pairs share an upload time, so the key breaks the tie.
    for i in range(23):
        storage.catalog.create(make_image(f"img-{i:02d}.jpg", uploaded=i // 2 if i < 6 else i))

    pages = _all_pages(storage.catalog.list_all, limit=5)

    assert [len(p.items) for p in pages] == [5, 5, 5, 5, 3]
    listed = [r for p in pages for r in p.items]
    expected = sorted(
        (storage.catalog.get(f"img-{i:02d}.jpg") for i in range(23)),
        key=lambda r: (r.uploaded_at, r.key),
        reverse=True,
    )
    assert listed == expected


def test_list_all_last_full_page_has_no_cursor(storage: Storage, make_image: MakeImage) -> None:
    for i in range(10):
        storage.catalog.create(make_image(f"k{i}", uploaded=i))

    first = storage.catalog.list_all(limit=5)
    second = storage.catalog.list_all(cursor=first.next_cursor, limit=5)

    assert _keys(first.items) == ["k9", "k8", "k7", "k6", "k5"]
    assert _keys(second.items) == ["k4", "k3", "k2", "k1", "k0"]
    assert second.next_cursor is None


def test_list_all_on_empty_catalog(storage: Storage) -> None:
    assert storage.catalog.list_all() == Page(items=[], next_cursor=None)


def test_new_records_do_not_shift_an_open_cursor(storage: Storage, make_image: MakeImage) -> None:
    for i in range(6):
        storage.catalog.create(make_image(f"k{i}", uploaded=i))
    first = storage.catalog.list_all(limit=3)

    storage.catalog.create(make_image("newer", uploaded=100))

    rest = storage.catalog.list_all(cursor=first.next_cursor, limit=3)
    assert _keys(first.items) + _keys(rest.items) == ["k5", "k4", "k3", "k2", "k1", "k0"]


def test_list_by_prediction(storage: Storage, make_image: MakeImage) -> None:
    for i in range(12):
        label = "dog" if i % 3 == 0 else "cat"
        storage.catalog.create(make_image(f"p{i:02d}", uploaded=i, prediction=(label, 0.9)))
    storage.catalog.create(make_image("unpredicted", uploaded=50))

    dogs = [
        r
        for p in _all_pages(lambda c, n: storage.catalog.list_by_prediction("dog", c, n), 3)
        for r in p.items
    ]
    cats = [
        r
        for p in _all_pages(lambda c, n: storage.catalog.list_by_prediction("cat", c, n), 3)
        for r in p.items
    ]

    assert _keys(dogs) == ["p09", "p06", "p03", "p00"]
    assert _keys(cats) == ["p11", "p10", "p08", "p07", "p05", "p04", "p02", "p01"]
    assert all(r.prediction is not None and r.prediction.label == "cat" for r in cats)


def test_list_by_prediction_follows_new_predictions(
    storage: Storage, make_image: MakeImage
) -> None:
    storage.catalog.create(make_image("x", prediction=("cat", 0.6)))

    storage.catalog.set_prediction("x", Prediction("dog", 0.7, "m2"))

    assert storage.catalog.list_by_prediction("cat").items == []
    assert _keys(storage.catalog.list_by_prediction("dog").items) == ["x"]


def test_list_by_prediction_rejects_unknown_label(storage: Storage) -> None:
    with pytest.raises(InvalidInput):
        storage.catalog.list_by_prediction(unchecked("horse"))


def test_unlabeled_by_uncertainty_least_confident_first(
    storage: Storage, make_image: MakeImage
) -> None:
    confidences = {"u1": 0.99, "u2": 0.51, "u3": 0.75, "u4": 0.6, "u5": 0.75, "u6": 0.5}
    for i, (key, confidence) in enumerate(confidences.items()):
        label = "dog" if i % 2 else "cat"
        storage.catalog.create(make_image(key, uploaded=i, prediction=(label, confidence)))
    storage.catalog.create(make_image("labeled", prediction=("cat", 0.55), label="cat", labeled=1))
    storage.catalog.create(make_image("pending"))

    pages = _all_pages(storage.catalog.list_unlabeled_by_uncertainty, limit=4)

    assert [_keys(p.items) for p in pages] == [["u6", "u2", "u4", "u3"], ["u5", "u1"]]


def test_unlabeled_listing_follows_labels_and_predictions(
    storage: Storage, make_image: MakeImage
) -> None:
    storage.catalog.create(make_image("a", prediction=("cat", 0.9)))
    storage.catalog.create(make_image("b", prediction=("dog", 0.8)))
    storage.catalog.create(make_image("c"))

    storage.catalog.set_label("b", "dog", "alice", at(1))
    storage.catalog.set_prediction("c", Prediction("dog", 0.55, "m1"))
    storage.catalog.set_prediction("a", Prediction("cat", 0.95, "m2"))

    page = storage.catalog.list_unlabeled_by_uncertainty()
    assert _keys(page.items) == ["c", "a"]
    assert page.items[1].prediction == Prediction("cat", 0.95, "m2")


def test_list_pending_oldest_first_with_limit(storage: Storage, make_image: MakeImage) -> None:
    for i in range(5):
        storage.catalog.create(make_image(f"n{i}", uploaded=10 - i))
    storage.catalog.create(make_image("done", uploaded=0, prediction=("cat", 0.9)))

    assert _keys(storage.catalog.list_pending()) == ["n4", "n3", "n2", "n1", "n0"]
    assert _keys(storage.catalog.list_pending(limit=2)) == ["n4", "n3"]

    storage.catalog.set_prediction("n3", Prediction("cat", 0.7, "m1"))

    assert _keys(storage.catalog.list_pending(limit=2)) == ["n4", "n2"]


@pytest.mark.parametrize("limit", [0, -1])
def test_bad_limit_is_rejected(storage: Storage, limit: int) -> None:
    with pytest.raises(InvalidInput):
        storage.catalog.list_all(limit=limit)
    with pytest.raises(InvalidInput):
        storage.catalog.list_pending(limit=limit)


def test_iter_labeled_yields_every_labeled_image(storage: Storage, make_image: MakeImage) -> None:
    storage.catalog.create(make_image("imported", label="dog", labeled=0, labeled_by="import"))
    storage.catalog.create(make_image("manual"))
    storage.catalog.create(make_image("never"))
    storage.catalog.set_label("manual", "cat", "bob", at(2))

    labeled = {r.key: r for r in storage.catalog.iter_labeled()}

    assert set(labeled) == {"imported", "manual"}
    assert labeled["manual"].label == "cat"
    assert labeled["manual"].labeled_by == "bob"
    assert labeled["manual"].labeled_at == at(2)


def test_set_label_records_who_when_and_the_audit_trail(
    storage: Storage, make_image: MakeImage
) -> None:
    storage.catalog.create(make_image("pet.jpg", prediction=("dog", 0.7)))

    first = storage.catalog.set_label("pet.jpg", "cat", "alice", at(10))
    second = storage.catalog.set_label("pet.jpg", "dog", "bob", at(20))

    assert first == LabelChange("pet.jpg", None, "cat", "alice", at(10))
    assert second == LabelChange("pet.jpg", "cat", "dog", "bob", at(20))
    record = storage.catalog.get("pet.jpg")
    assert (record.label, record.labeled_by, record.labeled_at) == ("dog", "bob", at(20))
    assert record.prediction == Prediction("dog", 0.7, "m1")
    assert storage.catalog.label_history("pet.jpg") == [first, second]


def test_label_history_is_per_image(storage: Storage, make_image: MakeImage) -> None:
    storage.catalog.create(make_image("a"))
    storage.catalog.create(make_image("ab"))
    storage.catalog.set_label("ab", "dog", "carol", at(1))

    assert storage.catalog.label_history("a") == []
    assert storage.catalog.label_history("missing") == []
    assert storage.catalog.label_history("ab") == [LabelChange("ab", None, "dog", "carol", at(1))]


def test_set_label_missing_or_invalid(storage: Storage, make_image: MakeImage) -> None:
    storage.catalog.create(make_image("here"))
    with pytest.raises(NotFound):
        storage.catalog.set_label("missing", "cat", "alice", at(1))
    with pytest.raises(InvalidInput):
        storage.catalog.set_label("here", unchecked("horse"), "alice", at(1))
    assert storage.catalog.label_history("here") == []
    assert storage.catalog.get("here").label is None


def test_set_prediction_replaces_the_prediction(storage: Storage, make_image: MakeImage) -> None:
    storage.catalog.create(make_image("p", prediction=("cat", 0.9)))

    storage.catalog.set_prediction("p", Prediction("dog", 0.123456789012345, "v7"))

    assert storage.catalog.get("p").prediction == Prediction("dog", 0.123456789012345, "v7")
    with pytest.raises(NotFound):
        storage.catalog.set_prediction("missing", Prediction("dog", 0.6, "v7"))
    with pytest.raises(InvalidInput):
        storage.catalog.set_prediction("p", Prediction(unchecked("horse"), 0.6, "v7"))
    assert storage.catalog.get("p").prediction == Prediction("dog", 0.123456789012345, "v7")


def test_count_labeled_since(storage: Storage, make_image: MakeImage) -> None:
    for key in ("a", "b", "c", "d"):
        storage.catalog.create(make_image(key))
    storage.catalog.create(make_image("imported", label="cat", labeled=5, labeled_by="import"))
    storage.catalog.set_label("a", "cat", "alice", at(10))
    storage.catalog.set_label("b", "dog", "alice", at(20))
    storage.catalog.set_label("c", "dog", "alice", at(30))
    storage.catalog.create(make_image("untimed", label="dog"))  # labeled, time unknown

    assert storage.catalog.count_labeled_since(None) == 5
    assert storage.catalog.count_labeled_since(at(0)) == 4
    assert storage.catalog.count_labeled_since(at(10)) == 2  # strictly after
    assert storage.catalog.count_labeled_since(at(30)) == 0

    storage.catalog.set_label("a", "dog", "bob", at(40))  # a relabel counts as new

    assert storage.catalog.count_labeled_since(at(30)) == 1
    assert storage.catalog.count_labeled_since(None) == 5


def test_counts_follow_creates_and_labels(storage: Storage, make_image: MakeImage) -> None:
    assert storage.catalog.counts() == CatalogCounts(images=0, labeled=0)
    storage.catalog.create(make_image("a"))
    storage.catalog.create(make_image("b", label="dog", labeled=1))
    storage.catalog.create(make_image("c", prediction=("cat", 0.8)))

    storage.catalog.set_label("a", "cat", "alice", at(2))
    storage.catalog.set_label("a", "dog", "alice", at(3))  # relabel: still one labeled image

    assert storage.catalog.counts() == CatalogCounts(images=3, labeled=2)


def _cursor_listings(catalog: ImageCatalog) -> list[Listing]:
    return [
        catalog.list_all,
        lambda c, n: catalog.list_by_prediction("cat", c, n),
        catalog.list_unlabeled_by_uncertainty,
    ]


@pytest.mark.parametrize(
    "cursor",
    ["not a cursor!", "", "bm90IGpzb24", encode_cursor({"x": 1}), encode_cursor([1]), "e30"],
)
def test_bad_cursor_is_invalid_input(storage: Storage, make_image: MakeImage, cursor: str) -> None:
    storage.catalog.create(make_image("a", prediction=("cat", 0.9)))
    for listing in _cursor_listings(storage.catalog):
        with pytest.raises(InvalidInput):
            listing(cursor, 50)
