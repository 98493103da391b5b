"""The lock-free inbound CALL metrics expose what prometheus_client's own metrics would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from csms.metrics import InboundCalls

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
OBSERVED = [
    ("1.6", "MeterValues", "result", 0.003),
    ("1.6", "MeterValues", "result", 0.005),  # on a bound: counted in it (le)
    ("1.6", "MeterValues", "callerror", 0.3),
    ("1.6", "Heartbeat", "result", 42.0),  # beyond the last bound: +Inf only
    ("2.0.1", "TransactionEvent", "result", 0.0),
]


def _samples(registry: CollectorRegistry) -> set[str]:
    text = generate_latest(registry).decode()
    return {
        line
        for line in text.splitlines()
        if line.startswith(("csms_messages_received_total", "csms_call_handling_seconds_"))
        and "_created" not in line  # creation times: left out, a restart shows in process_start
    }


def test_counts_and_buckets_are_those_of_a_prometheus_counter_and_histogram() -> None:
    ours = CollectorRegistry()
    inbound = InboundCalls(BUCKETS)
    ours.register(inbound)
    reference = CollectorRegistry()
    received = Counter(
        "csms_messages_received", "x", ["version", "action", "outcome"], registry=reference
    )
    handling = Histogram(
        "csms_call_handling_seconds", "x", ["version", "action"], buckets=BUCKETS,
        registry=reference,
    )  # fmt: skip
    for version, action, outcome, seconds in OBSERVED:
        inbound.observe(version, action, outcome, seconds)
        received.labels(version, action, outcome).inc()
        handling.labels(version, action).observe(seconds)
    expected = _samples(reference)
    assert _samples(ours) == expected
    assert (
        'csms_call_handling_seconds_bucket{action="MeterValues",le="0.005",version="1.6"} 2.0'
        in (expected)
    )
