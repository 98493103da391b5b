"""Operator accounts (whole-network admins only): list, create, change, delete. Every change
goes to the audit (`GET /api/v1/audit?subject_kind=user`)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from csms.api.auth import Principal, admin, context
from csms.api.context import ApiContext
from csms.api.schemas import MAX_ID, scope_of
from csms.api.user_schemas import User, UserCreate, UserUpdate
from csms.clock import utcnow
from csms.domain.scope import scope_json
from csms.domain.user import hash_user_password
from csms.errors import Conflict, NotFound
from csms.store.users import UNCHANGED

router = APIRouter(prefix="/api/v1/users", tags=["users"])
Ctx = Annotated[ApiContext, Depends(context)]
Admin = Annotated[Principal, Depends(admin)]


def _out(user: dict[str, Any]) -> dict[str, Any]:
    return {**user, "scope": scope_json(user["scope"])}


@router.get("", response_model=list[User])
async def list_users(ctx: Ctx, _: Admin) -> list[dict[str, Any]]:
    return [_out(u) for u in await ctx.users.all()]


@router.post("", status_code=201, response_model=User, responses={409: {"description": "taken"}})
async def create_user(body: UserCreate, ctx: Ctx, who: Admin) -> dict[str, Any]:
    """A new account; the login is unique whatever its case (409 when taken)."""
    password_hash = await asyncio.to_thread(hash_user_password, body.password)
    user = await ctx.users.create(
        login=body.login,
        display_name=body.display_name,
        role=body.role,
        password_hash=password_hash,
        scope=scope_of(body.scope),
        by=who.name,
        at=utcnow(),
    )
    return _out(user)


@router.get("/{user_id}", response_model=User)
async def get_user(user_id: int, ctx: Ctx, _: Admin) -> dict[str, Any]:
    user = await ctx.users.get(user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return _out(user)


@router.patch("/{user_id}", response_model=User)
async def update_user(user_id: int, body: UserUpdate, ctx: Ctx, who: Admin) -> dict[str, Any]:
    """Change role, scope (null: whole network), display name, disabled, or reset the
    password. Disabling and a reset end the user's sessions; a new role or scope holds from
    their next request. Admins cannot disable themselves (409)."""
    if not 0 < user_id <= MAX_ID:
        raise NotFound(f"user {user_id} does not exist")
    given = body.model_fields_set
    if body.disabled and _is(who, user_id):
        raise Conflict("you cannot disable your own account")
    password_hash = (
        await asyncio.to_thread(hash_user_password, body.password)
        if body.password is not None
        else None
    )
    user = await ctx.users.update(
        user_id,
        role=body.role,
        display_name=body.display_name if "display_name" in given else UNCHANGED,
        scope=scope_of(body.scope) if "scope" in given else UNCHANGED,
        disabled=body.disabled,
        password_hash=password_hash,
        by=who.name,
        at=utcnow(),
    )
    return _out(user)


@router.delete("/{user_id}", status_code=204)
async def delete_user(user_id: int, ctx: Ctx, who: Admin) -> None:
    """Delete the account and end its sessions; the audit keeps what it did."""
    if not 0 < user_id <= MAX_ID:
        raise NotFound(f"user {user_id} does not exist")
    if _is(who, user_id):
        raise Conflict("you cannot delete your own account")
    await ctx.users.delete(user_id, by=who.name, at=utcnow())


def _is(who: Principal, user_id: int) -> bool:
    return who.session is not None and who.session.user_id == user_id
