"""Tariff day plans written as text ("00:00-07:00 valley, 07:00-24:00 flat") for tests."""

from __future__ import annotations

from csms.billing.tariff import Band, DayPlan, DayType, Period, parse_hhmm


def periods(spec: str) -> tuple[Period, ...]:
    out = []
    for item in spec.split(","):
        span, band = item.split()
        start, end = span.split("-")
        out.append(Period(parse_hhmm(start), parse_hhmm(end), Band(band)))
    return tuple(out)


def plan(
    spec: str, months: set[int] | None = None, day_types: set[DayType] | None = None
) -> DayPlan:
    return DayPlan(periods(spec), frozenset(months or ()), frozenset(day_types or ()))
