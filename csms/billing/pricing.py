"""Pricing a session from its meter readings: one line per band period, exact to the Wh and the fen.

Energy between two readings that straddle a band edge is split in proportion to time. The
exact shares are rationals; they become whole Wh by the largest-remainder method, so the lines
always add up to the register delta. Each line's money is rounded half-up to 0.01 and the total
is the sum of the rounded lines plus the idle and session fees, so a bill adds up on paper.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Protocol

from csms.billing.tariff import (
    Band,
    DayTypeOf,
    IdleFee,
    Segment,
    Tariff,
    segments,
    weekday_type,
)

CENT = Decimal("0.01")
_WH_PER_KWH = Decimal(1000)


def money(value: Decimal) -> Decimal:
    """Round to the fen, half-up, as the plan's settlement rules and T/CEC orders do."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Allocation(StrEnum):
    METERED = "metered"  # split from interval readings
    ESTIMATED = "estimated"  # only start and stop readings: split by charging time


class Timed(Protocol):
    """A register reading: anything with a time and whole Wh."""

    @property
    def at(self) -> datetime: ...

    @property
    def wh(self) -> int: ...


@dataclass(frozen=True, slots=True)
class BillLine:
    band: Band
    start: datetime
    end: datetime
    energy_wh: int
    energy_price: Decimal
    service_price: Decimal
    energy_money: Decimal
    service_money: Decimal

    @property
    def total(self) -> Decimal:
        return self.energy_money + self.service_money


@dataclass(frozen=True, slots=True)
class IdleCharge:
    minutes: int  # whole minutes the connector was occupied after charging stopped
    billable_minutes: int  # after the grace period
    fee: Decimal  # capped


@dataclass(frozen=True, slots=True)
class Bill:
    currency: str
    tariff_id: str
    tariff_version: int
    allocation: Allocation
    lines: tuple[BillLine, ...]
    energy_wh: int
    energy_money: Decimal
    service_money: Decimal
    idle: IdleCharge
    session_fee: Decimal
    total: Decimal


def allocate(readings: Sequence[Timed], spans: Sequence[Segment]) -> list[int]:
    """Whole Wh per span, summing exactly to the register delta between first and last reading.

    Readings must be in time order and never decrease (the metering rules see to that), and
    `spans` must cover [first.at, last.at].
    """
    if len(readings) < 2 or not spans:
        return [0] * len(spans)
    starts = [s.start for s in spans]
    exact = [Fraction(0)] * len(spans)
    for a, b in pairwise(readings):
        delta = b.wh - a.wh
        if delta < 0 or b.at < a.at:
            raise ValueError(f"readings go backwards at {b.at.isoformat()}")
        if delta == 0:
            continue
        if b.at == a.at:
            exact[max(0, bisect_right(starts, a.at) - 1)] += delta
            continue
        width = _micros(b.at - a.at)
        index = max(0, bisect_right(starts, a.at) - 1)
        while index < len(spans) and spans[index].start < b.at:
            overlap = min(spans[index].end, b.at) - max(spans[index].start, a.at)
            if overlap > timedelta(0):
                exact[index] += Fraction(delta * _micros(overlap), width)
            index += 1
    return largest_remainder(exact, readings[-1].wh - readings[0].wh)


def largest_remainder(exact: Sequence[Fraction], total: int) -> list[int]:
    """Integers close to `exact` that sum to `total`; ties go to the earlier share."""
    whole = [int(x) for x in exact]  # exact shares are >= 0, so int() floors
    short = total - sum(whole)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - whole[i]), i))
    for i in by_remainder[:short]:
        whole[i] += 1
    return whole


def _micros(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def idle_charge(
    fee: IdleFee | None, idle_from: datetime | None, until: datetime | None
) -> IdleCharge:
    """Occupation fee for the time between charging stopping and the connector being freed."""
    if idle_from is None or until is None or until <= idle_from:
        return IdleCharge(0, 0, Decimal("0.00"))
    minutes = int((until - idle_from).total_seconds() // 60)
    if fee is None:
        return IdleCharge(minutes, 0, Decimal("0.00"))
    billable = max(0, minutes - fee.grace_minutes)
    amount = money(billable * fee.per_minute)
    if fee.cap is not None:
        amount = min(amount, money(fee.cap))
    return IdleCharge(minutes, billable, amount)


def price(
    tariff: Tariff,
    readings: Sequence[Timed],
    *,
    allocation: Allocation = Allocation.METERED,
    idle_from: datetime | None = None,
    occupied_until: datetime | None = None,
    day_type_of: DayTypeOf = weekday_type,
) -> Bill:
    """The bill for a session whose cleaned readings are given (first = start, last = stop).

    For an estimated allocation pass the start reading and the stop value placed at the time
    charging ended, so energy spreads over charging time only.
    """
    if not readings:
        raise ValueError("a bill needs at least one reading")
    spans = segments(tariff, readings[0].at, readings[-1].at, day_type_of)
    shares = allocate(readings, spans)
    lines = tuple(_line(tariff, span, wh) for span, wh in zip(spans, shares, strict=True) if wh > 0)
    idle = idle_charge(tariff.idle, idle_from, occupied_until)
    session_fee = money(tariff.session_fee)
    energy_money = sum((line.energy_money for line in lines), Decimal("0.00"))
    service_money = sum((line.service_money for line in lines), Decimal("0.00"))
    return Bill(
        currency=tariff.currency,
        tariff_id=tariff.tariff_id,
        tariff_version=tariff.version,
        allocation=allocation,
        lines=lines,
        energy_wh=sum(shares),
        energy_money=energy_money,
        service_money=service_money,
        idle=idle,
        session_fee=session_fee,
        total=energy_money + service_money + idle.fee + session_fee,
    )


@dataclass(frozen=True, slots=True)
class _Point:
    at: datetime
    wh: int


def quote(
    tariff: Tariff,
    start: datetime,
    end: datetime,
    energy_wh: int,
    *,
    occupied_until: datetime | None = None,
    day_type_of: DayTypeOf = weekday_type,
) -> Bill:
    """What a session would cost: `energy_wh` charged evenly from `start` to `end` (as a session
    reporting only its start and stop is billed), idle from `end` to `occupied_until`."""
    if end <= start:
        raise ValueError("a session ends after it starts")
    readings = (_Point(start, 0), _Point(end, energy_wh))
    idle_from = end if occupied_until is not None and occupied_until > end else None
    return price(
        tariff,
        readings,
        allocation=Allocation.ESTIMATED,
        idle_from=idle_from,
        occupied_until=occupied_until or end,
        day_type_of=day_type_of,
    )


def _line(tariff: Tariff, span: Segment, wh: int) -> BillLine:
    prices = tariff.prices[span.band]
    kwh = Decimal(wh) / _WH_PER_KWH
    return BillLine(
        band=span.band,
        start=span.start,
        end=span.end,
        energy_wh=wh,
        energy_price=prices.energy,
        service_price=prices.service,
        energy_money=money(kwh * prices.energy),
        service_money=money(kwh * prices.service),
    )
