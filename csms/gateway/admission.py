"""Handshake admission under overload: serve a station in time, or tell it when to come back.

After a restart the whole city reconnects at once. Every handshake waits its turn for the event
loop and the database; when the queue is longer than a station will wait, the ones at its end
time out after having cost work, retry, and lengthen the queue again. Answering HTTP 503 with
Retry-After at once (no database, no password check) instead keeps the queue short enough to
serve, and spreads the retries over time.

Overload is judged by what the queue did, not by a forecast: new handshakes are refused while
the oldest one in progress has already waited longer than a station can be expected to wait.
A burst the CSMS can serve in time (10,000 stations in ~12 s on 2 cores) refuses nothing.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import deque
from collections.abc import Callable

from csms.clock import monotonic

# Seconds a handshake may have waited before new ones are refused: chargers commonly allow 30 s
# or more for a connect (a client that allows less times out before any server could say so).
PATIENCE = 20.0
# Below this many handshakes in progress nothing is refused.
MIN_QUEUE = 100
# Completions older than this no longer count toward the drain rate (for Retry-After).
RATE_WINDOW = 5.0
# Bounds of the Retry-After we send, seconds.
RETRY_MIN, RETRY_MAX = 5, 120


class AdmissionGate:
    """Handshakes in progress, in arrival order, and the recent completion rate. Single-threaded
    (one event loop)."""

    def __init__(
        self,
        patience: float = PATIENCE,
        min_queue: int = MIN_QUEUE,
        *,
        clock: Callable[[], float] = monotonic,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.patience = patience
        self.min_queue = min_queue
        self._clock = clock
        self._jitter = jitter
        self._started: dict[int, float] = {}  # ticket -> when it entered, oldest first
        self._tickets = itertools.count()
        self._done: deque[float] = deque()
        self.refused = 0

    @property
    def pending(self) -> int:
        return len(self._started)

    def oldest_wait(self) -> float:
        """Seconds the longest-waiting handshake in progress has waited (0 when none)."""
        for started in self._started.values():
            return self._clock() - started
        return 0.0

    def rate(self) -> float | None:
        """Handshakes completed per second over the last window; None before any completed."""
        now = self._clock()
        while self._done and now - self._done[0] > RATE_WINDOW:
            self._done.popleft()
        if not self._done:
            return None
        return len(self._done) / max(now - self._done[0], 1.0)

    def enter(self) -> tuple[int | None, int | None]:
        """Start a handshake: (ticket, None) when it may proceed (pass the ticket to `leave`
        afterwards), else (None, the Retry-After seconds to answer with)."""
        if self.pending >= self.min_queue and self.oldest_wait() > self.patience:
            self.refused += 1
            rate = self.rate()
            drain = self.patience if rate is None else self.pending / rate
            spread = self._jitter(0.5, 1.5) * drain  # spread the retries over time
            return None, min(RETRY_MAX, max(RETRY_MIN, math.ceil(spread)))
        ticket = next(self._tickets)
        self._started[ticket] = self._clock()
        return ticket, None

    def leave(self, ticket: int) -> None:
        """A handshake that `enter` let through has finished, either way."""
        del self._started[ticket]
        self._done.append(self._clock())
