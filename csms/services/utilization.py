"""Utilization tables from the rollups: per group and bucket, with network totals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from csms.clock import isoformat
from csms.domain.scope import Scope
from csms.errors import InvalidInput
from csms.monitoring import utilization as u
from csms.store.utilization import UtilizationStore

MAX_HOURLY_DAYS = 7


def _plain(value: Any) -> Any:
    """JSON for Decimals as exact text, datetimes in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return isoformat(value)
    return value


def figures_json(f: u.Figures, capacity: u.Capacity, hours: Decimal) -> dict[str, Any]:
    return {
        "sessions": f.sessions,
        "counted_sessions": f.counted_sessions,
        "kwh": str(f.kwh),
        "busy_hours": str(f.busy_hours),
        "online_hours": str(f.online_hours),
        "fault_hours": str(f.fault_hours),
        "time_utilization": _plain(f.time_utilization),
        "energy_utilization": _plain(f.energy_utilization),
        "online_rate": _plain(f.online_rate),
        "fault_rate": _plain(f.fault_rate),
        "stations": capacity.stations,
        "connectors": capacity.connectors,
        "rated_kw": _plain(capacity.rated_kw),
        "hours": str(hours.quantize(u.RATIO, rounding=ROUND_HALF_UP)),
    }


async def utilization_table(
    store: UtilizationStore,
    since: date,
    until: date,
    by: u.Grouping,
    granularity: u.Granularity,
    now: datetime,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """A row for every group of the registry and every bucket that has begun (zeros
    included), and the network totals; InvalidInput for a range or size out of bounds. With
    a scope, only its stations: their groups, and totals that are their sums."""
    try:
        u.check_range(since, until)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if granularity is u.Granularity.HOUR and (until - since).days >= MAX_HOURLY_DAYS:
        # Hourly rows of a whole network month are millions: ask for days, or a week of hours.
        raise InvalidInput(
            f"hourly figures cover at most {MAX_HOURLY_DAYS} days; use granularity=day or "
            "total for longer ranges"
        )
    bucket_list = u.buckets(since, until, granularity, store.zone, now)
    facts = [
        u.station_facts(
            r["id"],
            r["county"],
            r["category"],
            equipment=list(zip(r["equipment_nos"] or [], r["equipment_kw"] or [], strict=True)),
            reported_evses=list(r["evses"] or []),
            rated_power_kw=r["rated_power_kw"],
        )
        for r in await store.station_facts(since, scope)
    ]
    found = u.groups(facts, by)
    if u.too_many_rows(found, bucket_list):
        raise InvalidInput(
            f"{len(found)} groups x {len(bucket_list)} buckets is more than {u.MAX_ROWS} rows: "
            "ask for a shorter range, a coarser granularity or a coarser grouping"
        )
    rows = await store.sums(by, granularity, since, until, scope) if bucket_list else []
    range_hours = sum((b.hours for b in bucket_list), Decimal(0))
    table = u.tabulate(by, facts, found, rows, bucket_list, range_hours)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "by": by.value,
        "granularity": granularity.value,
        "time_zone": store.zone.key,
        "as_of": isoformat(now),
        "rows": [
            {
                **row.group.labels,
                "bucket": row.bucket.label,
                "start": isoformat(row.bucket.start),
                "end": isoformat(row.bucket.end),
                **figures_json(row.figures, row.group.capacity, row.bucket.hours),
            }
            for row in table.rows
        ],
        "totals": figures_json(table.totals, table.network, range_hours),
    }
