"""Signing in with a login and password (the operator console): a session cookie instead of a
Bearer key. The session token (256 random bits) lives only in an HttpOnly, SameSite=Strict
cookie and as a SHA-256 in the database; writes also need the CSRF token (csms.api.auth).
Sessions end after --session-lifetime (12 h) whatever happens, and after --session-idle
(30 min) without a request.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from csms.api.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    context,
    refuse_while_locked,
    scoped_viewer,
    signed_in,
    source_of,
)
from csms.api.context import ApiContext
from csms.api.user_schemas import PasswordChange, SessionInfo, SignIn
from csms.client_address import via_trusted_proxy
from csms.clock import utcnow
from csms.domain.api_key import key_hash
from csms.domain.scope import scope_json
from csms.domain.user import (
    check_user_password,
    hash_user_password,
    login_key,
    new_csrf_token,
    new_session_token,
)
from csms.errors import Conflict, InvalidInput
from csms.services.auth_limits import AuthLimits

router = APIRouter(prefix="/api/v1/session", tags=["session"])
Ctx = Annotated[ApiContext, Depends(context)]
# one answer for an unknown login, a wrong password and a disabled account: which logins
# exist is nobody's business before signing in
WRONG = "wrong login or password"
NO_SESSION = (
    "this request carries an API key, not a session: there is no session to end or password "
    "to change (revoke the key with DELETE /api/v1/keys/{id})"
)


class PasswordChanged(BaseModel):
    sessions_ended: int


@router.post(
    "",
    response_model=SessionInfo,
    responses={
        401: {"description": WRONG},
        429: {"description": "too many failed sign-ins for this login or from this address"},
    },
)
async def sign_in(body: SignIn, request: Request, response: Response, ctx: Ctx) -> dict[str, Any]:
    """Check the password and start a session: sets the `csms_session` cookie (HttpOnly) and
    the `csms_csrf` cookie whose value writes send as `X-CSRF-Token`. Needs no key."""
    limits: AuthLimits = request.app.state.sign_in_limits
    source = source_of(request)
    account = login_key(body.login)
    _refuse_if_locked(limits, source, account)
    user = await ctx.users.for_sign_in(body.login)
    stored = user["password_hash"] if user is not None and not user["disabled"] else None
    right = await asyncio.to_thread(check_user_password, body.password, stored)
    at = utcnow()
    if user is None or not right:
        limits.failed(source, account=account)
        reason = (
            "unknown login"
            if user is None
            else "disabled account"
            if user["disabled"]
            else "wrong password"
        )
        await ctx.users.failed_sign_in(
            None if user is None else user["id"], source=source, reason=reason, at=at
        )
        raise HTTPException(401, WRONG)
    limits.succeeded(source, account=account)
    token, csrf = new_session_token(), new_csrf_token()
    settings = ctx.settings
    session = await ctx.users.start_session(
        user["id"],
        token_hash=key_hash(token),
        csrf_token=csrf,
        source=source,
        at=at,
        lifetime=timedelta(seconds=settings.session_lifetime),
        idle=timedelta(seconds=settings.session_idle),
    )
    secure = _https(request)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/"
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, httponly=False, samesite="strict", secure=secure, path="/"
    )
    return info(signed_in(session))


@router.get("", response_model=SessionInfo)
async def who_am_i(who: Annotated[Principal, Depends(scoped_viewer)]) -> dict[str, Any]:
    """The signed-in account (or the API key) of this request, its role and scope."""
    return info(who)


@router.delete("", status_code=204, responses={409: {"description": "an API key, no session"}})
async def sign_out(
    request: Request,
    response: Response,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
) -> None:
    """End this session (its row is deleted) and clear its cookies."""
    if who.session is None:
        raise Conflict(NO_SESSION)
    await ctx.users.end_session(who.session, at=utcnow())
    secure = _https(request)
    for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=http_only, samesite="strict")


@router.post(
    "/password",
    response_model=PasswordChanged,
    responses={
        403: {"description": "the current password is wrong"},
        409: {"description": "an API key, no session"},
        429: {"description": "too many failed attempts"},
    },
)
async def change_password(
    body: PasswordChange,
    request: Request,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
) -> dict[str, Any]:
    """Change the signed-in account's own password; its other sessions end, this one stays.
    Wrong current passwords count like failed sign-ins."""
    session = who.session
    if session is None:
        raise Conflict(NO_SESSION)
    limits: AuthLimits = request.app.state.sign_in_limits
    source = source_of(request)
    account = login_key(session.login)
    _refuse_if_locked(limits, source, account)
    stored = await ctx.users.password_hash(session.user_id)
    if not await asyncio.to_thread(check_user_password, body.current, stored):
        limits.failed(source, account=account)
        await ctx.users.failed_sign_in(
            session.user_id, source=source, reason="wrong current password", at=utcnow()
        )
        raise HTTPException(403, "the current password is wrong")
    if body.new == body.current:
        raise InvalidInput("the new password is the current one")
    new_hash = await asyncio.to_thread(hash_user_password, body.new)
    ended = await ctx.users.change_password(session, new_hash, at=utcnow())
    return {"sessions_ended": ended}


def info(who: Principal) -> dict[str, Any]:
    """The SessionInfo of a principal."""
    session = who.session
    return {
        "user": None
        if session is None
        else {"id": session.user_id, "login": session.login, "display_name": session.display_name},
        "principal": who.name,
        "role": who.role.value,
        "scope": scope_json(who.scope),
        "csrf_token": None if session is None else session.csrf_token,
        "expires_at": None if session is None else session.expires_at,
    }


def _refuse_if_locked(limits: AuthLimits, source: str | None, account: str) -> None:
    refuse_while_locked(
        limits.retry_after(source, account=account),
        "failed sign-ins for this login or from this address",
    )


def _https(request: Request) -> bool:
    """Whether the browser speaks https to us: directly, or to a trusted proxy that says so."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    if not via_trusted_proxy(peer, context(request).settings.trusted_proxies):
        return False
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    return forwarded == "https"
