"""Id tokens: create (or re-create), list, read, update, block/unblock, delete; every change
is in the operator audit with its actor. Whole-network accounts only: tokens belong to no
station, so no scope can select some of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from csms.api.auth import Principal, context, operator, viewer
from csms.api.context import ApiContext
from csms.api.schemas import MAX_OFFSET, Token, TokenCreate, TokenUpdate
from csms.clock import utcnow
from csms.domain.token import IdToken
from csms.errors import Conflict, InvalidInput, NotFound

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])
Ctx = Annotated[ApiContext, Depends(context)]


@router.get("", response_model=list[Token])
async def list_tokens(
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    blocked: bool | None = None,
    group_id: str | None = None,
    include_deleted: Annotated[
        bool, Query(description="also list deleted tokens (left out by default)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[IdToken]:
    return await ctx.tokens.search(
        blocked=blocked,
        group_id=group_id,
        include_deleted=include_deleted,
        limit=limit,
        offset=offset,
    )


@router.post("", status_code=201, response_model=Token)
async def create_token(
    body: TokenCreate, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> IdToken:
    """Create a token; the id of a deleted one may be used again (the old sessions keep
    naming it, and the deletion stays in the audit)."""
    token = IdToken(body.id_token, body.token_type, body.group_id, body.expires_at, body.blocked)
    created = await ctx.tokens.create(token, body.note, by=who.name, at=utcnow())
    if created is None:
        raise Conflict(f"id token {body.id_token} already exists")
    return created


@router.get("/{id_token}", response_model=Token)
async def get_token(id_token: str, ctx: Ctx, _: Annotated[Principal, Depends(viewer)]) -> IdToken:
    """The token; a deleted one too, with `deleted_at`."""
    token = await ctx.tokens.find(id_token)
    if token is None:
        raise NotFound(f"id token {id_token} does not exist")
    return token


@router.patch("/{id_token}", response_model=Token)
async def update_token(
    id_token: str, body: TokenUpdate, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> IdToken:
    if (body.clear_group and body.group_id) or (body.clear_expiry and body.expires_at):
        raise InvalidInput("give a new value or clear it, not both")
    token = await ctx.tokens.get(id_token)
    if token is None:
        raise NotFound(f"id token {id_token} does not exist (or was deleted: create it again)")
    updated = IdToken(
        token.id_token,
        body.token_type or token.token_type,
        None if body.clear_group else (body.group_id or token.group_id),
        None if body.clear_expiry else (body.expires_at or token.expires_at),
        token.blocked if body.blocked is None else body.blocked,
    )
    stored = await ctx.tokens.update(updated, body.note, by=who.name, at=utcnow())
    if stored is None:  # deleted since it was read
        raise NotFound(f"id token {id_token} does not exist (or was deleted: create it again)")
    return stored


@router.post("/{id_token}/block", response_model=Token)
async def block(id_token: str, ctx: Ctx, who: Annotated[Principal, Depends(operator)]) -> IdToken:
    return await ctx.tokens.set_blocked(id_token, True, by=who.name, at=utcnow())


@router.post("/{id_token}/unblock", response_model=Token)
async def unblock(id_token: str, ctx: Ctx, who: Annotated[Principal, Depends(operator)]) -> IdToken:
    return await ctx.tokens.set_blocked(id_token, False, by=who.name, at=utcnow())


@router.delete("/{id_token}", response_model=Token)
async def delete_token(
    id_token: str, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> IdToken:
    """Delete the token: Authorize and starts answer Invalid from now on, as for an unknown
    token; its sessions and CDRs keep naming it. Shared piles whose local list held it
    (directly or through its group) are sent a new list. A station's authorization cache may
    still start a session offline with it; online, its start is answered Invalid, which a
    station set to stop on an invalid id (1.6 StopTransactionOnInvalidId, 2.0.1
    TxCtrlr.StopTxOnInvalidId) ends at once."""
    deleted = await ctx.tokens.delete(id_token, by=who.name, at=utcnow())
    for station_id in await ctx.sharing.stations_listing(id_token, deleted.group_id):
        ctx.enforcer.reconfigure(station_id)
    return deleted
