"""Queued or live: data stamped before the connection it arrived on opened was queued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csms.metering.delivery import arrived_on, queued

T0 = datetime(2026, 5, 1, 10, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


# The station connected at T0, dropped, and reconnected at T0 + 2 h.
CONNECTED = (at(0), at(2))


@pytest.mark.parametrize(
    ("station_at", "received_at", "opened", "is_queued"),
    [
        pytest.param(at(0.5), at(0.5), at(0), False, id="live-on-first"),
        pytest.param(at(0.5) + 60 * MS, at(0.5), at(0), False, id="clock-ahead-is-live"),
        pytest.param(at(-1), at(0.5), at(0), True, id="queued-before-first"),
        pytest.param(at(1), at(3), at(2), True, id="stamped-during-outage"),
        pytest.param(at(2), at(2), at(2), False, id="stamped-as-it-opened"),
        pytest.param(at(2) - MS, at(2), at(2), True, id="stamped-1ms-before-open"),
        pytest.param(at(2.5), at(2.5), at(2), False, id="live-on-second"),
        pytest.param(at(1.9), at(1.95), at(0), False, id="late-on-first-not-queued"),
        pytest.param(at(-2), at(-1), None, False, id="no-connection-known-counts-live"),
    ],
)
def test_queued(
    station_at: datetime, received_at: datetime, opened: datetime | None, is_queued: bool
) -> None:
    assert arrived_on(CONNECTED, received_at) == opened
    assert queued(CONNECTED, station_at, received_at) is is_queued


def test_no_connections_means_live() -> None:
    assert arrived_on((), at(1)) is None
    assert queued((), at(-5), at(1)) is False
