"""A monitoring-platform simulator wired to a test CSMS: one place for keys and set-up."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from csms.bootstrap import Running, running
from simulators.platform.client import PlatformClient
from simulators.platform.server import PlatformConfig, PlatformSimulator
from tests.conftest import Api, api_for, make_settings

OPERATOR_ID = "MA0CSMS01"
PLATFORM_ID = "MA0PLAT01"
OPERATOR_SECRET = "operator-secret-for-tests"
DATA_SECRET = "a1b2c3d4e5f6g7h8"
DATA_IV = "0011223344556677"
SIG_SECRET = "sig-secret-for-tests"
INBOUND_SECRET = "platform-secret-for-tests"
FAST_RETRY = (0.2, 0.2, 0.2, 0.2, 0.5)


def sim_config(**changes: Any) -> PlatformConfig:
    base: dict[str, Any] = {
        "platform_operator_id": PLATFORM_ID,
        "operator_id": OPERATOR_ID,
        "operator_secret": OPERATOR_SECRET,
        "data_secret": DATA_SECRET,
        "data_iv": DATA_IV,
        "sig_secret": SIG_SECRET,
    }
    base.update(changes)
    return PlatformConfig(**base)


def platform_body(url: str, **changes: Any) -> dict[str, Any]:
    """A platform at `url` (the simulator's `url`) with the test keys."""
    body: dict[str, Any] = {
        "id": "province",
        "name": "Provincial monitoring platform",
        "base_url": url,
        "operator_id": OPERATOR_ID,
        "platform_operator_id": PLATFORM_ID,
        "operator_secret": OPERATOR_SECRET,
        "data_secret": DATA_SECRET,
        "data_iv": DATA_IV,
        "sig_secret": SIG_SECRET,
        "inbound_secret": INBOUND_SECRET,
        "service_tel": "0349-1234567",
    }
    body.update(changes)
    return body


def fast_settings(database_url: str, **changes: Any) -> Any:
    """Settings whose pushes retry in fractions of a second (tests cannot wait minutes)."""
    fast: dict[str, Any] = {"push_retry": FAST_RETRY, "push_poll": 0.05, "push_timeout": 2.0}
    return make_settings(database_url, **{**fast, **changes})


@contextlib.asynccontextmanager
async def pushing_csms(database_url: str, **changes: Any) -> AsyncIterator[Running]:
    async with running(fast_settings(database_url, **changes)) as instance:
        yield instance


# Fixtures of the push and live-data tests (imported by them): a platform simulator, a CSMS
# that pushes fast, and an API client of that CSMS.


@pytest.fixture
async def sim() -> AsyncIterator[PlatformSimulator]:
    async with PlatformSimulator(sim_config()) as platform:
        yield platform


@pytest.fixture
async def pushing(database_url: str) -> AsyncIterator[Running]:
    async with pushing_csms(database_url) as instance:
        yield instance


@pytest.fixture
async def papi(pushing: Running) -> AsyncIterator[Api]:
    async with api_for(pushing) as client:
        yield client


async def add_platform(api: Api, sim: PlatformSimulator, **changes: Any) -> dict[str, Any]:
    created = await api.post(
        "/api/v1/platforms", role="admin", json=platform_body(sim.url, **changes)
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


async def create_platform(api_base: str, admin_key: str, url: str) -> None:
    """Configure a platform at `url` through a running CSMS's API (benches: no Api fixture)."""
    async with httpx.AsyncClient(
        base_url=api_base, headers={"Authorization": f"Bearer {admin_key}"}
    ) as http:
        created = await http.post("/api/v1/platforms", json=platform_body(url))
        assert created.status_code == 201, created.text


def client_for(csms: Running, **changes: Any) -> PlatformClient:
    keys: dict[str, Any] = {
        "platform_operator_id": PLATFORM_ID,
        "operator_secret": INBOUND_SECRET,
        "data_secret": DATA_SECRET,
        "data_iv": DATA_IV,
        "sig_secret": SIG_SECRET,
    }
    keys.update(changes)
    return PlatformClient(f"http://127.0.0.1:{csms.http_port}/evcs/v1", **keys)


async def drained(csms: Running, platform_id: str = "province", timeout: float = 30) -> None:
    """Until the platform has no pending record left."""
    async with asyncio.timeout(timeout):
        while await csms.pool.fetchval(
            "SELECT count(*) FROM platform_outbox WHERE platform_id = $1 AND state = 'pending'",
            platform_id,
        ):
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def platform_process(port: int) -> AsyncIterator[Callable[[], Awaitable[dict[str, Any]]]]:
    """`csms-sim platform serve` in its own process; yields a reader of its counts."""
    config = sim_config()
    argv = [sys.executable, "-m", "simulators", "platform", "serve", "--quiet"]
    argv += ["--port", str(port), "--operator-id", config.operator_id]
    argv += ["--platform-operator-id", config.platform_operator_id]
    argv += ["--operator-secret", config.operator_secret, "--data-secret", config.data_secret]
    argv += ["--data-iv", config.data_iv, "--sig-secret", config.sig_secret]
    process = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

        async def stats() -> dict[str, Any]:
            result: dict[str, Any] = (await http.get("/control/stats")).json()
            return result

        try:
            async with asyncio.timeout(20):
                while True:
                    with contextlib.suppress(httpx.TransportError):
                        await stats()
                        break
                    await asyncio.sleep(0.1)
            yield stats
        finally:
            process.terminate()
            await process.wait()
