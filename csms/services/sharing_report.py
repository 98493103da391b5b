"""A unit's monthly sharing report: the figures a pilot of the plan (二(三)10) reports."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from csms.billing.cdr import kwh
from csms.clock import utcnow
from csms.domain.period import month_bounds
from csms.services.sharing import AccessService
from csms.sharing.access import AccessMode
from csms.sharing.codec import schedule_from
from csms.sharing.schedule import open_minutes
from csms.store.sharing import SharingStore

BASELINE_DAYS = 30  # "before opening" is the 30 days before the unit's opening date


def _utilization(usage: dict[str, Any], since: datetime, until: datetime) -> dict[str, Any]:
    """Time utilization = charging time / (connectors x hours), as the plan's reports define it."""
    hours = Decimal((until - since).total_seconds()) / 3600
    busy = Decimal(usage["busy_seconds"]) / 3600
    connectors = usage["connectors"]
    ratio = busy / (connectors * hours) if connectors and hours > 0 else None
    return {
        "from": since.isoformat(),
        "to": until.isoformat(),
        "public_sessions": usage["public_sessions"],
        "member_sessions": usage["member_sessions"],
        "charging_hours": str(busy.quantize(Decimal("0.01"))),
        "connectors": connectors,
        "time_utilization": None if ratio is None else str(ratio.quantize(Decimal("0.0001"))),
    }


async def unit_report(
    store: SharingStore, access: AccessService, unit_id: str, year: int, month: int, zone: ZoneInfo
) -> dict[str, Any]:
    unit = await store.unit(unit_id)
    since, until = month_bounds(year, month, zone)
    money = {row["price_class"]: row for row in await store.unit_money(unit_id, since, until)}
    stations = []
    for station in await store.unit_stations(unit_id):
        mode = AccessMode(station["access_mode"])
        minutes = await _open_minutes(store, access, station["id"], unit_id, mode, since, until)
        stations.append(
            {
                "station_id": station["id"],
                "access_mode": mode.value,
                "public_hours_open": str((Decimal(minutes) / 60).quantize(Decimal("0.01"))),
            }
        )
    now = utcnow()
    after = _utilization(await store.unit_usage(unit_id, since, until, now), since, until)
    before = None
    opened = unit["opened_on"]
    if opened is not None:
        start = datetime.combine(opened - timedelta(days=BASELINE_DAYS), time(), zone)
        end = datetime.combine(opened, time(), zone)
        before = _utilization(await store.unit_usage(unit_id, start, end, now), start, end)

    def figures(price_class: str) -> dict[str, Any]:
        row = money.get(price_class)
        return {
            "billed_sessions": 0 if row is None else row["sessions"],
            "energy_kwh": kwh(0 if row is None else row["energy_wh"]),
            "revenue": str(Decimal("0.00") if row is None else row["revenue"]),
        }

    return {
        "unit_id": unit_id,
        "unit_name": unit["name"],
        "kind": unit["kind"],
        "month": f"{year:04d}-{month:02d}",
        "time_zone": str(zone),
        "opened_on": None if opened is None else opened.isoformat(),
        "public": figures("public"),
        "members": figures("member"),
        "sessions": {
            "public": after["public_sessions"],
            "member": after["member_sessions"],
        },
        "utilization": {"before_opening": before, "this_month": after},
        "public_hours_open": str(
            sum((Decimal(s["public_hours_open"]) for s in stations), Decimal("0.00"))
        ),
        "stations": stations,
        "refused_starts": await store.refusals(unit_id, since, until),
    }


async def _open_minutes(
    store: SharingStore,
    access: AccessService,
    station_id: str,
    unit_id: str,
    mode: AccessMode,
    since: datetime,
    until: datetime,
) -> int:
    """Minutes the public could charge at the station in the period."""
    if mode is AccessMode.PUBLIC:
        return int((until - since).total_seconds() // 60)
    if mode is AccessMode.PRIVATE:
        return 0
    total = 0
    day = since.date()
    # Schedules may change inside the month: count each day by the schedule in force on it.
    while datetime.combine(day, time(), since.tzinfo) < until:
        start = max(since, datetime.combine(day, time(), since.tzinfo))
        end = min(until, datetime.combine(day + timedelta(days=1), time(), since.tzinfo))
        row = await store.schedule_for(station_id, unit_id, day)
        if row is not None:
            total += open_minutes(schedule_from(row), access.calendar, start, end)
        day += timedelta(days=1)
    return total
