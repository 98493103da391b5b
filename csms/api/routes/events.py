"""The live event feed as Server-Sent Events, and Prometheus metrics.

The feed is scope-aware: a county- or owner-unit-scoped account gets the events of its
stations only. Every SCOPE_REFRESH_SECONDS the key or session is read again (the feed ends once
it is revoked or ended; a changed scope holds from then on) and so are the scope's stations, so
a station moved into or out of the scope counts from then on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from csms.api.auth import Principal, context, read_again, scoped_viewer
from csms.api.context import ApiContext
from csms.clock import monotonic
from csms.services.events import Event

router = APIRouter(tags=["events"])
Ctx = Annotated[ApiContext, Depends(context)]
KEEPALIVE_SECONDS = 15.0
SCOPE_REFRESH_SECONDS = 30.0


@router.get("/api/v1/events", response_class=StreamingResponse)
async def events(
    request: Request,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    station_id: str | None = None,
    types: Annotated[
        str | None, Query(description="comma-separated, e.g. station.connected,status.changed")
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: station connected/disconnected/booted, status changes, transactions
    started/ended, meter updates (at most one per EVSE per 10 s); a scoped account gets those
    of its stations only."""
    wanted = {t.strip() for t in types.split(",")} if types else None
    # the stations the account may hear of (None: all), refreshed as the feed runs
    visible: list[frozenset[str] | None] = [
        None if who.scope is None else await ctx.stations.ids_in_scope(who.scope)
    ]

    async def still_allowed() -> bool:
        """The key or session read again: False once it ended; its scope as it is now."""
        now = await read_again(request)
        if now is None:
            return False
        visible[0] = None if now.scope is None else await ctx.stations.ids_in_scope(now.scope)
        return True

    def accept(event: Event) -> bool:
        seen = visible[0]
        return (
            (station_id is None or event.station_id == station_id)
            and (wanted is None or event.type in wanted)
            and (seen is None or event.station_id in seen)
        )

    async def stream() -> AsyncIterator[str]:
        with ctx.bus.subscribe(accept) as subscription:
            yield ": connected\n\n"
            reported = 0
            read_at = monotonic()
            while not await request.is_disconnected():
                if monotonic() - read_at > SCOPE_REFRESH_SECONDS:
                    if not await still_allowed():
                        return
                    read_at = monotonic()
                event = await subscription.next(KEEPALIVE_SECONDS)
                if subscription.dropped > reported:
                    missed = subscription.dropped - reported
                    reported = subscription.dropped
                    yield f"event: lagged\ndata: {json.dumps({'missed': missed})}\n\n"
                if event is None:
                    yield ": keepalive\n\n"
                    continue
                body = json.dumps(event.as_json(), ensure_ascii=False)
                yield f"event: {event.type}\ndata: {body}\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus scrape endpoint (unauthenticated, like health: bind it to a private network)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
