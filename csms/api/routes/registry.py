"""The station registry (CSV import/export, one station's facts, locations), reference places,
EV counts and plans."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from csms.api.auth import Principal, context, operator, scoped_viewer, viewer
from csms.api.bounds import Day
from csms.api.context import ApiContext
from csms.api.registry_schemas import LeftOut, RegistryFacts, RegistryPatch, RegistryRecord
from csms.api.schemas import Strict
from csms.api.scope import ensure_visible
from csms.clock import utcnow
from csms.errors import InvalidInput, NotFound
from csms.monitoring.geo import wgs84_to_gcj02
from csms.monitoring.plan import PlanError
from csms.monitoring.registry_csv import PLACE_KINDS, RowError, RowsInvalid, render_for_excel
from csms.monitoring.registry_record import as_json
from csms.store.registry import ImportResult

router = APIRouter(prefix="/api/v1", tags=["registry"])
Ctx = Annotated[ApiContext, Depends(context)]

MAX_UPLOAD_BYTES = 16 * 1024 * 1024
PlanId = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="letters, digits, . _ -")


def _body(media_type: str, description: str) -> dict[str, Any]:
    """OpenAPI for a request body read raw (CSV, or CSV/JSON)."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media_type: {"schema": {"type": "string"}}},
        }
    }


async def _upload(request: Request) -> bytes:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidInput(f"the upload is larger than {MAX_UPLOAD_BYTES} bytes; split it")
    return bytes(data)


class PlanRejected(InvalidInput):
    """A plan document `plan_from` refused; the problem body lists every problem."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("invalid plan: " + "; ".join(problems))
        self.detail = {"message": "the plan was not loaded", "problems": list(problems)}


# --- schemas --------------------------------------------------------------------------------


class ImportResultOut(BaseModel):
    imported: int
    created: int
    updated: int
    dry_run: bool


class PlacesResultOut(ImportResultOut):
    removed: int = Field(description="places not in the upload that ?replace=true deleted")


class Point(BaseModel):
    latitude: float
    longitude: float


class StationLocation(BaseModel):
    station_id: str
    county: str | None
    township: str | None
    village: str | None
    site_name: str | None
    address: str | None
    wgs84: Point = Field(description="as registered (GNSS)")
    gcj02: Point = Field(description="for Chinese map platforms (AMap, Tencent)")


class PlaceOut(BaseModel):
    kind: str
    name: str
    county: str
    township: str | None
    latitude: float
    longitude: float
    small_car_spaces: int | None


class EvCount(Strict):
    county: str = Field(min_length=1, max_length=64, description="the plan's (Chinese or English)")
    as_of: Day
    evs: int = Field(ge=0, le=100_000_000)


class EvCountOut(BaseModel):
    county: str
    as_of: date
    evs: int


class PlanLoad(Strict):
    plan_id: str = PlanId
    document: dict[str, Any] = Field(description="a targets document, like the default plan's")
    activate: bool = False


class PlanSummary(BaseModel):
    plan_id: str
    name: str | None
    active: bool
    loaded_by: str | None
    loaded_at: datetime


class PlanOut(PlanSummary):
    document: dict[str, Any]


# --- registry -------------------------------------------------------------------------------


@router.post(
    "/registry/import",
    response_model=ImportResultOut,
    openapi_extra=_body(
        "text/csv", "registry CSV (UTF-8 or GBK/GB18030, header row; see the README)"
    ),
)
async def import_registry(
    request: Request,
    ctx: Ctx,
    who: Annotated[Principal, Depends(operator)],
    dry_run: Annotated[bool, Query(description="check only; store nothing")] = False,
) -> dict[str, Any]:
    """Create or update stations, their sites and connectors from a registry CSV file (UTF-8,
    or GBK/GB18030 as Excel on Chinese Windows saves it). Optional columns may be left out:
    a station keeps what is stored for them. Any bad row is a 422 listing every problem (line,
    column, message), and nothing is stored. Each station's changes go to the audit."""
    result = await ctx.registry.import_csv(
        await _upload(request), by=who.name, at=utcnow(), dry_run=dry_run
    )
    if not dry_run:
        _reconfigure(ctx, result)
    return {**result.as_dict(), "dry_run": dry_run}


