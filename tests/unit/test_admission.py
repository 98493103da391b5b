"""The handshake admission gate: refuse only once a handshake has waited past the patience."""

from __future__ import annotations

import pytest

from csms.gateway.admission import RETRY_MAX, RETRY_MIN, AdmissionGate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gate(clock: Clock, patience: float = 10.0, min_queue: int = 3) -> AdmissionGate:
    return AdmissionGate(patience, min_queue, clock=clock, jitter=lambda low, high: 1.0)


def test_a_burst_served_in_time_is_never_refused() -> None:
    clock = Clock()
    g = gate(clock, min_queue=0)
    tickets = [g.enter()[0] for _ in range(10_000)]
    clock.now += 9.9  # the oldest has waited less than the patience
    assert g.enter()[1] is None
    for ticket in tickets:
        assert ticket is not None
        g.leave(ticket)
    assert g.refused == 0 and g.pending == 1


def test_a_short_queue_is_never_refused() -> None:
    clock = Clock()
    g = gate(clock, patience=0.001, min_queue=3)
    g.enter()
    clock.now += 100
    assert [g.enter()[1] for _ in range(2)] == [None, None]
    assert g.enter()[1] is not None  # the fourth: three in progress, one waiting for 100 s


@pytest.mark.parametrize(
    ("completed", "pending", "expected"),
    [
        (0, 50, 10),  # no rate yet: come back after about the patience
        (100, 500, RETRY_MIN),  # 100/s drains 500 in 5 s
        (100, 1100, 11),  # 11 s
        (10, 5000, RETRY_MAX),  # 500 s: capped
    ],
)
def test_refused_once_the_oldest_has_waited_too_long(
    completed: int, pending: int, expected: int
) -> None:
    clock = Clock()
    g = gate(clock)
    tickets = [g.enter()[0] for _ in range(completed + pending)]
    clock.now += 9.5
    for ticket in tickets[:completed]:
        assert ticket is not None
        g.leave(ticket)  # all within one instant: the rate counts over at least 1 s
    clock.now += 1.0  # the oldest has now waited 10.5 s
    ticket, retry_after = g.enter()
    assert ticket is None
    assert retry_after == expected
    assert g.refused == 1


def test_the_gate_opens_again_when_the_old_handshakes_finish() -> None:
    clock = Clock()
    g = gate(clock, patience=5.0, min_queue=1)
    old = g.enter()[0]
    clock.now += 6
    assert g.enter()[0] is None
    assert old is not None
    g.leave(old)
    assert g.enter()[0] is not None
    assert g.oldest_wait() == 0.0
