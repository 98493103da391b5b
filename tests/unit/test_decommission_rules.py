"""Decommissioning, pure parts: who the plan counts on which day, and who the handshake refuses."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from csms.domain.station import AdminState, StationAuth
from csms.monitoring.plan import default_plan
from csms.monitoring.progress import Network, Pile, progress

PLAN = default_plan()
JULY_1, OCT_1 = date(2024, 7, 1), date(2024, 10, 1)


def pile(n: int, *, on: date | None = JULY_1, gone: date | None = None) -> Pile:
    return Pile(
        f"CP{n}", "朔城区", None, None, None, None, 39.33, 112.43, True, False, 1, on,
        decommissioned_on=gone,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("commissioned", "decommissioned", "day", "counted"),
    [
        (JULY_1, None, OCT_1, True),
        (JULY_1, OCT_1, date(2024, 9, 30), True),  # in service until the day before
        (JULY_1, OCT_1, OCT_1, False),  # gone from its decommissioning day on
        (JULY_1, OCT_1, date(2025, 1, 1), False),
        (None, OCT_1, date(2024, 6, 1), True),  # there before the plan, gone later
        (date(2024, 8, 1), OCT_1, JULY_1, False),  # not yet built
    ],
)
def test_a_pile_counts_between_commissioning_and_decommissioning(
    commissioned: date | None, decommissioned: date | None, day: date, counted: bool
) -> None:
    assert pile(1, on=commissioned, gone=decommissioned).counts_on(day) is counted


def test_a_decommissioned_pile_leaves_the_new_piles_figure_from_its_day_on() -> None:
    """The plan counts piles built and in service: a report as of a day before the
    decommissioning still counts the pile (the history does not change), one after does not."""
    piles = [pile(i) for i in range(10)] + [pile(10, gone=OCT_1), pile(11, gone=OCT_1)]
    key = "county.Shuocheng.new_piles.2024"

    def actual(day: date) -> Decimal:
        (figure,) = [f for f in progress(PLAN, Network(piles=piles), day) if f.key == key]
        return figure.actual

    assert actual(date(2024, 9, 30)) == 12
    assert actual(OCT_1) == 10


@pytest.mark.parametrize(
    ("decommissioned", "refusal"),
    [(False, None), (True, "station CP-9 is decommissioned")],
)
def test_the_handshake_refuses_a_decommissioned_station_whatever_its_state(
    decommissioned: bool, refusal: str | None
) -> None:
    for state in AdminState:
        station = StationAuth("CP-9", state, None, None)
        assert dataclasses.replace(station, decommissioned=decommissioned).refusal == refusal
