"""API keys (whole-network admins only): create (optionally scoped), list, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from csms.api.auth import Principal, admin, context
from csms.api.context import ApiContext
from csms.api.schemas import MAX_ID, Key, KeyCreate, NewKey, scope_of
from csms.domain.api_key import key_hash, new_key
from csms.domain.scope import scope_json
from csms.errors import NotFound

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])
Ctx = Annotated[ApiContext, Depends(context)]


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "scope": scope_json(row["scope"])}


@router.get("", response_model=list[Key])
async def list_keys(ctx: Ctx, _: Annotated[Principal, Depends(admin)]) -> list[dict[str, Any]]:
    return [_out(k) for k in await ctx.keys.all()]


@router.post("", status_code=201, response_model=NewKey)
async def create_key(
    body: KeyCreate, ctx: Ctx, _: Annotated[Principal, Depends(admin)]
) -> dict[str, Any]:
    """A new key, shown once; with a scope it sees only those counties' or that owner unit's
    stations, on the routes that are scope-aware (every other route answers it 403)."""
    key = new_key()
    row = await ctx.keys.create(body.name, body.role, key_hash(key), scope_of(body.scope))
    return {**_out(row), "key": key}


@router.delete("/{key_id}", status_code=204)
async def revoke_key(key_id: int, ctx: Ctx, _: Annotated[Principal, Depends(admin)]) -> None:
    if not 0 < key_id <= MAX_ID or not await ctx.keys.revoke(key_id):
        raise NotFound(f"no live key {key_id}")
