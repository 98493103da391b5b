"""The operator audit: stations decommissioned or re-commissioned, tokens deleted or revived,
operator accounts changed, signed in and out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from csms.api.auth import Principal, context, viewer
from csms.api.context import ApiContext
from csms.api.schemas import MAX_OFFSET, OperatorAction

router = APIRouter(prefix="/api/v1", tags=["audit"])
Ctx = Annotated[ApiContext, Depends(context)]


@router.get("/audit", response_model=list[OperatorAction])
async def operator_actions(
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    subject_kind: Literal["station", "token", "user"] | None = None,
    subject_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """Who did what to which station, token or user account, newest first (commands sent to
    stations are in `/api/v1/commands`)."""
    return await ctx.audit.search(
        subject_kind=subject_kind, subject_id=subject_id, limit=limit, offset=offset
    )
