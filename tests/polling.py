"""The one way tests wait for something to happen: ``wait_until``.

Tests never assert on how long a thing took (timings belong in benchmarks/); a
timeout here only bounds a wait that would otherwise hang, and its message says
what was awaited and what was last seen, so a failure explains itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")

_REPR_LIMIT = 500


@overload
def wait_until(
    probe: Callable[[], T | None],
    *,
    what: str,
    timeout: float = ...,
    interval: float = ...,
    ignoring: tuple[type[Exception], ...] = ...,
) -> T: ...  # a truthy value: never None


@overload
def wait_until(
    probe: Callable[[], T],
    *,
    what: str,
    timeout: float = ...,
    interval: float = ...,
    done: Callable[[T], object],
    ignoring: tuple[type[Exception], ...] = ...,
) -> T: ...


def wait_until(
    probe: Callable[[], Any],
    *,
    what: str,
    timeout: float = 30.0,
    interval: float = 0.1,
    done: Callable[[Any], object] = bool,
    ignoring: tuple[type[Exception], ...] = (),
) -> Any:
    """Call ``probe`` every ``interval`` seconds until ``done(value)`` is true; return
    that value.

    ``done`` defaults to truthiness. Exceptions of the ``ignoring`` types count as
    "not yet" (a server that is still starting refuses connections); any other
    exception ends the wait at once. After ``timeout`` seconds, raises
    AssertionError naming ``what`` was awaited and the last value or error seen.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except ignoring as error:
            last = f"last error: {type(error).__name__}: {error}"
        else:
            if done(value):
                return value
            last = f"last value: {_short(value)}"
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what} ({last})")
        time.sleep(interval)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[:_REPR_LIMIT] + "..."
