"""Limits on anonymous traffic: token buckets per client address and a daily byte quota.

A bucket holds up to ``burst`` tokens and refills at ``per_minute``; each request
takes one, and an empty bucket answers RateLimited with the seconds until the
next token. The stores decide how far a limit is shared: SQLite (every thread
and worker process of the web app) or memory (one process).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from catdog.errors import QuotaExceeded, RateLimited

Now = Callable[[], float]


@dataclass(frozen=True)
class BucketRule:
    burst: int
    per_minute: float

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


@dataclass(frozen=True)
class BucketState:
    tokens: float
    updated: float


def take_token(
    state: BucketState | None, rule: BucketRule, now: float
) -> tuple[BucketState, float]:
    """The bucket after one request at ``now``, and the seconds to wait (0: allowed)."""
    if state is None:
        tokens = float(rule.burst)
    else:
        elapsed = max(0.0, now - state.updated)
        tokens = min(float(rule.burst), state.tokens + elapsed * rule.per_second)
    if tokens >= 1.0:
        return BucketState(tokens - 1.0, now), 0.0
    return BucketState(tokens, now), (1.0 - tokens) / rule.per_second


class BucketStore(Protocol):
    def take(self, key: str, rule: BucketRule, now: float) -> float:
        """Atomically take one token of ``key``'s bucket; the seconds to wait, 0 if taken."""
        ...


class ByteLedger(Protocol):
    def reserve(self, key: str, day: str, amount: int, cap: int) -> bool:
        """Atomically add ``amount`` to ``key``'s bytes of ``day`` unless that passes ``cap``."""
        ...

    def release(self, key: str, day: str, amount: int) -> None:
        """Give back a reservation whose bytes were not stored after all."""
        ...


class MemoryBuckets:
    """Buckets of one process (the inference server's single worker)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._states: dict[str, BucketState] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def take(self, key: str, rule: BucketRule, now: float) -> float:
        with self._lock:
            if len(self._states) >= self._max_keys and key not in self._states:
                self._forget_full_buckets(rule, now)
            state, wait = take_token(self._states.get(key), rule, now)
            self._states[key] = state
            return wait

    def _forget_full_buckets(self, rule: BucketRule, now: float) -> None:
        """A bucket refilled to its burst is the same as no bucket: drop those."""
        refill_s = rule.burst / rule.per_second
        self._states = {k: s for k, s in self._states.items() if now - s.updated < refill_s}


def address_key(address: str) -> str:
    """Whom a per-address limit counts: an IPv4 address, or the /64 network of an IPv6
    address (one subscriber gets a whole /64, so single IPv6 addresses cost nothing)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)


class RateLimiter:
    """Per-action token buckets keyed by client address."""

    def __init__(self, store: BucketStore, rules: dict[str, BucketRule], now: Now = time.time):
        self._store = store
        self._rules = rules
        self._now = now

    def check(self, action: str, address: str) -> None:
        """Take a token for ``action`` from ``address``; raises RateLimited."""
        rule = self._rules[action]
        wait = self._store.take(f"{action}:{address_key(address)}", rule, self._now())
        if wait > 0:
            raise RateLimited(
                f"too many requests from your address ({rule.burst} at once, "
                f"{rule.per_minute:g} a minute); try again in {wait:.0f} s",
                retry_after_s=wait,
            )


class DailyByteQuota:
    """At most ``cap`` stored bytes per address and UTC day."""

    def __init__(self, ledger: ByteLedger, cap: int, now: Now = time.time) -> None:
        self._ledger = ledger
        self._cap = cap
        self._now = now

    @contextmanager
    def storing(self, address: str, amount: int) -> Iterator[None]:
        """Reserve ``amount`` bytes for the block; given back if the block fails."""
        address = address_key(address)
        moment = datetime.fromtimestamp(self._now(), UTC)
        day = moment.strftime("%Y-%m-%d")
        if not self._ledger.reserve(address, day, amount, self._cap):
            midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            raise QuotaExceeded(
                f"your address stored its {self._cap / 1e6:,.0f} MB for today; try again tomorrow",
                retry_after_s=(midnight - moment).total_seconds(),
            )
        try:
            yield
        except BaseException:
            self._ledger.release(address, day, amount)
            raise


ANONYMOUS_ACTIONS = ("upload", "url_import", "predict")


def anonymous_rules(burst: int, per_minute: float) -> dict[str, BucketRule]:
    """The same rule for each anonymous action (settings ``rate_limit_*``)."""
    return {action: BucketRule(burst, per_minute) for action in ANONYMOUS_ACTIONS}
