"""The FastAPI application: `/healthz` (process up) and `/readyz` (database reachable)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from csms import __version__


def create_app(db_ready: Callable[[], Awaitable[bool]], node_id: str) -> FastAPI:
    app = FastAPI(title="CSMS", version=__version__, openapi_url="/openapi.json")

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up and serving HTTP."""
        return {"status": "ok", "node": node_id, "version": __version__}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        """The database answers; load balancers should route stations here only then."""
        if await db_ready():
            return JSONResponse({"status": "ready", "database": "ok"})
        return JSONResponse({"status": "not ready", "database": "unreachable"}, status_code=503)

    return app
