"""The operator audit: stations decommissioned or re-commissioned, id tokens created, changed,
blocked, deleted or revived, operator accounts changed, signed in and out. Whole-network
accounts only: the audit names every station and account."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from csms.api.auth import Principal, context, viewer
from csms.api.bounds import Instant
from csms.api.context import ApiContext
from csms.api.schemas import MAX_OFFSET, OperatorAction
from csms.errors import InvalidInput

router = APIRouter(prefix="/api/v1", tags=["audit"])
Ctx = Annotated[ApiContext, Depends(context)]


@router.get("/audit", response_model=list[OperatorAction])
async def operator_actions(
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    subject_kind: Literal["station", "token", "user"] | None = None,
    subject_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=300,
            description="as recorded (user:3:alice, key:2:ci, system) or a login or key name",
        ),
    ] = None,
    since: Annotated[
        Instant | None, Query(description="at or after (ISO 8601 with a UTC offset)")
    ] = None,
    until: Annotated[
        Instant | None, Query(description="before (ISO 8601 with a UTC offset)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """Who did what to which station, token or user account, newest first (commands sent to
    stations are in `/api/v1/commands`), by whom (`actor`) and when (`since`, `until`)."""
    if since is not None and until is not None and until < since:
        raise InvalidInput("until is before since")
    return await ctx.audit.search(
        subject_kind=subject_kind,
        subject_id=subject_id,
        actor=actor,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
