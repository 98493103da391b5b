"""The monitoring dashboard: one static page and its files, served from csms/api/static, the
names it shows for figure keys, and the county map of the plan's city."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from csms.api.routes import report_pages
from csms.monitoring import labels

router = APIRouter(tags=["dashboard"], include_in_schema=False)
# The monthly report opened from the dashboard by a signed link (no key in the browser).
router.include_router(report_pages.router)
MAPS = "vendor/maps"

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# The page holds no data: every figure is fetched by its script with the viewer key, which
# never leaves the browser except in the Authorization header. Nothing is loaded from
# elsewhere (no internet at run time); ECharts draws into SVG with inline styles.
PAGE_SECURITY = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str
    cache_control: str


@cache
def static_files() -> dict[str, StaticFile]:
    """Every servable file by its relative path, read once: nothing outside this set is served,
    so no request path can reach another file (no traversal, no symlinks followed out)."""
    files: dict[str, StaticFile] = {}
    for path in sorted(STATIC_DIR.rglob("*")):
        content_type = CONTENT_TYPES.get(path.suffix.lower())
        if content_type is None or not path.is_file() or path.is_symlink():
            continue
        name = path.relative_to(STATIC_DIR).as_posix()
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        # Vendored libraries change only with a release; our own files revalidate (ETag) so a
        # new version of the CSMS is picked up on the next load.
        vendored = PurePosixPath(name).parts[0] == "vendor"
        cache_control = "public, max-age=86400" if vendored else "no-cache"
        files[name] = StaticFile(body, content_type, etag, cache_control)
    return files


def serve_file(name: str, request: Request) -> Response:
    """One static file (ETag, cache headers; pages get PAGE_SECURITY): for other page routes."""
    return _serve(name, request)


def _serve(name: str, request: Request) -> Response:
    found = static_files().get(name)
    if found is None:
        raise HTTPException(404, "no such dashboard file")
    headers = {
        "ETag": found.etag,
        "Cache-Control": found.cache_control,
        "X-Content-Type-Options": "nosniff",
    }
    if found.content_type.startswith("text/html"):
        headers.update(PAGE_SECURITY)
    if found.etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.content_type, headers=headers)


@router.get("/dashboard")
async def dashboard(request: Request) -> Response:
    """The dashboard page (no key needed to load it; it asks for a viewer key)."""
    return _serve("dashboard.html", request)


@router.get("/dashboard/static/{name:path}")
async def dashboard_file(name: str, request: Request) -> Response:
    """The page's script, style sheet and vendored ECharts."""
    return _serve(name, request)


@cache
def _labels_file() -> StaticFile:
    body = json.dumps(labels.as_json(), ensure_ascii=False, sort_keys=True).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return StaticFile(body, "application/json", etag, "no-cache")


@router.get("/dashboard/labels.json")
async def dashboard_labels(request: Request) -> Response:
    """The names of figure keys (csms.monitoring.labels): the same table as the report's.
    Names, not data: no key needed."""
    found = _labels_file()
    headers = {"ETag": found.etag, "Cache-Control": found.cache_control}
    if found.etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.content_type, headers=headers)


def city_map(plan_name: str) -> dict[str, Any] | None:
    """The vendored county map of the plan's city (its name appears in the plan's name):
    the city, its counties and the file's address; None when none is vendored."""
    index = static_files().get(f"{MAPS}/index.json")
    if index is None:
        return None
    for entry in json.loads(index.body)["maps"]:
        if entry["city"] in plan_name and f"{MAPS}/{entry['file']}" in static_files():
            return {
                "city": entry["city"],
                "adcode": entry["adcode"],
                "counties": entry["counties"],
                "url": f"/dashboard/static/{MAPS}/{entry['file']}",
            }
    return None
