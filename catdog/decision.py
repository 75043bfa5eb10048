"""How the model's probability of "dog" becomes a class, and when a prediction is
unsure: one rule for training's metrics, the gate, the inference server and the pages."""

from __future__ import annotations

from catdog.domain import LABELS, Label

# P(dog) at or above this is "dog". Training, evaluation and serving all use it.
DOG_THRESHOLD = 0.5


def label_for(p_dog: float) -> Label:
    return LABELS[1] if p_dog >= DOG_THRESHOLD else LABELS[0]


def confidence_of(p_dog: float) -> float:
    """The probability of the predicted class (0.5 to 1)."""
    return max(p_dog, 1.0 - p_dog)


def is_unsure(confidence: float, unsure_threshold: float) -> bool:
    """A prediction whose confidence is below the manager's threshold is unsure: the
    pages flag it and the labeling queue offers it first."""
    return confidence < unsure_threshold
