"""Shared fixtures: one embedded PostgreSQL per test run, a fresh migrated database per test."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from csms.bootstrap import Running, migrate, running
from csms.clock import running_from, utcnow
from csms.config import Settings
from csms.domain.api_key import key_hash, new_key
from csms.store import database
from csms.store.api_keys import ApiKeyStore
from csms.store.embedded import EmbeddedPostgres
from tests.chromium import MISSING, find_chromium

TEMPLATE = "csms_template"
ADMIN_TOKEN = "test-admin-token-0123456789"
TEST_SECRET_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64 of 32 test bytes
_counter = itertools.count()


class PgCluster:
    """The test run's PostgreSQL; hands out fresh databases cloned from a migrated template."""

    def __init__(self, url: str) -> None:
        self.url = url

    def url_for(self, database: str) -> str:
        base, _, query = self.url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{database}?{query}"

    async def fresh_database(self) -> str:
        return await self._create(f"t{next(_counter)}_{id(self) % 10000}", f" TEMPLATE {TEMPLATE}")

    async def migrated_to(self, version: int) -> asyncpg.Connection:
        """A connection to a new database migrated up to `version` only: to test the next
        migration on rows an older schema kept."""
        url = await self._create(f"m{version}_{next(_counter)}_{id(self) % 10000}", "")
        migrated = await asyncpg.connect(url)
        up_to = [m for m in database.load_migrations() if m.version <= version]
        await database.migrate(migrated, up_to)
        return migrated

    async def _create(self, name: str, options: str) -> str:
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"{options}')
        finally:
            await conn.close()
        return self.url_for(name)


# `CSMS_TEST_NOW=2025-06-11T10:30:00+08:00 pytest -m time_sensitive` runs the tests whose
# outcome depends on the hour, weekday or date with the CSMS clock set to that moment (`make
# test-clock` does this for a working-day morning in China): a test that reads the wall clock
# instead of `csms.clock` disagrees with the product there and fails, whenever CI runs.
TEST_NOW = "CSMS_TEST_NOW"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "time_sensitive: the outcome depends on the clock (sharing windows, tariff bands, "
        "holidays, reports); `make test-clock` also runs these at a fixed moment",
    )


@pytest.fixture(scope="session", autouse=True)
def fixed_clock() -> Iterator[None]:
    """Run the whole session from the moment in $CSMS_TEST_NOW, when it is set."""
    moment = os.environ.get(TEST_NOW)
    if not moment:
        yield
        return
    start = datetime.fromisoformat(moment)
    if start.tzinfo is None:
        raise pytest.UsageError(f"{TEST_NOW} needs a UTC offset: {moment!r}")
    with running_from(start):
        yield


@pytest.fixture
def clear_of_midnight() -> Iterator[None]:
    """For tests whose sessions run from about 50 minutes ago until now (tests.integration.
    test_billing_flow.edge_time): within that long after midnight in China they would span two
    tariff days, which their expected band lines do not allow (they failed daily from 00:00 to
    00:50 China time). Such a test then runs an hour later on the CSMS clock, which keeps
    ticking from there."""
    local = utcnow().astimezone(ZoneInfo("Asia/Shanghai"))
    if local.hour == 0 and local.minute < 55:
        with running_from(utcnow() + timedelta(hours=1)):
            yield
    else:
        yield


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    with tempfile.TemporaryDirectory(prefix="csms-test-pg-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp))
        url = asyncio.run(embedded.start())
        cluster = PgCluster(url)

        async def make_template() -> None:
            conn = await asyncpg.connect(url)
            try:
                await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
                await conn.execute(f"CREATE DATABASE {TEMPLATE}")
            finally:
                await conn.close()
            await migrate(cluster.url_for(TEMPLATE))

        asyncio.run(make_template())
        try:
            yield cluster
        finally:
            embedded.stop()


@pytest.fixture
def chromium() -> str:
    """The headless Chromium of the browser tests: required, not optional (CI installs it)."""
    binary = find_chromium()
    if binary is None:
        pytest.fail(MISSING)
    return binary


@pytest.fixture
async def database_url(pg_cluster: PgCluster) -> str:
    return await pg_cluster.fresh_database()


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for an in-process CSMS on loopback, free ports, strict response checks."""
    base = Settings(
        host="127.0.0.1",
        ocpp_port=0,
        http_port=0,
        database_url=database_url,
        heartbeat_interval=60,
        offline_grace=5,
        ping_interval=0,
        node_id="test-node",
        validate_responses=True,
        admin_token=ADMIN_TOKEN,
        secret_key=TEST_SECRET_KEY,
        # Tests send wrong credentials from 127.0.0.1 on purpose, dozens per CSMS (every route
        # with a wrong key); the failure limits stay on but high. test_auth_limits sets its own.
        auth_failures=10_000,
        auth_source_failures=10_000,
        # no CA unless a test makes one: never the checkout's var/ca a developer may have made
        ca_dir=Path("/nonexistent/csms-test-ca"),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def csms(database_url: str) -> AsyncIterator[Running]:
    async with running(make_settings(database_url)) as instance:
        yield instance


class Api:
    """HTTP client for the operator API with a key of each role."""

    def __init__(self, client: httpx.AsyncClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    async def get(self, path: str, role: str = "viewer", **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers(role), **kw)

    async def post(self, path: str, role: str = "operator", **kw: Any) -> httpx.Response:
        return await self.client.post(path, headers=self.headers(role), **kw)

    async def put(self, path: str, role: str = "operator", **kw: Any) -> httpx.Response:
        return await self.client.put(path, headers=self.headers(role), **kw)

    async def patch(self, path: str, role: str = "operator", **kw: Any) -> httpx.Response:
        return await self.client.patch(path, headers=self.headers(role), **kw)

    async def delete(self, path: str, role: str = "admin", **kw: Any) -> httpx.Response:
        return await self.client.delete(path, headers=self.headers(role), **kw)


@pytest.fixture
async def api(csms: Running) -> AsyncIterator[Api]:
    """The running CSMS's API, with an admin, an operator and a viewer key."""
    async with api_for(csms) as client:
        yield client


@contextlib.asynccontextmanager
async def api_for(csms: Running) -> AsyncIterator[Api]:
    """An API client of any running CSMS, with an admin, an operator and a viewer key."""
    store = ApiKeyStore(csms.pool)
    keys = {"admin": ADMIN_TOKEN}
    for role in ("operator", "viewer"):
        key = new_key()
        await store.create(f"test {role}", role, key_hash(key))
        keys[role] = key
    base = f"http://127.0.0.1:{csms.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield Api(client, keys)
