"""Progress against the plan, the stations' map, and the monthly report (JSON, HTML, CSV).

Progress and the map are scope-aware: a county-scoped account gets the figures of its counties
only (the city's figures and other counties' are left out; the plan counts per county, so an
owner unit's account is refused with a message saying so), and the map its stations only. The
monthly report covers the whole city and stays with whole-network accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from csms.api.auth import Principal, context, operator, scoped_viewer, viewer
from csms.api.bounds import MAX_INT4, Day
from csms.api.context import ApiContext
from csms.api.report_links import Format, new_link
from csms.api.routes.dashboard import city_map
from csms.api.routes.report_pages import rendered, signing_key, standing
from csms.clock import isoformat, utcnow
from csms.domain.period import parse_month
from csms.domain.scope import Scope
from csms.errors import InvalidInput, NotFound
from csms.monitoring.plan import Plan, canonical_county

router = APIRouter(prefix="/api/v1", tags=["monitoring"])
Ctx = Annotated[ApiContext, Depends(context)]


@router.get("/monitoring/progress")
async def plan_progress(
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    on: Annotated[Day | None, Query(description="a day (default: today, local)")] = None,
) -> dict[str, Any]:
    """Every target of the plan in force: target, actual, gap and status (met, on track,
    behind) as of `on`. A county-scoped account gets its counties' figures only."""
    if who.scope is not None and who.scope.owner_unit is not None:
        raise HTTPException(403, OWNER_UNIT_PROGRESS)
    if on is not None and on > ctx.monitoring.today():
        raise InvalidInput(f"{on} is in the future: progress is known up to today")
    result = await ctx.monitoring.progress(on)
    figures = result.figures
    if who.scope is not None:
        figures = _of_counties(figures, result.plan, who.scope)
    counts = {"met": 0, "on_track": 0, "behind": 0}
    for figure in figures:
        counts[figure["status"]] += 1
    return {
        "plan": {"plan_id": result.plan_id, "name": result.plan.name},
        "on": result.on.isoformat(),
        "figures": figures,
        "by_status": counts,
    }


OWNER_UNIT_PROGRESS = (
    "the plan's progress is counted per county and for the city; an owner unit's account "
    "has no figures of its own: use the utilization figures, or ask an admin for a county "
    "or whole-network account"
)


def _of_counties(figures: list[dict[str, Any]], plan: Plan, scope: Scope) -> list[dict[str, Any]]:
    """The figures of the scope's counties: a county the scope names exactly as the plan
    does, as the station filter matches `stations.county` exactly (a scope of "shuocheng" sees
    no station of 朔城区, so it gets none of its figures either)."""
    mine = {county for county in scope.counties if canonical_county(plan, county) == county}
    return [f for f in figures if f["scope"] == "county" and f["subject"] in mine]


@router.get("/monitoring/map")
async def station_map(
    ctx: Ctx, who: Annotated[Principal, Depends(scoped_viewer)]
) -> dict[str, Any]:
    """Every station with WGS-84 and GCJ-02 coordinates and its state now (charging,
    available, offline, faulted, locked), and the county boundaries of the plan's city to draw
    them on (`boundaries`: GeoJSON in GCJ-02, shipped with the CSMS; null when none is). A
    scoped account gets its stations only (and the whole city's boundaries)."""
    plan = (await ctx.monitoring.plan())[1]
    stations = await ctx.monitoring.map(who.scope)
    return {"stations": stations, "boundaries": city_map(plan.name)}


@router.get("/reports/monthly")
async def list_reports(ctx: Ctx, _: Annotated[Principal, Depends(viewer)]) -> list[dict[str, Any]]:
    """Reports generated so far (each month's is filed by the 5th of the next), with their
    current version, whether it is final (generated after the month ended) and when it was
    last amended (late data changed a figure) and whether data for it arrived after its
    final version was filed (`late_data`: an amendment may follow)."""
    late = {name for name, _ in await ctx.monitoring_store.stale_reports()}
    return [
        {**r, "late_data": bool(r["final"]) and r["month"] in late}
        for r in await ctx.monitoring_store.reports()
    ]


