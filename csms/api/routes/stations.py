"""Stations: list, detail with connectors, create/update, block/unblock, decommission."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from csms.api.auth import Principal, admin, context, operator, scoped_viewer
from csms.api.context import ApiContext
from csms.api.schemas import (
    MAX_OFFSET,
    Station,
    StationCreate,
    StationDecommissioned,
    StationUpdate,
)
from csms.api.scope import visible_station
from csms.clock import utcnow
from csms.domain.api_key import Role
from csms.domain.password import hash_password
from csms.domain.station import AdminState
from csms.errors import Conflict, NotFound
from csms.services.events import STATION_DECOMMISSIONED
from csms.store.stations import METADATA_COLUMNS

router = APIRouter(prefix="/api/v1/stations", tags=["stations"])
Ctx = Annotated[ApiContext, Depends(context)]
_METADATA = set(METADATA_COLUMNS)
Reason = Annotated[str | None, Query(min_length=1, max_length=500, description="for the audit")]


@router.get("", response_model=list[Station])
async def list_stations(
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    connected: bool | None = None,
    status: Annotated[str | None, Query(description="any connector has this status")] = None,
    county: str | None = None,
    admin_state: Annotated[str | None, Query(pattern="^(active|pending|blocked)$")] = None,
    include_decommissioned: Annotated[
        bool, Query(description="also list decommissioned stations (left out by default)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    return await ctx.stations.search(
        connected=connected,
        status=status,
        county=county,
        admin_state=admin_state,
        include_decommissioned=include_decommissioned,
        limit=limit,
        offset=offset,
        scope=who.scope,
    )


@router.get("/{station_id}")
async def station_detail(
    station_id: str, ctx: Ctx, who: Annotated[Principal, Depends(scoped_viewer)]
) -> dict[str, Any]:
    """The station with its connectors' current status and its open transactions; a
    decommissioned one too (its history stays readable). 404 outside the caller's scope."""
    station = await visible_station(ctx, who, station_id)
    station = Station.model_validate(station).model_dump()
    station["connectors"] = await ctx.stations.connectors(station_id)
    station["open_transactions"] = [
        t["id"] for t in await ctx.transactions.open_for_station(station_id)
    ]
    return station


def _needs_admin(body: StationCreate | StationUpdate) -> bool:
    fields = body.model_fields_set
    return bool(fields & {"password", "security_profile", "clear_password"})


@router.get("/{station_id}/messages")
async def station_messages(
    station_id: str,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    action: Annotated[
        str | None, Query(description="e.g. SecurityEventNotification, NotifyEvent")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """What the station reported besides status and transactions (security events, data
    transfers, firmware/diagnostics/log progress, device reports, ...), newest first, verbatim.
    404 outside the caller's scope."""
    await visible_station(ctx, who, station_id)
    return await ctx.events.recent(station_id, action, limit, offset)


@router.post("", status_code=201, response_model=Station)
async def create_station(
    body: StationCreate, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    """Register a station; credentials (password, security profile) need the admin role."""
    if _needs_admin(body) and not who.role.allows(Role.ADMIN):
        raise HTTPException(403, "setting station credentials needs the admin role")
    _, created = await ctx.stations.create(
        body.id,
        password_hash=await _hash(body.password),
        admin_state=AdminState(body.admin_state),
        security_profile=body.security_profile,
    )
    if not created:
        existing = await ctx.stations.get(body.id)
        if existing is not None and existing["decommissioned_at"] is not None:
            raise Conflict(
                f"station {body.id} exists and is decommissioned: "
                f"POST /api/v1/stations/{body.id}/recommission to bring it back"
            )
        raise Conflict(f"station {body.id} already exists")
    await ctx.stations.update_metadata(body.id, body.model_dump(include=_METADATA))
    return await _station(ctx, body.id)


@router.patch("/{station_id}", response_model=Station)
async def update_station(
    station_id: str, body: StationUpdate, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    if _needs_admin(body) and not who.role.allows(Role.ADMIN):
        raise HTTPException(403, "changing station credentials needs the admin role")
    if body.password and body.clear_password:
        raise HTTPException(422, "give either password or clear_password")
    await _station(ctx, station_id)
    if body.model_fields_set & {"password", "clear_password", "security_profile", "admin_state"}:
        await ctx.stations.update_auth(
            station_id,
            password_hash=await _hash(body.password),
            clear_password=body.clear_password,
            admin_state=AdminState(body.admin_state) if body.admin_state else None,
            security_profile=body.security_profile,
        )
    metadata = body.model_dump(include=_METADATA & body.model_fields_set)
    await ctx.stations.update_metadata(station_id, metadata)
    return await _station(ctx, station_id)


@router.post("/{station_id}/block", response_model=Station)
async def block(
    station_id: str, ctx: Ctx, _: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    """BootNotification answers Rejected from now on; a connected station is told at its next
    boot, and meanwhile its non-transaction messages get SecurityError."""
    await ctx.stations.update_auth(station_id, admin_state=AdminState.BLOCKED)
    return await _station(ctx, station_id)


@router.post("/{station_id}/unblock", response_model=Station)
async def unblock(
    station_id: str, ctx: Ctx, _: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    await ctx.stations.update_auth(station_id, admin_state=AdminState.ACTIVE)
    return await _station(ctx, station_id)


@router.delete("/{station_id}", response_model=StationDecommissioned)
async def decommission(
    station_id: str,
    ctx: Ctx,
    who: Annotated[Principal, Depends(admin)],
    force: Annotated[
        bool, Query(description="also with open transactions (they stay open)")
    ] = False,
    reason: Reason = None,
) -> dict[str, Any]:
    """Decommission the station: its socket is closed, the handshake refuses it (HTTP 403),
    lists and the plan's counts leave it out from today; its transactions, CDRs, meter data,
    messages and platform records are kept. 409 with open transactions unless `force`."""
    open_ids = await ctx.stations.decommission(
        station_id, by=who.name, reason=reason, force=force, at=utcnow()
    )
    ctx.bus.publish(STATION_DECOMMISSIONED, station_id, by=who.name, reason=reason)
    return {**await _station(ctx, station_id), "open_transactions": open_ids}


@router.post("/{station_id}/recommission", response_model=Station)
async def recommission(
    station_id: str, ctx: Ctx, who: Annotated[Principal, Depends(admin)], reason: Reason = None
) -> dict[str, Any]:
    """Put a decommissioned station back in service: it may connect again, with the
    credentials and administrative state it had."""
    await ctx.stations.recommission(station_id, by=who.name, reason=reason, at=utcnow())
    ctx.bus.publish("station.recommissioned", station_id, by=who.name, reason=reason)
    return await _station(ctx, station_id)


async def _hash(password: str | None) -> str | None:
    """scrypt takes ~50 ms of CPU: off the event loop, so stations are not kept waiting."""
    return None if password is None else await asyncio.to_thread(hash_password, password)


async def _station(ctx: ApiContext, station_id: str) -> dict[str, Any]:
    station = await ctx.stations.get(station_id)
    if station is None:
        raise NotFound(f"station {station_id} does not exist")
    return station
