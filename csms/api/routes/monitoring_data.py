"""Live network state, utilization by connector/station/county/site category, safety lockouts.

Scope-aware (csms.api.scope): a county- or owner-unit-scoped account sees the live state and
utilization of its stations only (the totals are their sums), and reads, sets and lifts the
lockouts of its stations; another station answers 404 as if absent. Recomputing the rollups
is network maintenance and stays with whole-network operators."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from csms.api.auth import Principal, context, operator, scoped_operator, scoped_viewer
from csms.api.bounds import Day
from csms.api.context import ApiContext
from csms.api.schemas import MAX_OFFSET, Strict
from csms.api.scope import ensure_visible
from csms.clock import isoformat, utcnow
from csms.errors import InvalidInput, NotFound
from csms.monitoring import utilization as u
from csms.services.utilization import utilization_table

router = APIRouter(prefix="/api/v1", tags=["monitoring"])
Ctx = Annotated[ApiContext, Depends(context)]
POWER_FRESH = timedelta(minutes=5)  # a power reading older than this is not "now"


# --- bodies -------------------------------------------------------------------------------------


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


class LockoutCreate(Strict):
    hazard: str = Field(min_length=1, max_length=2000, description="what makes it hazardous")

    _hazard = field_validator("hazard")(_text)


class LockoutLift(Strict):
    rectification: str = Field(
        min_length=1, max_length=2000, description="what was done to remove the hazard"
    )

    _rectification = field_validator("rectification")(_text)


class Availability(BaseModel):
    sent: bool
    status: str | None = Field(description="the station's answer: Accepted, Scheduled, Rejected")
    detail: str


class Lockout(BaseModel):
    id: int
    station_id: str
    hazard: str
    locked_by: str
    locked_at: datetime
    rectification: str | None
    lifted_by: str | None
    lifted_at: datetime | None
    open: bool


class LockoutAnswer(Lockout):
    availability: Availability = Field(
        description="the whole-station ChangeAvailability sent (Inoperative on lock, Operative "
        "on lift); an offline station gets it when it boots"
    )


class RollupRequest(Strict):
    since: Day = Field(description="first local day to recompute")
    until: Day = Field(description="last local day to recompute (included)")


class Figures(BaseModel):
    sessions: int
    counted_sessions: int = Field(description="sessions of more than 2 min and 0.5 kWh")
    kwh: Decimal
    busy_hours: Decimal
    online_hours: Decimal
    fault_hours: Decimal
    time_utilization: Decimal | None = Field(description="busy hours / (connectors x hours)")
    energy_utilization: Decimal | None = Field(description="kWh / (rated kW x hours)")
    online_rate: Decimal | None = Field(description="online hours / (stations x hours)")
    fault_rate: Decimal | None = Field(description="fault hours / (connectors x hours)")
    stations: int
    connectors: int
    rated_kw: Decimal | None
    hours: Decimal = Field(description="elapsed hours of the bucket (up to now)")


class UtilizationRow(Figures):
    station_id: str | None = None
    evse_id: int | None = None
    county: str | None = None
    category: str | None = None
    bucket: str = Field(description="UTC hour (ISO 8601), local day, or since/until")
    start: datetime
    end: datetime


class UtilizationAnswer(BaseModel):
    since: date
    until: date
    by: u.Grouping
    granularity: u.Granularity
    time_zone: str
    as_of: datetime
    rows: list[UtilizationRow]
    totals: Figures


# --- live and utilization -----------------------------------------------------------------------


@router.get("/monitoring/live")
async def live(ctx: Ctx, who: Annotated[Principal, Depends(scoped_viewer)]) -> dict[str, Any]:
    """The network now: stations total/online/offline/locked, connectors by status, open
    sessions, and the power they draw (from Power.Active.Import readings of the last 5 minutes;
    null when no session reports power)."""
    now = utcnow()
    state = await ctx.utilization.live(now - POWER_FRESH, who.scope)
    watts = state.pop("power_w")
    state["power_kw"] = (
        None
        if watts is None
        else str((Decimal(watts) / 1000).quantize(u.KWH, rounding=ROUND_HALF_UP))
    )
    state["as_of"] = isoformat(now)
    return state


@router.get("/monitoring/utilization", response_model=UtilizationAnswer)
async def utilization(
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    since: Annotated[Day, Query(description="first local day (CSMS time zone)")],
    until: Annotated[Day, Query(description="last local day, included")],
    by: u.Grouping = u.Grouping.STATION,
    granularity: u.Granularity = u.Granularity.DAY,
) -> JSONResponse:
    """Utilization per group and hour/day (or `total`: one bucket for the range), from the
    hourly and daily rollups, with the network totals. A row for every group of the registry
    and every bucket that has begun, zeros included; at most 366 days and 200,000 rows."""
    table = await utilization_table(
        ctx.utilization, since, until, by, granularity, utcnow(), who.scope
    )
    return JSONResponse(table)


@router.post("/monitoring/utilization/rollup")
async def rollup(
    body: RollupRequest, ctx: Ctx, _: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    """Recompute the hourly and daily rollups of past local days from the raw history (the
    maintenance loop keeps the last hours up to date by itself), one day at a time."""
    try:
        u.check_range(body.since, body.until)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    store = ctx.utilization
    total = None
    day = body.since
    while day <= body.until:
        start = u.local_midnight(day, store.zone)
        end = u.local_midnight(day + timedelta(days=1), store.zone)
        done = await store.rollup(start, end, now=utcnow(), wait=True)
        if done is not None:
            total = done if total is None else total + done
        day += timedelta(days=1)
    assert total is not None
    return {
        "since": body.since.isoformat(),
        "until": body.until.isoformat(),
        "hourly_rows": total.hours,
        "hourly_rows_changed": total.changed,
        "hourly_rows_deleted": total.deleted,
        "daily_rows": total.days,
    }


# --- safety lockouts ----------------------------------------------------------------------------


@router.post("/stations/{station_id}/lockout", status_code=201, response_model=LockoutAnswer)
async def lock_station(
    station_id: str,
    body: LockoutCreate,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> dict[str, Any]:
    """Mark the station hazardous: every start is refused (Blocked) and it is told to become
    Inoperative (now if connected, else when it boots). 409 when a lockout is open already."""
    await ensure_visible(ctx, who, station_id)
    lockout, availability = await ctx.lockouts.lock(station_id, body.hazard, who.name)
    return {**lockout, "availability": availability.as_json()}


@router.post("/stations/{station_id}/lockout/lift", response_model=LockoutAnswer)
async def lift_lockout(
    station_id: str,
    body: LockoutLift,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> dict[str, Any]:
    """Record the rectification that lifts the open lockout; the station is told to become
    Operative. 409 when the station is not locked out."""
    await ensure_visible(ctx, who, station_id)
    lockout, availability = await ctx.lockouts.lift(station_id, body.rectification, who.name)
    return {**lockout, "availability": availability.as_json()}


@router.get("/lockouts", response_model=list[Lockout])
async def list_lockouts(
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    open: Annotated[bool | None, Query(description="true: in force; false: lifted")] = None,
    station_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """Lockouts of every station (in the caller's scope), newest first."""
    return await ctx.lockouts.history(
        station_id=station_id, open_only=open, limit=limit, offset=offset, scope=who.scope
    )


@router.get("/stations/{station_id}/lockouts", response_model=list[Lockout])
async def station_lockouts(
    station_id: str,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """The station's lockouts, newest first: who locked it and why, who lifted it and how."""
    await ensure_visible(ctx, who, station_id)
    if not await ctx.lockouts.station_exists(station_id):
        raise NotFound(f"station {station_id} does not exist")
    return await ctx.lockouts.history(station_id=station_id, limit=limit, offset=offset)
