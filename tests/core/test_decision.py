"""One rule turns P(dog) into a class and flags unsure predictions."""

from __future__ import annotations

import pytest

from catdog.decision import DOG_THRESHOLD, confidence_of, is_unsure, label_for


@pytest.mark.parametrize(
    ("p_dog", "label", "confidence"),
    [
        (0.0, "cat", 1.0),
        (0.3, "cat", 0.7),
        (0.5, "dog", 0.5),
        (0.81, "dog", 0.81),
        (1.0, "dog", 1.0),
    ],
)
def test_label_and_confidence(p_dog: float, label: str, confidence: float) -> None:
    assert label_for(p_dog) == label
    assert confidence_of(p_dog) == pytest.approx(confidence)


def test_the_threshold_is_the_boundary() -> None:
    assert label_for(DOG_THRESHOLD - 1e-9) == "cat"
    assert label_for(DOG_THRESHOLD) == "dog"


def test_unsure_is_strictly_below_the_threshold() -> None:
    assert is_unsure(0.69, 0.7)
    assert not is_unsure(0.7, 0.7)
    assert not is_unsure(0.95, 0.7)
