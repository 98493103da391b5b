"""Authentication and role and scope checks for every API route except health and sign-in.

A request authenticates with a Bearer API key or with the session cookie of a signed-in
account (csms.api.routes.session). Browsers send cookies on their own, so a cookie-
authenticated write (POST, PUT, PATCH, DELETE) must also carry the session's CSRF token in
`X-CSRF-Token`, which another site's page cannot read; a Bearer request needs none.

Scopes are denied by default: a principal with a scope (some counties, one owner unit) passes
only the dependencies made with `scoped=True`, on routes that filter by scope
(csms.api.scope); every other route answers it 403.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from csms.api.context import ApiContext
from csms.client_address import client_address
from csms.clock import utcnow
from csms.domain.api_key import Role, key_hash
from csms.domain.scope import Scope
from csms.services.auth_limits import AuthLimits
from csms.store.users import SessionUser

_bearer = HTTPBearer(auto_error=False, description="an API key from `csms keys create`")

SESSION_COOKIE = "csms_session"
CSRF_COOKIE = "csms_csrf"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WHOLE_NETWORK_NEEDED = "this needs a whole-network account"
# a session token is 43 characters; anything much longer is no token of ours
_MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    scope: Scope | None = None  # None: the whole network
    session: SessionUser | None = None  # set when signed in with the session cookie


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def source_of(request: Request) -> str | None:
    """The client's address, as the failure limits count it."""
    return client_address(
        request.client.host if request.client else None,
        request.headers.getlist("X-Forwarded-For"),
        context(request).settings.trusted_proxies,
    )


def require(role: Role, *, scoped: bool = False) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting keys and signed-in accounts whose role is at least `role` (401
    unknown, 403 too weak); with a scope only when `scoped` (the route filters by it).

    Wrong keys count per source address (csms.services.auth_limits): once an address is locked
    out, its wrong keys get 429 with Retry-After until the lockout ends. A right key is always
    served: keys are 256-bit random, so the lockout guards the log and the database, not the
    keys, and one client behind a shared address (an office NAT, a proxy we do not trust)
    must not lock the operators out. A missing key is no guess and not counted; nor is an
    ended session's cookie (browsers keep sending it; session tokens are 256-bit random too).
    """

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is not None and credentials.scheme.lower() == "bearer":
            principal = await _key_principal(request, credentials.credentials)
            holder = "the key"
        elif (token := request.cookies.get(SESSION_COOKIE)) is not None:
            principal = await _session_principal(request, token)
            holder = "the account"
        else:
            raise HTTPException(
                401, "missing bearer API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if not principal.role.allows(role):
            raise HTTPException(
                403, f"this needs the {role.value} role; {holder} is {principal.role.value}"
            )
        if principal.scope is not None and not scoped:
            raise HTTPException(403, WHOLE_NETWORK_NEEDED)
        return principal

    return check


async def _live_key(ctx: ApiContext, key: str) -> Principal | None:
    """The principal of a key: the bootstrap admin's or a live one; None: unknown or revoked."""
    digest = key_hash(key)
    if ctx.bootstrap_admin_hash and hmac.compare_digest(digest, ctx.bootstrap_admin_hash):
        return Principal("bootstrap-admin", Role.ADMIN)
    found = await ctx.keys.live(digest)
    if found is None:
        return None
    return Principal(f"key:{found.id}:{found.name}", Role(found.role), found.scope)


async def _live_session(ctx: ApiContext, token: str, *, touch: bool) -> SessionUser | None:
    """The live session of a cookie's token (marked as seen when `touch`); None: ended."""
    if not 0 < len(token) <= _MAX_TOKEN_LENGTH:
        return None
    return await ctx.users.session(
        key_hash(token),
        at=utcnow(),
        idle=timedelta(seconds=ctx.settings.session_idle),
        touch=touch,
    )


async def _key_principal(request: Request, key: str) -> Principal:
    ctx = context(request)
    limits: AuthLimits = request.app.state.key_limits
    principal = await _live_key(ctx, key)
    if principal is not None:
        return principal
    source = source_of(request)
    refuse_while_locked(limits.retry_after(source), "wrong API keys from this address")
    limits.failed(source)
    raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})


def refuse_while_locked(wait: float, what: str) -> None:
    """429 with Retry-After while a lockout lasts (csms.services.auth_limits); `what` failed."""
    if wait > 0:
        seconds = math.ceil(wait)
        raise HTTPException(
            429, f"too many {what}; retry in {seconds} s", headers={"Retry-After": str(seconds)}
        )


async def _session_principal(request: Request, token: str) -> Principal:
    ctx = context(request)
    found = await _live_session(ctx, token, touch=True)
    if found is None:
        raise HTTPException(
            401,
            "the session has ended (signed out, expired or idle too long); sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method.upper() in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), found.csrf_token.encode()):
            raise HTTPException(
                403,
                f"a signed-in write needs the {CSRF_HEADER} header: the value of the "
                f"{CSRF_COOKIE} cookie (or csrf_token of the sign-in answer)",
            )
    return signed_in(found)


async def read_again(request: Request) -> Principal | None:
    """The principal of a request that is still being answered (the event feed), read again:
    None once its key is revoked or its session ended (signed out, expired, idle, account
    disabled); else as it is now, with its current role and scope. The session is not marked
    as seen: an open feed alone does not keep an idle session alive."""
    ctx = context(request)
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key:
        return await _live_key(ctx, key.strip())
    token = request.cookies.get(SESSION_COOKIE)
    session = None if token is None else await _live_session(ctx, token, touch=False)
    return None if session is None else signed_in(session)


def signed_in(session: SessionUser) -> Principal:
    """The principal of a signed-in account; `user:<id>:<login>` in the audit and command log."""
    return Principal(
        f"user:{session.user_id}:{session.login}", Role(session.role), session.scope, session
    )


viewer = require(Role.VIEWER)
operator = require(Role.OPERATOR)
admin = require(Role.ADMIN)
# for routes that filter what they show or touch by the principal's scope (csms.api.scope)
scoped_viewer = require(Role.VIEWER, scoped=True)
scoped_operator = require(Role.OPERATOR, scoped=True)
scoped_admin = require(Role.ADMIN, scoped=True)
