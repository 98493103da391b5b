"""The operator console: one static page and its ES modules under csms/api/static/console.
The page holds no data and no secret; its scripts sign in with POST /api/v1/session and then
use the API with the session cookie (writes with the CSRF token), like any other client."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from csms.api.routes.dashboard import serve_file

router = APIRouter(tags=["console"], include_in_schema=False)


@router.get("/console")
async def console(request: Request) -> Response:
    """The console page (no sign-in needed to load it; it shows the sign-in form)."""
    return serve_file("console/index.html", request)


@router.get("/console/static/{name:path}")
async def console_file(name: str, request: Request) -> Response:
    """The console's scripts and style sheet; only files under static/console are served."""
    return serve_file(f"console/{name}", request)
