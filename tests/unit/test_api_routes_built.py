"""The operator API's routes are built when the app is, not at their first request: building
one router's routes takes tens of milliseconds on the event loop the station sockets share."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import fastapi.routing
import httpx
import pytest

from csms.api.app import create_app
from csms.api.context import ApiContext
from csms.config import Settings


async def test_a_first_request_builds_no_route(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(cast(ApiContext, SimpleNamespace(settings=Settings())))
    built: list[str] = []
    real = fastapi.routing.get_dependant

    def counting(**kwargs: Any) -> Any:
        built.append(kwargs.get("path", ""))
        return real(**kwargs)

    monkeypatch.setattr(fastapi.routing, "get_dependant", counting)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://csms") as client:
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/")).status_code == 200
    assert built == []
