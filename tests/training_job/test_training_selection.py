"""What an incremental run trains on: the new labels plus a stratified replay sample."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from catdog.domain import RetrainMode
from training_job.data import Example, example_from_bytes
from training_job.selection import select_training, stratified_sample

CUTOFF = datetime(2026, 5, 1, tzinfo=UTC)


def examples(count: int, label: int, *, at: datetime | None, tag: str) -> list[Example]:
    return [
        example_from_bytes(f"{tag}{i}", f"{tag}-{label}-{i}".encode(), label, at)
        for i in range(count)
    ]


OLD = examples(300, 0, at=CUTOFF - timedelta(days=1), tag="oc") + examples(
    100, 1, at=None, tag="od"
)
NEW = examples(7, 1, at=CUTOFF + timedelta(hours=1), tag="n")


def test_a_full_retrain_fits_on_every_training_image() -> None:
    chosen = select_training(OLD + NEW, incremental=False, since=CUTOFF, replay_size=10, seed=1)
    assert chosen.mode is RetrainMode.FULL
    assert len(chosen.examples) == 407 and (chosen.new, chosen.replay) == (407, 0)


def test_incremental_takes_every_new_label_and_a_stratified_replay() -> None:
    chosen = select_training(OLD + NEW, incremental=True, since=CUTOFF, replay_size=40, seed=1)
    assert chosen.mode is RetrainMode.INCREMENTAL
    assert (chosen.new, chosen.replay) == (7, 40)
    assert set(NEW) <= set(chosen.examples)
    replay = [e for e in chosen.examples if e not in NEW]
    # 3:1 among the older images, so 30 cats and 10 dogs.
    assert sum(1 for e in replay if e.label == 0) == 30
    assert sum(1 for e in replay if e.label == 1) == 10


def test_the_replay_is_deterministic_per_seed_and_differs_across_seeds() -> None:
    first = stratified_sample(OLD, 40, seed=1)
    assert first == stratified_sample(list(reversed(OLD)), 40, seed=1)
    assert set(first) != set(stratified_sample(OLD, 40, seed=2))
    assert stratified_sample(OLD, 1000, seed=1) == OLD
    assert stratified_sample(OLD, 0, seed=1) == []


def test_the_step_budget_caps_new_labels_and_replay_together() -> None:
    chosen = select_training(
        OLD + NEW, incremental=True, since=CUTOFF, replay_size=100, seed=3, max_examples=20
    )
    assert len(chosen.examples) == 20 and (chosen.new, chosen.replay) == (7, 13)
    many_new = examples(50, 0, at=CUTOFF + timedelta(hours=2), tag="m")
    capped = select_training(
        OLD + many_new, incremental=True, since=CUTOFF, replay_size=100, seed=3, max_examples=20
    )
    assert (capped.new, capped.replay) == (20, 0)


def test_without_a_cutoff_every_catalog_label_is_new_and_folder_images_are_replayed() -> None:
    chosen = select_training(OLD + NEW, incremental=True, since=None, replay_size=5, seed=1)
    # Catalog labels (with a label time) are new; folder images (no label time) are older.
    assert chosen.new == 307 and chosen.replay == 5
