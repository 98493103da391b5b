"""Every Prometheus metric of the CSMS, defined once; `/metrics` exposes the default registry."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

CONNECTED_STATIONS = Gauge(
    "csms_connected_stations", "Stations connected to this node", ["version"]
)
MESSAGES_SENT = Counter(
    "csms_messages_sent_total",
    "CALLs sent to stations, by outcome (result, callerror, timeout, disconnected, invalid)",
    ["version", "action", "outcome"],
)
CALL_ROUNDTRIP = Histogram(
    "csms_call_roundtrip_seconds",
    "CSMS->station: time from sending a CALL to receiving its answer",
    ["version", "action"],
    buckets=_LATENCY_BUCKETS,
)
CALLERRORS = Counter(
    "csms_callerrors_total",
    "CALLERRORs by code; direction sent = we answered with it, received = a station did",
    ["version", "code", "direction"],
)
HANDSHAKES_DEFERRED = Counter(
    "csms_handshakes_deferred_total",
    "Handshakes answered HTTP 503 with Retry-After because too many stations were connecting",
)
BAD_FRAMES = Counter(
    "csms_bad_frames_total", "Frames that could not be parsed as OCPP-J", ["version"]
)
OPEN_TRANSACTIONS = Gauge("csms_open_transactions", "Open transactions in the database")
ENERGY_DELIVERED = Counter(
    "csms_energy_delivered_wh_total", "Energy of transactions closed on this node (Wh)"
)
CDRS = Counter(
    "csms_cdrs_total", "Charge detail records filed on this node, by metering verdict", ["verdict"]
)
BILLING_REVIEWS = Counter(
    "csms_billing_reviews_total", "Sessions queued for billing review, by cause", ["cause"]
)
DB_WRITE_BATCH = Histogram(
    "csms_db_write_batch_rows",
    "Rows per batched database write",
    ["table"],
    buckets=(1, 5, 10, 50, 100, 500, 1000, 5000, 10000),
)
DB_WRITE_SECONDS = Histogram(
    "csms_db_write_seconds",
    "Duration of batched database writes",
    ["table"],
    buckets=_LATENCY_BUCKETS,
)
LEDGER_REPLAY_RETRIES = Counter(
    "csms_ledger_replay_retries_total",
    "Hot-path batches the replay index refused (a stored or repeated sample key), applied again"
    " by the statements that judge replays; PostgreSQL logs each refusal as a duplicate key",
)
COMMANDS = Counter(
    "csms_commands_total", "Operator commands, by command and outcome", ["command", "outcome"]
)
EVENTS_DROPPED = Counter(
    "csms_events_dropped_total", "Live events not forwarded to other nodes", ["reason"]
)
LOCKOUTS = Counter(
    "csms_lockouts_total", "Safety lockouts opened and lifted through this node", ["action"]
)
LOCKOUT_REFUSALS = Counter(
    "csms_lockout_refusals_total", "Starts refused because the station is locked out"
)
LOCKED_STATIONS = Gauge("csms_locked_stations", "Stations under an open safety lockout")
HOLIDAY_CALENDAR_DAYS_LEFT = Gauge(
    "csms_holiday_calendar_days_left",
    "Days the holiday calendar still covers from today (the network's time zone), 0 when it "
    "does not cover today: alert well before 0 (next year's notice must be loaded)",
)
AUTH_FAILURES = Counter(
    "csms_auth_failures_total",
    "Failed credentials on this node, by kind (station_password, api_key, sign_in)",
    ["kind"],
)
AUTH_LOCKOUTS = Counter(
    "csms_auth_lockouts_total",
    "Keys locked out after too many failed credentials, by kind and scope "
    "(station, source, account)",
    ["kind", "scope"],
)
AUTH_LOCKOUT_REFUSALS = Counter(
    "csms_auth_lockout_refusals_total",
    "Attempts refused unchecked (HTTP 429) because their station or source is locked out",
    ["kind"],
)
UTILIZATION_ROLLUP_SECONDS = Histogram(
    "csms_utilization_rollup_seconds",
    "Duration of a utilization rollup (hourly and daily rows of a window)",
    buckets=_LATENCY_BUCKETS,
)
UTILIZATION_LATE_DAYS = Counter(
    "csms_utilization_late_days_total",
    "Local days rolled up again because rows delivered late touched them",
)
PLATFORM_PUSHES = Counter(
    "csms_platform_pushes",
    "Platform push attempts by outcome (sent, retry, failed)",
    ["platform", "kind", "outcome"],
)
PLATFORM_PUSH_SECONDS = Histogram(
    "csms_platform_push_seconds", "Time a platform took to answer a push", ["platform"]
)
PLATFORM_BACKLOG = Gauge(
    "csms_platform_backlog", "Outbox records not yet acknowledged by the platform", ["platform"]
)
PLATFORM_OLDEST_PENDING = Gauge(
    "csms_platform_oldest_pending_seconds", "Age of the oldest unacknowledged record", ["platform"]
)
PLATFORM_TOKENS = Counter(
    "csms_platform_tokens", "Bearer tokens obtained from a platform", ["platform"]
)
PLATFORM_QUERIES = Counter(
    "csms_platform_queries", "Queries platforms made, by method and Ret", ["method", "ret"]
)
DATABASE_UNAVAILABLE = Counter(
    "csms_database_unavailable_total",
    "Work refused because the database was unavailable, by edge (api and handshake answer 503, "
    "ocpp a CALLERROR, background rounds retry)",
    ["edge"],
)


class InboundCalls(Collector):
    """CALLs received from stations: csms_messages_received_total by outcome and the
    csms_call_handling_seconds histogram, counted in plain numbers and turned into metric
    families only when scraped.

    prometheus_client's children take a lock for every increment: a counter and a histogram
    per message cost ~2.6 us, here ~0.4. Only the event loop counts, and /metrics is served on
    the same loop, so a scrape never sees a count half made.
    """

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self._bounds = [*sorted(buckets), math.inf]
        # (version, action) -> handling-time bucket counts, then the sum of the times
        self._times: dict[tuple[str, str], list[float]] = {}
        self._received: dict[tuple[str, str, str], int] = {}

    def observe(self, version: str, action: str, outcome: str, seconds: float) -> None:
        times = self._times.get((version, action))
        if times is None:
            times = self._times[(version, action)] = [0] * (len(self._bounds) + 1)
        times[bisect.bisect_left(self._bounds, seconds)] += 1
        times[-1] += seconds
        key = (version, action, outcome)
        self._received[key] = self._received.get(key, 0) + 1

    def collect(self) -> Iterator[Metric]:
        received = CounterMetricFamily(
            "csms_messages_received",
            "CALLs received from stations, by outcome (result or callerror)",
            labels=["version", "action", "outcome"],
        )
        for outcome_key, count in sorted(self._received.items()):
            received.add_metric(list(outcome_key), count)
        handling = HistogramMetricFamily(
            "csms_call_handling_seconds",
            "Station->CSMS: time from receiving a CALL to sending its answer",
            labels=["version", "action"],
        )
        for action_key, times in sorted(self._times.items()):
            cumulative = list(itertools.accumulate(times[:-1]))
            buckets = [
                ("+Inf" if b == math.inf else repr(float(b)), c)
                for b, c in zip(self._bounds, cumulative, strict=True)
            ]
            handling.add_metric(list(action_key), buckets, sum_value=times[-1])
        yield received
        yield handling


INBOUND = InboundCalls(_LATENCY_BUCKETS)
REGISTRY.register(INBOUND)
