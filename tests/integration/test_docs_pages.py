"""The landing page and the API documentation work without the internet: every script and style
they load is served by the CSMS itself, and Swagger UI and ReDoc render the API in Chromium."""

from __future__ import annotations

import re

import httpx
import pytest

from csms.bootstrap import Running
from tests.chromium import dump_dom

# src= and href= of a page: what a browser fetches (the landing page's links are same-site too)
_REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc"])
async def test_pages_load_nothing_from_elsewhere(csms: Running, path: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.http_port}") as http:
        page = await http.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        references = _REFERENCE.findall(page.text)
        assert references
        for reference in references:
            assert reference.startswith("/"), f"{path} loads {reference} from elsewhere"
            if reference.startswith("/dashboard/static/"):
                fetched = await http.get(reference)
                assert fetched.status_code == 200, reference
                assert len(fetched.content) > 100, reference


async def test_landing_page_links_the_dashboard_and_the_docs(csms: Running) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.http_port}") as http:
        links = set(_REFERENCE.findall((await http.get("/")).text))
    assert {"/dashboard", "/docs", "/redoc", "/metrics", "/healthz"} <= links


async def test_swagger_ui_renders_the_api(csms: Running, chromium: str) -> None:
    dom = await dump_dom(f"http://127.0.0.1:{csms.http_port}/docs", chromium)
    assert "CSMS operator API" in dom  # the OpenAPI title, drawn by Swagger UI
    assert "/api/v1/stations" in dom  # an operation


async def test_redoc_renders_the_api(csms: Running, chromium: str) -> None:
    dom = await dump_dom(f"http://127.0.0.1:{csms.http_port}/redoc", chromium)
    assert "CSMS operator API" in dom
    assert "/api/v1/stations" in dom
