"""Site demand and energy from register readings: no double counting, resets never energy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from csms.billing.demand import energy_wh, metered, peak, runs

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class R:
    at: datetime
    wh: int


def series(*points: tuple[int, int]) -> list[R]:
    return [R(T0 + timedelta(minutes=m), wh) for m, wh in points]


@pytest.mark.parametrize(
    ("points", "energy", "run_count"),
    [
        pytest.param([(0, 1000), (30, 6000)], 5000, 1, id="plain"),
        pytest.param([(0, 100_000), (10, 110_000), (20, 200), (30, 2200)], 12_000, 2, id="swap"),
        pytest.param([(0, 500), (10, 500)], 0, 1, id="idle"),
        pytest.param([(0, 900), (10, 100), (20, 50), (30, 60)], 10, 3, id="two-drops"),
    ],
)
def test_energy_through_resets(points: list[tuple[int, int]], energy: int, run_count: int) -> None:
    readings = series(*points)
    assert energy_wh(readings) == energy
    assert len(runs(readings)) == run_count


def test_station_meter_only_counts_without_evse_meters() -> None:
    evse1, evse2, main = series((0, 0), (15, 5000)), series((0, 0), (15, 5000)), series((0, 0))
    per_evse = {("A", 0): main, ("A", 1): evse1, ("A", 2): evse2, ("B", 0): evse1}
    assert metered(per_evse) == [evse1, evse2, evse1]  # A's main meter is left out, B's kept


def test_peak_window_of_two_evses() -> None:
    a = series((1, 10_000), (14, 15_000))
    b = series((1, 10_000), (14, 15_000))
    busiest = peak([a, b])
    assert busiest.window_start == T0
    assert (busiest.energy_wh, busiest.demand_kw) == (10_000, Decimal("40.00"))


def test_a_reset_is_no_demand() -> None:
    busiest = peak([series((0, 900_000), (5, 100), (10, 600))])
    assert (busiest.energy_wh, busiest.demand_kw) == (500, Decimal("2.00"))
