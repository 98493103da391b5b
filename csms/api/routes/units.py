"""Owner units, their members and schedules, station access, the holiday calendar, refusals.

Scope-aware (csms.api.scope): an owner-unit-scoped account sees and manages its own unit (its
fields, members, schedules, report, its stations' access) and no other; a county-scoped
account reads the units that own a station in its counties or are registered in one (their
detail lists only its stations) but changes none of them, and reads and sets the access of
its own stations. Other units and stations answer 404 as if absent. Creating units and the
holiday calendar's replacement stay with whole-network operators; reading the calendar is
open to every account."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query

from csms.api.auth import Principal, context, operator, scoped_operator, scoped_viewer
from csms.api.bounds import Instant
from csms.api.context import ApiContext
from csms.api.schemas import MAX_ID, MAX_OFFSET
from csms.api.scope import ensure_visible
from csms.api.sharing_schemas import (
    MemberList,
    ScheduleCreate,
    ScheduleEnd,
    StationAccessBody,
    Unit,
    UnitCreate,
    UnitDetail,
    UnitFields,
)
from csms.clock import utcnow
from csms.domain.period import parse_month
from csms.domain.scope import Scope
from csms.errors import InvalidInput, NotFound
from csms.services.sharing_report import unit_report
from csms.sharing import schedule as schedules
from csms.sharing.codec import exceptions_json, schedule_from, windows_json

router = APIRouter(prefix="/api/v1", tags=["sharing"])
Ctx = Annotated[ApiContext, Depends(context)]


async def _reconfigure(ctx: ApiContext, station_ids: list[str]) -> None:
    """Re-send cache/local-list settings to the connected ones, in the background."""
    for station_id in station_ids:
        ctx.enforcer.reconfigure(station_id)


COUNTY_READS_UNITS = (
    "a county account reads owner units but does not change them: ask the unit's own account "
    "or a whole-network operator"
)
OWNER_CHANGE_NEEDS_NETWORK = (
    "giving a station to another owner unit needs a whole-network account (the unit's "
    "sessions, bills and settlement follow its stations): ask a whole-network operator"
)
COUNTY_NO_REPORT = (
    "a unit's report covers all its stations, some maybe outside your counties: ask the "
    "unit's own account or a whole-network account"
)


async def _visible_unit(
    ctx: ApiContext, who: Principal, unit_id: str, *, change: bool = False
) -> None:
    """404 for a unit outside `who`'s scope; 403 when a county account would `change` one."""
    scope = who.scope
    if scope is None:
        return
    if change and scope.owner_unit is None:
        raise HTTPException(403, COUNTY_READS_UNITS)
    await ctx.sharing.unit(unit_id, scope=scope)


async def _detail(ctx: ApiContext, unit_id: str, scope: Scope | None = None) -> dict[str, Any]:
    """A unit as `scope` may see it: a county account gets only its counties' stations and
    their schedules, and no members (id tokens are whole-network data)."""
    unit = await ctx.sharing.unit(unit_id, scope=scope)
    county_only = scope is not None and scope.owner_unit is None
    members = [] if county_only else await ctx.sharing.members(unit_id)
    return {
        **unit,
        "members": [{"kind": k, "value": v} for k, v in members],
        "stations": await ctx.sharing.unit_stations(unit_id, scope=scope),
        "schedules": await ctx.sharing.schedules(unit_id, scope=scope),
    }


