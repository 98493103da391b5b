"""Reads of what 2.0.1 stations reported: device model, reports per request, monitors,
display messages, EV charging needs/schedules and firmware publication."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from csms.api.auth import Principal, context, viewer
from csms.api.context import ApiContext
from csms.api.report_schemas import (
    DeviceVariable,
    EvCharging,
    FirmwarePublication,
    Report,
    ReportKindName,
    ReportSummary,
    StationDisplayMessage,
    StationMonitor,
)
from csms.api.schemas import MAX_OFFSET
from csms.domain.reports import ReportKind
from csms.errors import NotFound

router = APIRouter(prefix="/api/v1/stations", tags=["station reports"])
Ctx = Annotated[ApiContext, Depends(context)]
Viewer = Annotated[Principal, Depends(viewer)]
Limit = Annotated[int, Query(ge=1, le=10_000)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "unknown station"}}


async def _known(ctx: ApiContext, station_id: str) -> None:
    if await ctx.stations.get(station_id) is None:
        raise NotFound(f"station {station_id} does not exist")


@router.get("/{station_id}/device-model", response_model=list[DeviceVariable], responses=NOT_FOUND)
async def device_model(
    station_id: str,
    ctx: Ctx,
    _: Viewer,
    component: Annotated[str | None, Query(max_length=50)] = None,
    variable: Annotated[str | None, Query(max_length=50)] = None,
    evse_id: Annotated[int | None, Query(ge=-1, le=2**31 - 1)] = None,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """The 2.0.1 device model as the station's NotifyReports built it (get-base-report or
    get-report fill it in), one row per variable attribute."""
    await _known(ctx, station_id)
    return await ctx.notifications.device_model(
        station_id,
        component=component,
        variable=variable,
        evse_id=evse_id,
        limit=limit,
        offset=offset,
    )


@router.get("/{station_id}/reports", response_model=list[ReportSummary], responses=NOT_FOUND)
async def reports(
    station_id: str,
    ctx: Ctx,
    _: Viewer,
    kind: ReportKindName | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Requests answered in parts (device model, monitoring, customer information, display
    messages, charging profiles), latest first, with where each stands."""
    await _known(ctx, station_id)
    wanted = None if kind is None else ReportKind(kind)
    return await ctx.notifications.reports(station_id, wanted, limit, offset)


@router.get(
    "/{station_id}/reports/{kind}/{request_id}",
    response_model=Report,
    responses={404: {"description": "unknown station or report"}},
)
async def report(
    station_id: str,
    kind: ReportKindName,
    request_id: Annotated[int, Path(ge=-(2**31), le=2**31 - 1)],
    ctx: Ctx,
    _: Viewer,
) -> dict[str, Any]:
    """One request's report, its parts assembled in seqNo order; `state` is complete once the
    last part (tbc=false) is in. The request id is in the command's answer (`request`)."""
    return await ctx.notifications.report(station_id, ReportKind(kind), request_id)


@router.get("/{station_id}/monitors", response_model=list[StationMonitor], responses=NOT_FOUND)
async def monitors(station_id: str, ctx: Ctx, _: Viewer) -> list[dict[str, Any]]:
    """Variable monitors as monitoring reports listed them and accepted commands changed them."""
    await _known(ctx, station_id)
    return await ctx.notifications.monitors(station_id)


@router.get(
    "/{station_id}/display-messages",
    response_model=list[StationDisplayMessage],
    responses=NOT_FOUND,
)
async def display_messages(station_id: str, ctx: Ctx, _: Viewer) -> list[dict[str, Any]]:
    """Display messages as reports listed them and accepted commands set or cleared them."""
    await _known(ctx, station_id)
    return await ctx.notifications.display_messages(station_id)


@router.get("/{station_id}/ev-charging", response_model=list[EvCharging], responses=NOT_FOUND)
async def ev_charging(station_id: str, ctx: Ctx, _: Viewer) -> list[dict[str, Any]]:
    """Per EVSE, the last charging needs and planned schedule an ISO 15118 EV sent."""
    await _known(ctx, station_id)
    return await ctx.notifications.ev_charging(station_id)


@router.get(
    "/{station_id}/firmware-publications",
    response_model=list[FirmwarePublication],
    responses=NOT_FOUND,
)
async def firmware_publications(station_id: str, ctx: Ctx, _: Viewer) -> list[dict[str, Any]]:
    """A local controller's firmware publication (PublishFirmware), latest status per request."""
    await _known(ctx, station_id)
    return await ctx.notifications.firmware_publications(station_id)
