"""Bearer-key authentication and role checks for every API route except health."""

from __future__ import annotations

import hmac
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from csms.api.context import ApiContext
from csms.client_address import client_address
from csms.domain.api_key import Role, key_hash
from csms.services.auth_limits import AuthLimits

_bearer = HTTPBearer(auto_error=False, description="an API key from `csms keys create`")


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting keys whose role is at least `role` (401 unknown, 403 too weak).

    Wrong keys count per source address (csms.services.auth_limits): once an address is locked
    out, its wrong keys get 429 with Retry-After until the lockout ends. A right key is always
    served: keys are 256-bit random, so the lockout guards the log and the database, not the
    keys, and one client behind a shared address (an office NAT, a proxy we do not trust)
    must not lock the operators out. A missing key is no guess and not counted.
    """

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                401, "missing bearer API key", headers={"WWW-Authenticate": "Bearer"}
            )
        ctx = context(request)
        limits: AuthLimits = request.app.state.key_limits
        source = client_address(
            request.client.host if request.client else None,
            request.headers.getlist("X-Forwarded-For"),
            ctx.settings.trusted_proxies,
        )
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
            wait = limits.retry_after(source)
            if wait > 0:
                seconds = math.ceil(wait)
                raise HTTPException(
                    429,
                    f"too many wrong API keys from this address; retry in {seconds} s",
                    headers={"Retry-After": str(seconds)},
                )
            limits.failed(source)
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
