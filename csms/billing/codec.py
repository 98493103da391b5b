"""Tariffs to and from their stored JSON definition (prices, day plans, fees).

Money and prices travel as decimal strings so nothing passes through a float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from csms.billing.tariff import (
    Band,
    BandPrice,
    DayPlan,
    DayType,
    IdleFee,
    Period,
    Tariff,
    hhmm,
    parse_hhmm,
)


class DefinitionError(ValueError):
    """A stored or posted tariff definition that cannot be read."""


def definition_of(tariff: Tariff) -> dict[str, Any]:
    """The JSON-safe definition of a tariff's prices, plans and fees."""
    idle = tariff.idle
    return {
        "prices": {
            band.value: {"energy": str(p.energy), "service": str(p.service)}
            for band, p in sorted(tariff.prices.items())
        },
        "plans": [
            {
                "months": sorted(plan.months),
                "day_types": sorted(t.value for t in plan.day_types),
                "periods": [
                    {"start": hhmm(p.start), "end": hhmm(p.end), "band": p.band.value}
                    for p in plan.periods
                ],
            }
            for plan in tariff.plans
        ],
        "idle_fee": None
        if idle is None
        else {
            "per_minute": str(idle.per_minute),
            "grace_minutes": idle.grace_minutes,
            "cap": None if idle.cap is None else str(idle.cap),
        },
        "session_fee": str(tariff.session_fee),
    }


def tariff_from(
    *,
    tariff_id: str,
    version: int,
    name: str,
    currency: str,
    time_zone: str,
    effective_from: datetime,
    effective_to: datetime | None,
    definition: dict[str, Any],
) -> Tariff:
    """Read a definition; DefinitionError names the first field that makes no sense."""
    try:
        prices = {
            Band(band): BandPrice(_decimal(p["energy"]), _decimal(p["service"]))
            for band, p in definition["prices"].items()
        }
        plans = tuple(
            DayPlan(
                periods=tuple(
                    Period(parse_hhmm(p["start"]), parse_hhmm(p["end"]), Band(p["band"]))
                    for p in plan["periods"]
                ),
                months=frozenset(int(m) for m in plan.get("months") or ()),
                day_types=frozenset(DayType(t) for t in plan.get("day_types") or ()),
            )
            for plan in definition["plans"]
        )
        raw_idle = definition.get("idle_fee")
        idle = (
            None
            if raw_idle is None
            else IdleFee(
                per_minute=_decimal(raw_idle["per_minute"]),
                grace_minutes=int(raw_idle.get("grace_minutes") or 0),
                cap=None if raw_idle.get("cap") is None else _decimal(raw_idle["cap"]),
            )
        )
        session_fee = _decimal(definition.get("session_fee") or "0")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DefinitionError(f"tariff definition: {exc}") from exc
    return Tariff(
        tariff_id=tariff_id,
        version=version,
        name=name,
        prices=prices,
        plans=plans,
        effective_from=effective_from,
        effective_to=effective_to,
        currency=currency,
        time_zone=time_zone,
        idle=idle,
        session_fee=session_fee,
    )


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        value = repr(value)  # JSON numbers: the shortest text that reads back the same
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
