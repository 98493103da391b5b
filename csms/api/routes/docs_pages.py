"""The pages a browser opens first: a landing page at `/`, and the API's documentation
(Swagger UI at /docs, ReDoc at /redoc) from vendored files. FastAPI's own pages load their
scripts from a CDN and are blank on a network without internet access (city networks often are)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from csms.api.routes.dashboard import PAGE_SECURITY, serve_file

router = APIRouter(tags=["docs"], include_in_schema=False)
# ReDoc builds its search index in a worker made from a blob: URL; nothing else is loosened.
_REDOC_POLICY = PAGE_SECURITY["Content-Security-Policy"] + "; worker-src 'self' blob:"


@router.get("/")
async def landing(request: Request) -> Response:
    """Links to the dashboard, the API documentation, metrics and health."""
    return serve_file("docs/index.html", request)


@router.get("/docs")
async def swagger_ui(request: Request) -> Response:
    return serve_file("docs/swagger.html", request)


@router.get("/redoc")
async def redoc(request: Request) -> Response:
    page = serve_file("docs/redoc.html", request)
    page.headers["Content-Security-Policy"] = _REDOC_POLICY
    return page
