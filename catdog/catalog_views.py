"""The manager's views of the catalog: each one an index on both backends, so every
page is full and costs the same however large the catalog grows.

view          order                  SQLite index (range)          DynamoDB GSI
all           newest first           images_newest                 by_upload
cat, dog      newest first           images_by_prediction          by_prediction
labeled       newest first           images_labeled_newest         labeled_by_upload
unlabeled     newest first           images_unlabeled_newest       unlabeled_by_upload
disagreement  newest first           images_disagreement_newest    disagreement_by_upload
unsure        least confident first  images_by_confidence          by_confidence
key prefix    key order              primary key                   by_key (begins_with)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from catdog.errors import InvalidInput
from catdog.keys import MAX_KEY_LENGTH, validate_key
from catdog.settings import Settings


class View(StrEnum):
    ALL = "all"
    CAT = "cat"
    DOG = "dog"
    LABELED = "labeled"
    UNLABELED = "unlabeled"
    DISAGREEMENT = "disagreement"
    UNSURE = "unsure"


@dataclass(frozen=True)
class CatalogView:
    """One view; ``prefix`` (keys starting with it, in key order) goes with ``all`` only.
    ``unsure_below`` is the confidence under which a prediction is unsure."""

    view: View = View.ALL
    prefix: str | None = None
    unsure_below: float = Settings.unsure_threshold  # the default lives in Settings

    @classmethod
    def parse(cls, view: str | None, prefix: str | None, unsure_below: float) -> CatalogView:
        try:
            chosen = View(view or View.ALL.value)
        except ValueError:
            names = ", ".join(v.value for v in View)
            raise InvalidInput(f"view must be one of {names}, not {view!r}") from None
        prefix = (prefix or "").strip() or None
        if prefix is not None:
            if len(prefix) > MAX_KEY_LENGTH:
                raise InvalidInput(f"a key prefix has at most {MAX_KEY_LENGTH} characters")
            validate_key(prefix)  # only key characters: the prefix goes into an index range
            if chosen is not View.ALL:
                raise InvalidInput("search by key prefix lists all images; choose no filter")
        return cls(chosen, prefix, unsure_below)


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string above every key starting with ``prefix`` (keys are ASCII)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
