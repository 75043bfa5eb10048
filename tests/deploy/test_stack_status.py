"""Whether a deploy creates, updates, or refuses, by the stack's current status."""

from __future__ import annotations

import pytest

from catdog.errors import Conflict
from hosts.deploy.stack import StackAction, action_for


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (None, StackAction.CREATE),
        ("REVIEW_IN_PROGRESS", StackAction.CREATE),
        ("CREATE_COMPLETE", StackAction.UPDATE),
        ("UPDATE_COMPLETE", StackAction.UPDATE),
        ("UPDATE_ROLLBACK_COMPLETE", StackAction.UPDATE),
    ],
)
def test_settled_or_missing_stacks_are_created_or_updated(status, action):
    assert action_for("catdog", status) is action


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        ("CREATE_IN_PROGRESS", "wait for it"),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "wait for it"),
        ("ROLLBACK_COMPLETE", "catdog destroy --stack catdog"),
        ("UPDATE_ROLLBACK_FAILED", "catdog destroy --stack catdog"),
    ],
)
def test_busy_or_broken_stacks_are_refused_with_advice(status, advice):
    with pytest.raises(Conflict, match=advice):
        action_for("catdog", status)