def _api_url(month: str) -> Callable[[int], str]:
    """Where a version's page is in the API (a reader there sends the key)."""

    def url(version: int) -> str:
        return f"/api/v1/reports/monthly/{month}/versions/{version}?format=html"

    return url


async def _formatted(
    ctx: ApiContext, month: str, stored: dict[str, Any], format: str
) -> Response | None:
    """HTML or CSV rendered from the version's document, with where it stands now."""
    if format not in ("html", "csv"):
        return None
    at = await standing(ctx, month, int(stored["version"]), _api_url(month))
    return rendered(month, stored["document"], "csv" if format == "csv" else "html", at)


async def _with_history(ctx: ApiContext, stored: dict[str, Any]) -> dict[str, Any]:
    """The document, its version and finality, and every version filed (amendments list
    what they changed; each version stays retrievable)."""
    return {
        **stored["document"],
        "version": stored["version"],
        "final": stored["final"],
        "amended_at": _at(stored["amended_at"]),
        "versions": [
            {**v, "generated_at": isoformat(v["generated_at"]), "amended_at": _at(v["amended_at"])}
            for v in await ctx.monitoring_store.report_versions(stored["month"])
        ],
    }


def _at(moment: datetime | None) -> str | None:
    return None if moment is None else isoformat(moment)


@router.get("/reports/monthly/{month}", response_model=None)
async def monthly_report(
    month: str,
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    format: Literal["json", "html", "csv"] = "json",
) -> Response | dict[str, Any]:
    """A month's progress report (its current version); generated on first request when not
    stored yet."""
    year, number = parse_month(month)
    ctx.monitoring.check_month(year, number)
    stored = await ctx.reports.get_or_generate(year, number, by="api")
    return await _formatted(ctx, month, stored, format) or await _with_history(ctx, stored)


@router.get("/reports/monthly/{month}/versions/{version}", response_model=None)
async def monthly_report_version(
    month: str,
    version: int,
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    format: Literal["json", "html", "csv"] = "json",
) -> Response | dict[str, Any]:
    """One version of a month's report as it was filed (the original is version 1)."""
    parse_month(month)
    if not 0 < version <= MAX_INT4:  # versions are int4: none is out there
        raise NotFound(f"the report of {month} has no version {version}")
    stored = await ctx.monitoring_store.report_version(month, version)
    if stored is None:
        raise NotFound(f"the report of {month} has no version {version}")
    document: dict[str, Any] = stored["document"]
    return await _formatted(ctx, month, stored, format) or {
        **document,
        "version": stored["version"],
        "final": stored["final"],
        "generated_by": stored["generated_by"],
    }


@router.post("/reports/monthly/{month}", status_code=201)
async def regenerate_report(
    month: str, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    """Generate (again) a month's report from the data as it stands now: a new version, the
    earlier ones kept (after a final version, an amendment listing what changed)."""
    year, number = parse_month(month)
    ctx.monitoring.check_month(year, number)
    stored = await ctx.reports.generate(year, number, by=who.name)
    return await _with_history(ctx, stored)


@router.get("/reports/monthly/{month}/link")
async def report_link(
    month: str,
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    version: Annotated[
        int | None, Query(ge=1, le=MAX_INT4, description="a version (default: the current one)")
    ] = None,
    format: Format = "html",
) -> dict[str, Any]:
    """A link that opens one version of the month's report in a browser without a key:
    read-only, that month only, valid for 10 minutes (the dashboard's "open" buttons). The
    current version is generated first when the month has none yet, as GET of the report
    does."""
    year, number = parse_month(month)
    ctx.monitoring.check_month(year, number)
    if version is None:
        version = int((await ctx.reports.get_or_generate(year, number, by="api"))["version"])
    elif await ctx.monitoring_store.report_version(month, version) is None:
        raise NotFound(f"the report of {month} has no version {version}")
    link = new_link(month, version, format, utcnow())
    return {
        "month": month,
        "version": version,
        "format": format,
        "url": link.path(signing_key(ctx.settings)),
        "expires_at": isoformat(link.expires_at()),
    }
