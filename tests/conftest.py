"""Shared fixtures: one embedded PostgreSQL per test run, a fresh migrated database per test."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from csms.bootstrap import Running, migrate, running
from csms.config import Settings
from csms.store.embedded import EmbeddedPostgres

TEMPLATE = "csms_template"
_counter = itertools.count()


class PgCluster:
    """The test run's PostgreSQL; hands out fresh databases cloned from a migrated template."""

    def __init__(self, url: str) -> None:
        self.url = url

    def url_for(self, database: str) -> str:
        base, _, query = self.url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{database}?{query}"

    async def fresh_database(self) -> str:
        name = f"t{next(_counter)}_{id(self) % 10000}"
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
        finally:
            await conn.close()
        return self.url_for(name)


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
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def csms(database_url: str) -> AsyncIterator[Running]:
    async with running(make_settings(database_url)) as instance:
        yield instance
