"""The one polling helper: returns the first satisfying value, explains a timeout."""

from __future__ import annotations

import itertools

import pytest

from tests.polling import wait_until


def test_returns_the_first_truthy_value() -> None:
    values = iter([None, 0, "", "ready", "later"])
    assert wait_until(lambda: next(values), what="a value", interval=0) == "ready"


def test_done_decides_and_the_value_is_returned() -> None:
    counter = itertools.count()
    assert wait_until(lambda: next(counter), what="three", done=lambda n: n >= 3, interval=0) == 3


def test_a_timeout_names_what_was_awaited_and_the_last_value() -> None:
    with pytest.raises(AssertionError) as failure:
        wait_until(lambda: [1, 2], what="an empty list", done=lambda v: not v, timeout=0.05)
    assert str(failure.value) == (
        "timed out after 0.05 s waiting for an empty list (last value: [1, 2])"
    )


def test_ignored_errors_mean_not_yet_and_are_reported() -> None:
    attempts: list[int | Exception] = [ConnectionRefusedError("refused"), OSError("reset"), 7]

    def probe() -> int:
        answer = attempts.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(probe, what="a server", ignoring=(OSError,), interval=0) == 7
    with pytest.raises(AssertionError, match=r"last error: ConnectionRefusedError: refused"):
        wait_until(lambda: probe_refused(), what="a server", ignoring=(OSError,), timeout=0.05)


def test_any_other_error_ends_the_wait_at_once() -> None:
    found: dict[str, int] = {}
    with pytest.raises(KeyError):
        wait_until(lambda: found["missing"], what="a key", ignoring=(OSError,), timeout=60)


def probe_refused() -> int:
    raise ConnectionRefusedError("refused")
