"""Bearer-key authentication and role checks for every API route except health."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from csms.api.context import ApiContext
from csms.domain.api_key import Role, key_hash

_bearer = HTTPBearer(auto_error=False, description="an API key from `csms keys create`")


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting keys whose role is at least `role` (401 unknown, 403 too weak)."""

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                401, "missing bearer API key", headers={"WWW-Authenticate": "Bearer"}
            )
        ctx = context(request)
        digest = key_hash(credentials.credentials)
        principal: Principal | None = None
        if ctx.bootstrap_admin_hash and hmac.compare_digest(digest, ctx.bootstrap_admin_hash):
            principal = Principal("bootstrap-admin", Role.ADMIN)
        else:
            found = await ctx.keys.role_for(digest)
            if found is not None:
                key_id, name, key_role = found
                principal = Principal(f"key:{key_id}:{name}", Role(key_role))
        if principal is None:
            raise HTTPException(
                401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if not principal.role.allows(role):
            raise HTTPException(
                403, f"this needs the {role.value} role; the key is {principal.role.value}"
            )
        return principal

    return check


viewer = require(Role.VIEWER)
operator = require(Role.OPERATOR)
admin = require(Role.ADMIN)
