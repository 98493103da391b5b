"""Monitoring platforms (T/CEC 102): settings (admin), outbox, push health, resync."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from csms.api.auth import Principal, admin, context, operator, viewer
from csms.api.context import ApiContext
from csms.api.platform_schemas import (
    KIND,
    NewPlatform,
    OutboxRecord,
    Platform,
    PlatformCreate,
    PlatformHealth,
    PlatformUpdate,
    StatsRequest,
)
from csms.api.schemas import MAX_ID, MAX_OFFSET
from csms.clock import utcnow
from csms.errors import InvalidInput, NotFound
from csms.tcec.messages import loads
from csms.tcec.render import storable

router = APIRouter(prefix="/api/v1/platforms", tags=["platforms"])
Ctx = Annotated[ApiContext, Depends(context)]
Viewer = Annotated[Principal, Depends(viewer)]
Operator = Annotated[Principal, Depends(operator)]
Admin = Annotated[Principal, Depends(admin)]


@router.get("", response_model=list[Platform])
async def list_platforms(ctx: Ctx, _: Operator) -> list[dict[str, Any]]:
    return await ctx.platforms.listed()


@router.get("/health", response_model=list[PlatformHealth])
async def push_health(ctx: Ctx, _: Viewer) -> list[dict[str, Any]]:
    """Per platform: last success and failure, backlog, oldest pending record, token."""
    return await ctx.platforms.health()


@router.post("", status_code=201, response_model=NewPlatform, response_model_exclude_none=True)
async def create_platform(body: PlatformCreate, ctx: Ctx, _: Admin) -> dict[str, Any]:
    fields = body.model_dump(exclude_none=True, exclude={"id"})
    return await ctx.platforms.create(body.id, fields)


@router.get("/{platform_id}", response_model=Platform)
async def get_platform(platform_id: str, ctx: Ctx, _: Operator) -> dict[str, Any]:
    return await ctx.platforms.shown(platform_id)


@router.patch("/{platform_id}", response_model=NewPlatform, response_model_exclude_none=True)
async def update_platform(
    platform_id: str, body: PlatformUpdate, ctx: Ctx, _: Admin
) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    return await ctx.platforms.update(platform_id, fields)


@router.delete("/{platform_id}", status_code=204)
async def delete_platform(platform_id: str, ctx: Ctx, _: Admin) -> None:
    await ctx.platforms.delete(platform_id)


@router.get("/{platform_id}/outbox", response_model=list[OutboxRecord])
async def outbox(
    platform_id: str,
    ctx: Ctx,
    _: Operator,
    state: Annotated[str | None, Query(pattern="^(pending|sent|failed)$")] = None,
    kind: KIND | None = None,
    stream: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """Records newest first: pending (with the last Ret/Msg while retrying), sent, failed."""
    await ctx.platforms.store.get(platform_id)
    rows = await ctx.platforms.outbox.search(
        platform_id, state=state, kind=kind, stream=stream, limit=limit, offset=offset
    )
    for row in rows:
        row["data"] = storable(loads(row["data"]))
    return rows


@router.post("/{platform_id}/outbox/{record_id}/retry", response_model=OutboxRecord)
async def retry_record(platform_id: str, record_id: int, ctx: Ctx, _: Operator) -> dict[str, Any]:
    """Send a failed record again (after its cause was fixed)."""
    if not 0 < record_id <= MAX_ID:
        raise NotFound(f"no outbox record {record_id}")
    row = await ctx.platforms.outbox.requeue(platform_id, record_id, utcnow())
    ctx.platforms.poke(platform_id)
    row["data"] = storable(loads(row["data"]))
    return row


@router.post("/{platform_id}/resync")
async def resync(platform_id: str, ctx: Ctx, _: Admin) -> dict[str, int]:
    """Queue every site's information and every connector's status for this platform."""
    await ctx.platforms.store.get(platform_id)
    return await ctx.platforms.resync(platform_id)


@router.post("/{platform_id}/stats")
async def queue_stats(platform_id: str, body: StatsRequest, ctx: Ctx, _: Admin) -> dict[str, int]:
    """Queue daily statistics for a period for this platform (each period once per platform;
    other platforms are not touched)."""
    platform = await ctx.platforms.store.get(platform_id)
    if "station_stats" not in platform["kinds"]:
        raise InvalidInput(f"platform {platform_id} does not take station_stats")
    try:
        first, last = date.fromisoformat(body.first), date.fromisoformat(body.last)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if last < first or (last - first).days > 366:
        raise InvalidInput("last must be on or after first, within a year")
    queued = await ctx.platforms.queue_stats(first, last, platform_id)
    ctx.platforms.poke(platform_id)
    return {"station_stats": queued}
