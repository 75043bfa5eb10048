"""Races: twenty threads at once must leave exactly the state one winner would."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from catdog.domain import (
    CatalogCounts,
    ChampionChange,
    ModelStatus,
    ModelVersion,
    TrainingRun,
    Trigger,
)
from catdog.storage.ports import Storage

from .support import MakeImage, at

THREADS = 20


def _race(task: Callable[[int], object]) -> list[object]:
    """Run ``task(i)`` for i in 0..19 on 20 threads released together; results or errors."""
    barrier = threading.Barrier(THREADS)

    def run(i: int) -> object:
        barrier.wait(timeout=30)
        try:
            return task(i)
        except Exception as error:  # the outcome under test, returned to the caller
            return error

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def _kinds(outcomes: list[object]) -> Counter[str]:
    return Counter(type(outcome).__name__ for outcome in outcomes)


def test_twenty_runs_created_at_once_leave_exactly_one_active(storage: Storage) -> None:
    outcomes = _race(lambda i: storage.runs.create(f"run-{i}", Trigger.SCHEDULE, at(i)))

    assert _kinds(outcomes) == Counter({"TrainingRun": 1, "RunAlreadyActive": 19})
    winner = next(o for o in outcomes if isinstance(o, TrainingRun))
    assert storage.runs.active() == winner
    assert [r.run_id for r in storage.runs.list().items] == [winner.run_id]


def test_twenty_creates_of_one_image_key_leave_one_record(
    storage: Storage, make_image: MakeImage
) -> None:
    outcomes = _race(lambda i: storage.catalog.create(make_image("same.jpg", sha256=f"s{i}")))

    assert _kinds(outcomes) == Counter({"NoneType": 1, "KeyConflict": 19})
    winner = outcomes.index(None)
    assert storage.catalog.get("same.jpg").sha256 == f"s{winner}"
    assert storage.catalog.counts() == CatalogCounts(images=1, labeled=0)
    assert [r.key for r in storage.catalog.list_all().items] == ["same.jpg"]


def test_twenty_distinct_creates_are_all_counted(storage: Storage, make_image: MakeImage) -> None:
    outcomes = _race(lambda i: storage.catalog.create(make_image(f"img-{i:02d}", uploaded=i)))

    assert outcomes == [None] * THREADS
    assert storage.catalog.counts() == CatalogCounts(images=THREADS, labeled=0)
    assert len(storage.catalog.list_all(limit=100).items) == THREADS


def test_twenty_promotions_against_one_champion_have_one_winner(storage: Storage) -> None:
    for i in range(THREADS + 1):
        storage.registry.register(
            ModelVersion(f"v{i}", f"models/v{i}/model.keras", ModelStatus.CANDIDATE, at(i))
        )
    storage.registry.promote("v0", None, "pipeline", "first", at(100))

    outcomes = _race(
        lambda i: storage.registry.promote(f"v{i + 1}", "v0", f"run-{i}", "race", at(200 + i))
    )

    assert _kinds(outcomes) == Counter({"ChampionChange": 1, "ChampionChanged": 19})
    winner = next(o for o in outcomes if isinstance(o, ChampionChange))
    champion = storage.registry.champion()
    assert champion is not None and champion.version == winner.to_version
    assert storage.registry.history()[0] == winner
    assert len(storage.registry.history()) == 2
    statuses = Counter(m.status for m in storage.registry.list())
    assert statuses == Counter(
        {ModelStatus.CANDIDATE: 19, ModelStatus.CHAMPION: 1, ModelStatus.RETIRED: 1}
    )


def test_concurrent_label_changes_keep_an_unbroken_audit_chain(
    storage: Storage, make_image: MakeImage
) -> None:
    storage.catalog.create(make_image("contested.jpg"))

    outcomes = _race(
        lambda i: storage.catalog.set_label(
            "contested.jpg", "cat" if i % 2 else "dog", f"manager-{i}", at(i)
        )
    )

    assert _kinds(outcomes) == Counter({"LabelChange": THREADS})
    history = storage.catalog.label_history("contested.jpg")
    assert len(history) == THREADS
    assert history[0].old_label is None
    # Each change saw the label the previous one wrote: no update was lost.
    assert all(b.old_label == a.new_label for a, b in itertools.pairwise(history))
    assert storage.catalog.get("contested.jpg").label == history[-1].new_label
    assert storage.catalog.counts() == CatalogCounts(images=1, labeled=1)
