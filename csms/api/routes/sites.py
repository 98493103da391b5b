"""Sites: billing facts of a place (two-part electricity tariff) and its monthly energy report."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from csms.api.auth import Principal, context, operator, viewer
from csms.api.billing_schemas import Site, SiteBody
from csms.api.context import ApiContext
from csms.billing.cdr import kwh
from csms.billing.demand import energy_wh, metered, peak
from csms.billing.pricing import Timed
from csms.domain.period import month_bounds, parse_month
from csms.errors import InvalidInput
from csms.metering.rules import Reading

router = APIRouter(prefix="/api/v1/sites", tags=["sites"])
Ctx = Annotated[ApiContext, Depends(context)]


@router.get("", response_model=list[Site])
async def list_sites(ctx: Ctx, _: Annotated[Principal, Depends(viewer)]) -> list[dict[str, Any]]:
    """Every site a station names, and every site registered here."""
    return await ctx.tariffs.sites()


@router.get("/{site_name}", response_model=Site)
async def get_site(
    site_name: str, ctx: Ctx, _: Annotated[Principal, Depends(viewer)]
) -> dict[str, Any]:
    return await ctx.tariffs.site(site_name)


@router.put("/{site_name}", response_model=Site)
async def put_site(
    site_name: str, body: SiteBody, ctx: Ctx, _: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    if not 1 <= len(site_name) <= 200:
        raise InvalidInput("a site name has 1 to 200 characters")
    await ctx.tariffs.put_site(site_name, body.two_part_tariff, body.notes)
    return await ctx.tariffs.site(site_name)


@router.get("/{site_name}/energy-report")
async def energy_report(
    site_name: str,
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    month: Annotated[str, Query(description="YYYY-MM, local to the CSMS time zone")],
) -> dict[str, Any]:
    """A month's energy and peak 15-minute demand of a site, from its meters. On a two-part
    electricity tariff the demand (capacity) charge is waived (plan 三(三))."""
    year, number = parse_month(month)
    site = await ctx.tariffs.site(site_name)
    start, end = month_bounds(year, number, ZoneInfo(ctx.settings.time_zone))
    per_evse: dict[tuple[str, int], list[Timed]] = defaultdict(list)
    for row in await ctx.metering.site_registers(site_name, start, end):
        per_evse[(row["station_id"], row["evse_id"])].append(Reading(row["sampled_at"], row["wh"]))
    series = metered(per_evse)
    busiest = peak(series)
    energy = sum(energy_wh(readings) for readings in series)
    return {
        "site_name": site_name,
        "month": month,
        "time_zone": ctx.settings.time_zone,
        "meters": len(series),
        "energy_kwh": kwh(energy),
        "peak_demand_kw": str(busiest.demand_kw),
        "peak_window_start": busiest.window_start,
        "peak_window_kwh": kwh(busiest.energy_wh),
        "two_part_tariff": site["two_part_tariff"],
        "demand_charge": "waived" if site["two_part_tariff"] else "not applicable",
        "demand_charge_basis": "plan 三(三): centralised charging facilities on a two-part "
        "electricity tariff pay no demand (capacity) charge"
        if site["two_part_tariff"]
        else "the site is not on a two-part electricity tariff",
    }
