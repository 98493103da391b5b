"""The FastAPI application: health, the operator API under /api/v1, events, metrics."""

from __future__ import annotations

import fastapi.routing
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from csms import __version__
from csms.api import errors
from csms.api.context import ApiContext
from csms.api.headers import SecurityHeaders
from csms.api.routes import (
    audit,
    billing,
    certificates,
    commands,
    console_pages,
    dashboard,
    docs_pages,
    events,
    keys,
    monitoring,
    monitoring_data,
    platforms,
    registry,
    session,
    sites,
    station_reports,
    stations,
    tariffs,
    tcec,
    tokens,
    transactions,
    units,
    users,
)
from csms.services.auth_limits import api_key_limits, sign_in_limits
from ocppj.frames import loads, unstorable


async def _no_nul_in_url(request: Request) -> None:
    """NUL cannot be stored or matched in PostgreSQL text: nothing named with one exists."""
    if "\x00" in request.scope["path"]:
        raise HTTPException(404, "no such resource (the path contains a NUL character)")
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise HTTPException(422, f"query parameter {name!r} contains a NUL character")


async def _storable_json(request: Request) -> None:
    """The web framework reads JSON bodies with Python's parser, which takes what cannot be
    stored or sent on: lone surrogates (no Unicode text: neither PostgreSQL nor UTF-8 holds
    them), NaN and Infinity, and numbers beyond a float (1e400 becomes Infinity). Such a body
    is refused here, before any route. orjson refuses all of them, so the walk runs only for
    the rare body it refuses (also a byte-order mark or UTF-16, which pass)."""
    content_type = request.headers.get("content-type", "").lower()
    if request.method not in _WRITES or "json" not in content_type:
        return
    body = await request.body()  # kept by the request: the route reads it again for free
    try:
        value, odd = loads(body)
    except (ValueError, RecursionError):
        return  # no JSON at all: the framework's own 422 says so
    problem = unstorable(value) if odd else None
    if problem is not None:
        # the shape of every other request-validation problem: [{field, message}]
        message = f"the JSON body holds what cannot be stored: {problem}"
        raise RequestValidationError([{"loc": ("body",), "msg": message}])


_WRITES = frozenset({"POST", "PUT", "PATCH"})


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(
        dependencies=[Depends(_no_nul_in_url), Depends(_storable_json)],
        title="CSMS operator API",
        version=__version__,
        description="Stations, id tokens, transactions and remote commands of the charging "
        "network. Every route under /api/v1 needs `Authorization: Bearer <key>` or the session "
        "cookie of `POST /api/v1/session` (whose writes also need `X-CSRF-Token`).",
        openapi_url="/openapi.json",
        docs_url=None,  # served from vendored files by routes.docs_pages (no CDN)
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.key_limits = api_key_limits(ctx.settings)
    app.state.sign_in_limits = sign_in_limits(ctx.settings)
    errors.install(app)
    app.add_middleware(SecurityHeaders)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up and serving HTTP."""
        return {"status": "ok", "node": ctx.node_id, "version": __version__}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        """The database answers; load balancers should route stations here only then."""
        if await ctx.db_ready():
            return JSONResponse({"status": "ready", "database": "ok"})
        return JSONResponse(
            {"status": "not ready", "database": "unreachable"},
            status_code=503,
            headers={"Retry-After": str(errors.RETRY_AFTER_SECONDS)},
        )

    modules = (
        stations,
        tokens,
        transactions,
        commands,
        keys,
        session,
        users,
        events,
        tariffs,
        billing,
        sites,
        units,
        registry,
        dashboard,
        docs_pages,
        console_pages,
        monitoring_data,
        monitoring,
        platforms,
        tcec,
        audit,
        station_reports,
        certificates,
    )
    for module in modules:
        app.include_router(module.router)
    build_routes(app)
    return app


def build_routes(app: FastAPI) -> None:
    """Build every route's handler now rather than at its router's first request.

    FastAPI 0.120 and later build an included router's routes (dependencies, body and response
    models) when a request first reaches it: 20-200 ms of work on the event loop that every
    station socket of this node shares, at the first operator request after each start. Older
    releases build them in include_router(), and have nothing to do here."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is not None:
        for _ in contexts(app.router.routes):
            pass
