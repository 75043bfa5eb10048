"""The split is a function of each image's content: stable, order-free, stratified."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catdog.errors import InvalidInput
from tests.training_job.training_images import class_image_bytes, write_class_folder
from training_job.data import (
    Example,
    Side,
    SplitFractions,
    data_cutoff,
    example_from_bytes,
    folder_examples,
    merge_examples,
    split_examples,
)


def synthetic_examples(per_class: int) -> list[Example]:
    return [
        example_from_bytes(f"{label}/{i}", f"{label}-{i}".encode(), index)
        for index, label in enumerate(("cat", "dog"))
        for i in range(per_class)
    ]


def shas(examples: list[Example]) -> list[str]:
    return [example.sha256 for example in examples]


def test_split_is_the_same_on_every_run_and_in_any_order() -> None:
    examples = synthetic_examples(150)
    first = split_examples(examples)
    shuffled = list(examples)
    random.Random(4).shuffle(shuffled)
    second = split_examples(shuffled)
    for side in ("train", "validation", "evaluation"):
        assert shas(getattr(first, side)) == shas(getattr(second, side))
    assert set(shas(first.train)).isdisjoint(shas(first.validation))
    assert set(shas(first.train)).isdisjoint(shas(first.evaluation))
    assert set(shas(first.validation)).isdisjoint(shas(first.evaluation))
    assert len(first.train) + len(first.validation) + len(first.evaluation) == 300


def test_split_is_stratified_about_the_fractions_per_class() -> None:
    split = split_examples(synthetic_examples(1000), SplitFractions(evaluation=0.1, validation=0.2))
    for label in (0, 1):
        in_evaluation = sum(1 for e in split.evaluation if e.label == label)
        in_validation = sum(1 for e in split.validation if e.label == label)
        assert 0.07 <= in_evaluation / 1000 <= 0.13, in_evaluation
        assert 0.16 <= in_validation / 1000 <= 0.24, in_validation


def test_an_images_side_does_not_change_when_images_are_added() -> None:
    small = split_examples(synthetic_examples(40))
    large = split_examples(synthetic_examples(400))
    assert set(shas(small.evaluation)) <= set(shas(large.evaluation))
    assert set(shas(large.evaluation)).isdisjoint(shas(small.train) + shas(small.validation))
    assert set(shas(small.validation)) <= set(shas(large.validation))
    assert set(shas(large.validation)).isdisjoint(shas(small.train))
    fractions = SplitFractions()
    for example in small.evaluation:
        assert fractions.side(example.sha256) is Side.EVALUATION
    for example in large.train:
        assert fractions.side(example.sha256) is Side.TRAIN


def test_the_evaluation_side_is_exactly_what_the_hash_says_even_on_tiny_sets() -> None:
    examples = synthetic_examples(3)
    fractions = SplitFractions(evaluation=0.4, validation=0.2)
    split = split_examples(examples, fractions)
    expected = [e for e in examples if fractions.side(e.sha256) is Side.EVALUATION]
    assert sorted(shas(split.evaluation)) == sorted(shas(expected))
    assert len(split.evaluation) > 0


def test_tiny_sets_still_train_on_both_classes_and_validate_where_they_can() -> None:
    split = split_examples(synthetic_examples(3), SplitFractions(evaluation=0.0, validation=0.1))
    assert {e.label for e in split.validation} == {0, 1}
    assert {e.label for e in split.train} == {0, 1}
    one_each = split_examples(synthetic_examples(1), SplitFractions(evaluation=0.0, validation=0.9))
    assert {e.label for e in one_each.train} == {0, 1}


def test_fractions_must_leave_room_for_training() -> None:
    with pytest.raises(ValueError):
        SplitFractions(evaluation=0.5, validation=0.5)
    with pytest.raises(ValueError):
        SplitFractions(evaluation=-0.1)


def test_folder_examples_read_both_classes_and_skip_hidden_files(tmp_path: Path) -> None:
    write_class_folder(tmp_path, per_class=3)
    (tmp_path / "cat" / ".DS_Store").write_bytes(b"junk")
    examples = folder_examples(tmp_path)
    assert sorted(e.name for e in examples if e.label == 0) == [
        "cat/cat-000.png",
        "cat/cat-001.png",
        "cat/cat-002.png",
    ]
    assert sum(1 for e in examples if e.label == 1) == 3


def test_folder_without_class_folders_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        folder_examples(tmp_path)
    with pytest.raises(InvalidInput):
        folder_examples(tmp_path / "missing")


def test_merge_keeps_one_copy_per_image_and_the_later_label() -> None:
    data = class_image_bytes("cat", 1)
    from_folder = example_from_bytes("cat/x.png", data, 0)
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    from_catalog = example_from_bytes("catalog/x.png", data, 1, moment)
    merged = merge_examples([from_folder], [from_catalog])
    assert len(merged) == 1
    assert merged[0].label == 1
    assert data_cutoff(merged) == moment
    assert data_cutoff([from_folder]) is None