@router.get(
    "/registry/export",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "registry CSV"}},
)
async def export_registry(ctx: Ctx, _: Annotated[Principal, Depends(viewer)]) -> Response:
    """Every station's registry record as CSV, in the import's format: UTF-8 with a byte-order
    mark, so that Excel shows the Chinese (the import drops the mark)."""
    return Response(
        render_for_excel(await ctx.registry.export_rows()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="registry.csv"'},
    )


@router.get("/registry/left-out", response_model=list[LeftOut])
async def left_out(ctx: Ctx, _: Annotated[Principal, Depends(viewer)]) -> list[dict[str, Any]]:
    """Sites the monitoring platforms' station query (T/CEC query_stations_info) leaves out
    for want of a fact (an address, coordinates, a connector's power or AC/DC), and which.
    The query answers every other site; fix these in the registry."""
    return [
        {"station_code": gap.code, "station_ids": list(gap.station_ids), "reason": gap.reason}
        for gap in await ctx.platform_queries.left_out()
    ]


@router.get("/stations/{station_id}/registry", response_model=RegistryRecord)
async def station_registry(
    station_id: str, ctx: Ctx, who: Annotated[Principal, Depends(scoped_viewer)]
) -> dict[str, Any]:
    """The station's registry record: the facts the plan counts (404 outside the caller's
    scope)."""
    await ensure_visible(ctx, who, station_id)
    return as_json(await ctx.registry.record(station_id))


@router.put(
    "/stations/{station_id}/registry",
    response_model=RegistryRecord,
    responses={201: {"model": RegistryRecord, "description": "a new station, registered"}},
)
async def put_station_registry(
    station_id: str,
    body: RegistryFacts,
    response: Response,
    ctx: Ctx,
    who: Annotated[Principal, Depends(operator)],
) -> dict[str, Any]:
    """Set every registry fact of one station, as one row of the registry CSV does: 200, or
    201 when the station is new. A fact the plan or the database refuses (a county not in the
    plan, coordinates outside China, a private station without a registered owner unit, site
    facts without a site) is a 422 listing each field, and nothing is stored. Audited."""
    result = await ctx.registry.put_record(station_id, body.model_dump(), by=who.name, at=utcnow())
    _reconfigure(ctx, result)
    if result.created:
        response.status_code = 201
    return as_json(await ctx.registry.record(station_id))


@router.patch("/stations/{station_id}/registry", response_model=RegistryRecord)
async def patch_station_registry(
    station_id: str,
    body: RegistryPatch,
    ctx: Ctx,
    who: Annotated[Principal, Depends(operator)],
) -> dict[str, Any]:
    """Change some registry facts of an existing station (null clears an optional one). The
    record they make with the stored facts is checked whole, by the same rules as PUT (422
    listing each field; nothing stored). Audited."""
    result = await ctx.registry.patch_record(
        station_id, body.model_dump(exclude_unset=True), by=who.name, at=utcnow()
    )
    _reconfigure(ctx, result)
    return as_json(await ctx.registry.record(station_id))


def _reconfigure(ctx: ApiContext, result: ImportResult) -> None:
    """Stations whose access mode or owner unit changed: connected ones are set up again."""
    for station_id in result.access_changed:
        ctx.enforcer.reconfigure(station_id)


@router.get("/stations/{station_id}/location", response_model=StationLocation)
async def station_location(
    station_id: str, ctx: Ctx, _: Annotated[Principal, Depends(viewer)]
) -> dict[str, Any]:
    """Where a station is: WGS-84 as registered, and GCJ-02 for Chinese map platforms."""
    found = await ctx.registry.location(station_id)
    lat, lon = found.pop("latitude"), found.pop("longitude")
    if lat is None or lon is None:
        raise NotFound(f"station {station_id} has no registered coordinates")
    glat, glon = wgs84_to_gcj02(lat, lon)
    return {
        **found,
        "wgs84": {"latitude": lat, "longitude": lon},
        "gcj02": {"latitude": glat, "longitude": glon},
    }


# --- places ---------------------------------------------------------------------------------


@router.post(
    "/places/import",
    response_model=PlacesResultOut,
    openapi_extra=_body("text/csv", "places CSV, or a JSON list (Content-Type: application/json)"),
)
async def import_places(
    request: Request,
    ctx: Ctx,
    _: Annotated[Principal, Depends(operator)],
    replace: Annotated[bool, Query(description="also delete places not in the upload")] = False,
    dry_run: Annotated[bool, Query(description="check only; store nothing")] = False,
) -> dict[str, Any]:
    """The places the plan counts (township seats, villages, trunk-road parking areas, highway
    service areas, tourist-road posts, RV camps, urban reference points): CSV with columns kind,
    name, county, township, latitude, longitude, small_car_spaces, or a JSON list of objects
    with those keys. Any bad row is a 422 listing every problem, and nothing is stored."""
    data = await _upload(request)
    content: bytes | list[Any] = data
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            parsed = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            line = exc.lineno if isinstance(exc, json.JSONDecodeError) else 1
            raise RowsInvalid([RowError(line, "", f"not JSON: {exc}")]) from None
        if not isinstance(parsed, list):
            raise RowsInvalid([RowError(1, "", "expected a JSON list of places")])
        content = parsed
    result = await ctx.registry.import_places_data(content, replace=replace, dry_run=dry_run)
    return {**result, "dry_run": dry_run}


@router.get("/places", response_model=list[PlaceOut])
async def list_places(
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    kind: Annotated[str | None, Query(pattern=f"^({'|'.join(PLACE_KINDS)})$")] = None,
    county: Annotated[str | None, Query(description="Chinese or English name")] = None,
) -> list[dict[str, Any]]:
    if county is not None:
        county = (await ctx.registry.county_of())(county) or county
    return await ctx.registry.places(kind=kind, county=county)


# --- EV registrations -----------------------------------------------------------------------


@router.put("/ev-registrations", response_model=list[EvCountOut])
async def put_ev_registrations(
    body: Annotated[list[EvCount], Body(max_length=100_000)],
    ctx: Ctx,
    _: Annotated[Principal, Depends(operator)],
) -> list[dict[str, Any]]:
    """Set EV registration counts per county and date (others are kept). Unknown counties are
    a 422 listing them (item numbers from 1), and nothing is stored."""
    county_of = await ctx.registry.county_of()
    problems: list[RowError] = []
    counts: dict[tuple[str, date], int] = {}
    first: dict[tuple[str, date], int] = {}
    for number, item in enumerate(body, start=1):
        county = county_of(item.county)
        if county is None:
            problems.append(RowError(number, "county", f"unknown county {item.county!r}"))
            continue
        key = (county, item.as_of)
        if key in first:
            problems.append(
                RowError(number, "as_of", f"{county} {item.as_of} is also item {first[key]}")
            )
            continue
        first[key] = number
        counts[key] = item.evs
    if problems:
        raise RowsInvalid(problems)
    await ctx.registry.put_ev_registrations([(c, d, n) for (c, d), n in counts.items()])
    return await ctx.registry.ev_registrations()


@router.get("/ev-registrations", response_model=list[EvCountOut])
async def ev_registrations(
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    county: Annotated[str | None, Query(description="Chinese or English name")] = None,
) -> list[dict[str, Any]]:
    if county is not None:
        county = (await ctx.registry.county_of())(county) or county
    return await ctx.registry.ev_registrations(county)


# --- plans ----------------------------------------------------------------------------------


@router.post("/plans", response_model=PlanSummary, status_code=201)
async def load_plan(
    body: PlanLoad,
    response: Response,
    ctx: Ctx,
    who: Annotated[Principal, Depends(operator)],
) -> dict[str, Any]:
    """Load a plan (targets document in the default plan's format): 201 when new, 200 when it
    replaced the plan of that id. `activate` puts it in force. A document the plan reader
    refuses is a 422 listing every problem."""
    try:
        summary, created = await ctx.registry.load_plan(
            body.plan_id, body.document, activate=body.activate, loaded_by=who.name
        )
    except PlanError as exc:
        raise PlanRejected(exc.problems) from None
    if not created:
        response.status_code = 200
    return summary


@router.get("/plans", response_model=list[PlanSummary])
async def list_plans(ctx: Ctx, _: Annotated[Principal, Depends(viewer)]) -> list[dict[str, Any]]:
    return await ctx.registry.plans()


@router.get("/plans/active", response_model=PlanOut)
async def active_plan(ctx: Ctx, _: Annotated[Principal, Depends(viewer)]) -> dict[str, Any]:
    """The plan in force, with its document."""
    plan = await ctx.registry.active_plan()
    if plan is None:
        raise NotFound("no plan is active")
    return plan