@router.post("/units", status_code=201, response_model=UnitDetail)
async def create_unit(
    body: UnitCreate, ctx: Ctx, _: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    """An owner unit (agency, enterprise, school, hospital, ...) and its members."""
    fields = body.model_dump(exclude={"unit_id", "members"}, exclude_none=True)
    fields.setdefault("close_policy", "finish")
    fields.setdefault("close_grace_minutes", 15)
    await ctx.sharing.create_unit(body.unit_id, fields, [(m.kind, m.value) for m in body.members])
    return await _detail(ctx, body.unit_id)


@router.get("/units", response_model=list[Unit])
async def list_units(
    ctx: Ctx, who: Annotated[Principal, Depends(scoped_viewer)]
) -> list[dict[str, Any]]:
    """Every unit; a scoped account's units (see the module's header)."""
    return await ctx.sharing.units(scope=who.scope)


@router.get("/units/{unit_id}", response_model=UnitDetail)
async def get_unit(
    unit_id: str, ctx: Ctx, who: Annotated[Principal, Depends(scoped_viewer)]
) -> dict[str, Any]:
    """The unit, its members, its stations (a county account: those in its counties) and its
    schedules."""
    return await _detail(ctx, unit_id, who.scope)


@router.patch("/units/{unit_id}", response_model=UnitDetail)
async def update_unit(
    unit_id: str,
    body: UnitFields,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> dict[str, Any]:
    await _visible_unit(ctx, who, unit_id, change=True)
    fields = body.model_dump(include=body.model_fields_set)
    for required in ("name", "kind", "close_policy", "close_grace_minutes"):
        if required in fields and fields[required] is None:
            raise InvalidInput(f"{required} cannot be cleared")
    await ctx.sharing.update_unit(unit_id, fields)
    return await _detail(ctx, unit_id, who.scope)


@router.put("/units/{unit_id}/members", response_model=UnitDetail)
async def set_members(
    unit_id: str,
    body: MemberList,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> dict[str, Any]:
    """Replace the unit's members; its non-public stations get the new local list."""
    await _visible_unit(ctx, who, unit_id, change=True)
    await ctx.sharing.set_members(unit_id, [(m.kind, m.value) for m in body.members])
    stations = await ctx.sharing.unit_stations(unit_id)
    await _reconfigure(ctx, [s["id"] for s in stations if s["access_mode"] != "public"])
    return await _detail(ctx, unit_id, who.scope)


# --- station access ---------------------------------------------------------------------------


@router.put("/stations/{station_id}/access")
async def set_station_access(
    station_id: str,
    body: StationAccessBody,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> dict[str, Any]:
    """Who may charge at a station: `public`, `private` (the owner unit's members) or `shared`
    (members always, the public inside the unit's opening windows). A scoped account sets it
    for its own stations, and names only a unit it sees."""
    await ensure_visible(ctx, who, station_id)
    profile = await ctx.sharing.station_profile(station_id)
    if profile is None:
        raise InvalidInput(f"station {station_id!r} does not exist")
    if body.access_mode != "public" and body.unit_id is None:
        raise InvalidInput(f"a {body.access_mode} station needs its owner unit_id")
    if body.unit_id is not None:
        try:
            await ctx.sharing.unit(body.unit_id, scope=who.scope)
        except NotFound:
            raise InvalidInput(f"unit {body.unit_id!r} does not exist") from None
        if who.scope is not None and body.unit_id != profile["owner_unit"]:
            # a unit's scope follows its stations, history included (sessions, bills,
            # settlement): handing a station to another unit is a whole-network decision
            raise HTTPException(403, OWNER_CHANGE_NEEDS_NETWORK)
    # Going public keeps the owner: its tariffs, CDRs and settlement still name the unit.
    owner = body.unit_id if body.unit_id is not None else profile["owner_unit"]
    await ctx.sharing.set_access(station_id, owner, body.access_mode)
    await _reconfigure(ctx, [station_id])
    return await station_access(station_id, ctx, who)


@router.get("/stations/{station_id}/access")
async def station_access(
    station_id: str,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    at: Annotated[Instant | None, Query(description="default: now")] = None,
) -> dict[str, Any]:
    """May the public charge here now (or at `at`), and when does that next change?"""
    await ensure_visible(ctx, who, station_id)
    moment = at or utcnow()
    answer = await ctx.access.station_access(station_id, moment)
    if answer is None:
        raise NotFound(f"station {station_id} does not exist")
    return {
        "station_id": station_id,
        "at": moment,
        "access_mode": answer.access_mode.value,
        "unit_id": answer.unit_id,
        "unit_name": answer.unit_name,
        "public_may_charge": answer.public_open,
        "next_change": answer.next_change,
        "schedule_id": answer.schedule_id,
        "reason": answer.reason,
        "members_may_charge": answer.unit_id is not None,
    }


# --- schedules --------------------------------------------------------------------------------


def _schedule_view(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row)


@router.post("/units/{unit_id}/schedules", status_code=201)
async def add_schedule(
    unit_id: str,
    body: ScheduleCreate,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> dict[str, Any]:
    """Weekly opening windows (a window may cross midnight, 18:00-08:00), dated exceptions and
    the dates the schedule is in force. Overlapping or malformed windows are a 422."""
    await _visible_unit(ctx, who, unit_id, change=True)
    await ctx.sharing.unit(unit_id)  # 404 for an unknown unit
    if body.station_id is not None:
        profile = await ctx.sharing.station_profile(body.station_id)
        if profile is None:
            raise InvalidInput(f"station {body.station_id!r} does not exist")
        if profile["owner_unit"] != unit_id:
            raise InvalidInput(f"station {body.station_id!r} is not owned by unit {unit_id!r}")
    values = {
        "unit_id": unit_id,
        "station_id": body.station_id,
        "time_zone": body.time_zone or ctx.settings.time_zone,
        "effective_from": body.effective_from,
        "effective_to": body.effective_to,
        "windows": [w.model_dump() for w in body.windows],
        "exceptions": [e.model_dump(mode="json") for e in body.exceptions],
        "holidays_open": body.holidays_open,
        "workday_pattern": schedules.WEEKDAYS.index(body.workday_pattern),
        "created_by": who.name,
    }
    try:
        schedule = schedule_from(values)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    found = schedules.problems(schedule)
    if found:
        raise InvalidInput("schedule refused: " + "; ".join(found))
    values["windows"] = windows_json(schedule)
    values["exceptions"] = exceptions_json(schedule)
    row = await ctx.sharing.add_schedule(values)
    stations = await ctx.sharing.unit_stations(unit_id)
    await _reconfigure(ctx, [s["id"] for s in stations if s["access_mode"] != "public"])
    return _schedule_view(row)


@router.get("/units/{unit_id}/schedules")
async def list_schedules(
    unit_id: str, ctx: Ctx, who: Annotated[Principal, Depends(scoped_viewer)]
) -> list[dict[str, Any]]:
    await ctx.sharing.unit(unit_id, scope=who.scope)
    return [_schedule_view(r) for r in await ctx.sharing.schedules(unit_id, scope=who.scope)]


@router.post("/units/{unit_id}/schedules/{schedule_id}/end")
async def end_schedule(
    unit_id: str,
    schedule_id: int,
    body: ScheduleEnd,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> dict[str, Any]:
    """End a schedule on `last_day` (only ever earlier), so a successor can take over; the
    history of which windows were in force stays."""
    await _visible_unit(ctx, who, unit_id, change=True)
    if not 0 < schedule_id <= MAX_ID:
        raise NotFound(f"unit {unit_id!r} has no schedule {schedule_id}")
    await ctx.sharing.end_schedule(unit_id, schedule_id, body.last_day)
    [row] = [r for r in await ctx.sharing.schedules(unit_id) if r["id"] == schedule_id]
    return _schedule_view(row)


@router.delete("/units/{unit_id}/schedules/{schedule_id}", status_code=204)
async def delete_schedule(
    unit_id: str,
    schedule_id: int,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> None:
    await _visible_unit(ctx, who, unit_id, change=True)
    if not 0 < schedule_id <= MAX_ID:
        raise NotFound(f"unit {unit_id!r} has no schedule {schedule_id}")
    await ctx.sharing.delete_schedule(unit_id, schedule_id)


# --- calendar, decisions, report --------------------------------------------------------------


@router.get("/calendar")
async def get_calendar(ctx: Ctx, _: Annotated[Principal, Depends(scoped_viewer)]) -> dict[str, Any]:
    """Statutory holidays (open all day on shared piles) and adjusted working days (调休)."""
    return ctx.access.calendar.as_json()


@router.put("/calendar")
async def put_calendar(
    body: dict[str, Any], ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    """Replace the calendar (e.g. when next year's State Council notice is out)."""
    try:
        calendar = await ctx.access.replace_calendar(body, who.name)
    except ValueError as exc:
        raise InvalidInput(f"calendar refused: {exc}") from None
    return calendar.as_json()


@router.get("/access-decisions")
async def access_decisions(
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    station_id: str | None = None,
    unit_id: str | None = None,
    since: Annotated[Instant | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """Every start the sharing rules refused, and every stop they asked for, newest first;
    a scoped account's stations only."""
    return await ctx.sharing.decisions(
        station_id=station_id,
        unit_id=unit_id,
        since=since,
        limit=limit,
        offset=offset,
        scope=who.scope,
    )


@router.get("/units/{unit_id}/report")
async def report(
    unit_id: str,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    month: Annotated[str, Query(description="YYYY-MM, local to the CSMS time zone")],
) -> dict[str, Any]:
    """Public sessions, kWh and revenue, member sessions, utilization before and after
    opening, hours open to the public and refused starts, for one month. For the unit's own
    account too; a county account gets 403 (the report spans all the unit's stations)."""
    if who.scope is not None:
        await ctx.sharing.unit(unit_id, scope=who.scope)
        if who.scope.owner_unit is None:
            raise HTTPException(403, COUNTY_NO_REPORT)
    year, number = parse_month(month)
    zone = ZoneInfo(ctx.settings.time_zone)
    today = utcnow().astimezone(zone)
    if (year, number) > (today.year, today.month):
        raise InvalidInput(f"{month} has not begun")
    return await unit_report(ctx.sharing, ctx.access, unit_id, year, number, zone)
