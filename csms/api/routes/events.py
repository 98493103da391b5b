"""The live event feed as Server-Sent Events, and Prometheus metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from csms.api.auth import Principal, context, viewer
from csms.api.context import ApiContext
from csms.services.events import Event

router = APIRouter(tags=["events"])
Ctx = Annotated[ApiContext, Depends(context)]
KEEPALIVE_SECONDS = 15.0


@router.get("/api/v1/events", response_class=StreamingResponse)
async def events(
    request: Request,
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    station_id: str | None = None,
    types: Annotated[
        str | None, Query(description="comma-separated, e.g. station.connected,status.changed")
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: station connected/disconnected/booted, status changes, transactions
    started/ended, meter updates (at most one per EVSE per 10 s)."""
    wanted = {t.strip() for t in types.split(",")} if types else None

    def accept(event: Event) -> bool:
        return (station_id is None or event.station_id == station_id) and (
            wanted is None or event.type in wanted
        )

    async def stream() -> AsyncIterator[str]:
        with ctx.bus.subscribe(accept) as subscription:
            yield ": connected\n\n"
            reported = 0
            while not await request.is_disconnected():
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
