"""What a run measured: messages by action, latency quantiles, errors, sessions, energy.

Pure bookkeeping with an injectable clock; one Recorder is shared by every station of a run
(single event loop, so no locks). Latencies go into log-scale buckets (about 2 % wide), so a
long run at thousands of messages per second keeps constant memory and still gives p50/p95/p99.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.station.connect import ConnectFailed

_BUCKET_BASE = 1e-5  # 10 us: the smallest latency told apart
_BUCKET_GROWTH = 1.02
_LOG_GROWTH = math.log(_BUCKET_GROWTH)


@dataclass(slots=True)
class LatencyHistogram:
    counts: Counter[int] = field(default_factory=Counter)
    total: int = 0
    sum_s: float = 0.0
    min_s: float = math.inf
    max_s: float = 0.0

    @staticmethod
    def _bucket(seconds: float) -> int:
        if seconds <= _BUCKET_BASE:
            return 0
        return int(math.log(seconds / _BUCKET_BASE) / _LOG_GROWTH) + 1

    @staticmethod
    def _value(bucket: int) -> float:
        """A representative value of the bucket (its geometric middle)."""
        if bucket == 0:
            return _BUCKET_BASE
        return float(_BUCKET_BASE * _BUCKET_GROWTH ** (bucket - 0.5))

    def add(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.counts[self._bucket(seconds)] += 1
        self.total += 1
        self.sum_s += seconds
        self.min_s = min(self.min_s, seconds)
        self.max_s = max(self.max_s, seconds)

    def quantile(self, q: float) -> float | None:
        """The q-quantile in seconds (nearest rank), within a bucket's width; None when empty."""
        if not 0 <= q <= 1:
            raise ValueError("q is a fraction")
        if self.total == 0:
            return None
        rank = max(1, math.ceil(q * self.total))
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= rank:
                return min(self.max_s, max(self.min_s, self._value(bucket)))
        return self.max_s

    @property
    def mean_s(self) -> float | None:
        return self.sum_s / self.total if self.total else None


@dataclass(slots=True)
class ActionStats:
    """Station-initiated CALLs of one action and how they ended."""

    sent: int = 0  # frames sent, retries included
    ok: int = 0  # answered with a CALLRESULT
    errors: int = 0  # answered with a CALLERROR
    timeouts: int = 0  # no answer in time
    lost: int = 0  # the connection went away before the answer
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    answered_per_second: Counter[int] = field(default_factory=Counter)


Clock = Callable[[], float]


@dataclass(slots=True)
class Recorder:
    """Counters of a whole run (all stations)."""

    clock: Clock = time.monotonic
    started_at: float = field(init=False)
    stations: int = 0
    outbound: dict[str, ActionStats] = field(default_factory=dict)
    inbound: Counter[str] = field(default_factory=Counter)  # CSMS-initiated CALLs received
    errors: Counter[str] = field(default_factory=Counter)
    connected: int = 0
    peak_connected: int = 0
    connects: int = 0
    reconnects: int = 0
    accepted_at: dict[str, float] = field(default_factory=dict)  # first Accepted per station
    boots: Counter[str] = field(default_factory=Counter)  # BootNotification answers by status
    sessions_started: int = 0  # the CSMS acknowledged the start
    sessions_completed: int = 0  # the CSMS acknowledged the stop
    sessions_refused: int = 0  # authorization refused before a start
    sessions_active: int = 0
    energy_wh: int = 0  # meter stop - meter start of completed sessions
    billed_fen: int = 0  # final totalCost the CSMS reported for ended 2.0.1 sessions (0.01 CNY)
    billed_sessions: int = 0  # ended 2.0.1 sessions whose answer carried a totalCost
    meter_readings: int = 0  # periodic register readings the CSMS acknowledged
    queued_offline: int = 0  # transaction messages made while disconnected
    shed: int = 0  # meter values dropped because the offline queue was full
    answered_per_second: Counter[int] = field(default_factory=Counter)
    on_accepted: Callable[[str], None] | None = None  # called on each station's first Accepted
    # called on each failed connection attempt: (station id, why), e.g. to tell a person
    on_connect_failed: Callable[[str, ConnectFailed], None] | None = None

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started_at

    def _action(self, action: str) -> ActionStats:
        stats = self.outbound.get(action)
        if stats is None:
            stats = self.outbound[action] = ActionStats()
        return stats

    def call_sent(self, action: str) -> None:
        self._action(action).sent += 1

    def call_answered(self, action: str, seconds: float, error_code: str | None = None) -> None:
        stats = self._action(action)
        stats.latency.add(seconds)
        second = int(self.elapsed())
        stats.answered_per_second[second] += 1
        if error_code is None:
            stats.ok += 1
        else:
            stats.errors += 1
            self.errors[error_code] += 1
        self.answered_per_second[second] += 1

    def call_timed_out(self, action: str) -> None:
        self._action(action).timeouts += 1
        self.errors["Timeout"] += 1

    def call_lost(self, action: str) -> None:
        self._action(action).lost += 1

    def command_received(self, action: str) -> None:
        self.inbound[action] += 1

    def error(self, code: str) -> None:
        self.errors[code] += 1

    def connect_failed(self, station_id: str, failure: ConnectFailed) -> None:
        self.errors[failure.code] += 1
        if self.on_connect_failed is not None:
            self.on_connect_failed(station_id, failure)

    def link_up(self, *, reconnect: bool) -> None:
        self.connected += 1
        self.connects += 1
        self.peak_connected = max(self.peak_connected, self.connected)
        if reconnect:
            self.reconnects += 1

    def link_down(self) -> None:
        self.connected -= 1

    def accepted(self, station_id: str) -> None:
        if station_id in self.accepted_at:
            return
        self.accepted_at[station_id] = self.elapsed()
        if self.on_accepted is not None:
            self.on_accepted(station_id)

    def messages_answered(self) -> int:
        return sum(s.ok + s.errors for s in self.outbound.values())
