"""Counting failed attempts per key and locking a key out for a while after too many.

Pure and clock-injected: no I/O, no logging; the callers (station passwords at the handshake,
API keys) decide what a key is and what a lockout looks like on the wire.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from csms.clock import monotonic

# Keys kept at most per table (counting, locked): an attacker spraying random station ids or
# sources must not grow them without bound. ~240 bytes a key with its text (tracemalloc, a
# station id + IPv4 key), so ~12 MB for a full table.
DEFAULT_CAPACITY = 50_000


@dataclass(frozen=True, slots=True)
class Limit:
    """`failures` within `window` seconds lock the key for `lockout` seconds (0 failures: off)."""

    failures: int
    window: float
    lockout: float

    def __post_init__(self) -> None:
        if self.failures < 0:
            raise ValueError("failures must not be negative")
        if self.window <= 0 or self.lockout <= 0:
            raise ValueError("window and lockout must be positive")


class _Count:
    __slots__ = ("failures", "window_start")

    def __init__(self, now: float) -> None:
        self.window_start = now
        self.failures = 0


class FailureLimiter:
    """Failures per key in a fixed window that opens at the key's first failure; the failure
    that reaches the limit locks the key, and the first failure after the lockout opens a new
    window.

    The lockout is fixed, never extended by attempts made during it (they are refused before
    being checked, so they are not failures): a charger with a wrong password that retries
    every few seconds for days gets `failures` tries per `window + lockout`, no more and no
    fewer.

    Counting keys and locked keys are kept apart, each in the order it expires (windows and
    lockouts have one length), so expired ones leave from the front and, when a table is full,
    the one closest to expiring goes. A spray of one-off failures fills only the counting
    table: evicting a lockout takes `failures` failures per locked key.
    """

    def __init__(
        self,
        limit: Limit,
        *,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.limit = limit
        self._capacity = capacity
        self._clock = clock
        self._counts: OrderedDict[str, _Count] = OrderedDict()  # by window start
        self._locks: OrderedDict[str, float] = OrderedDict()  # locked until, by lock time

    def __len__(self) -> int:
        return len(self._counts) + len(self._locks)

    @property
    def enabled(self) -> bool:
        return self.limit.failures > 0

    def locked_for(self, key: str) -> float:
        """Seconds until `key` may try again; 0.0 when it may now."""
        until = self._locks.get(key)
        if until is None:
            return 0.0
        now = self._clock()
        if until > now:
            return until - now
        del self._locks[key]
        return 0.0

    def failed(self, key: str) -> bool:
        """Count one failure of `key`; True when this failure locked it."""
        if not self.enabled:
            return False
        now = self._clock()
        if self.locked_for(key) > 0:
            return False  # an attempt already under way when the lock came: no new lockout
        self._shed(now)
        count = self._counts.get(key)
        if count is None:
            while len(self._counts) >= self._capacity:
                self._counts.popitem(last=False)
            count = self._counts[key] = _Count(now)
        count.failures += 1
        if count.failures < self.limit.failures:
            return False
        del self._counts[key]
        while len(self._locks) >= self._capacity:
            self._locks.popitem(last=False)
        self._locks[key] = now + self.limit.lockout
        return True

    def succeeded(self, key: str) -> None:
        """Forget the failures of `key` (not a running lockout)."""
        self._counts.pop(key, None)

    def _shed(self, now: float) -> None:
        """Drop expired windows and lockouts: they wait at the front of their tables."""
        window = self.limit.window
        while self._counts and next(iter(self._counts.values())).window_start + window <= now:
            self._counts.popitem(last=False)
        while self._locks and next(iter(self._locks.values())) <= now:
            self._locks.popitem(last=False)
