"""Composition root: settings -> database -> stores -> services -> servers, and their shutdown.

`running()` is used both by `csms serve` and by the integration tests, so tests exercise the
same wiring as production.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import uvicorn

from csms.api.app import create_app
from csms.clock import utcnow
from csms.config import Settings
from csms.errors import ConfigError
from csms.gateway.server import Gateway
from csms.services.authorization import AuthorizationService
from csms.services.container import Services
from csms.services.presence import Presence
from csms.services.stations import StationService
from csms.services.transactions import TransactionService
from csms.store import database
from csms.store.embedded import EmbeddedPostgres
from csms.store.events import EventStore
from csms.store.meter_writer import MeterWriter
from csms.store.stations import StationStore
from csms.store.tokens import TokenStore
from csms.store.transactions import TransactionStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Running:
    """A started CSMS: where it listens and its parts (tests reach into them)."""

    ocpp_port: int
    http_port: int
    database_url: str
    pool: database.Pool
    services: Services
    gateway: Gateway
    writer: MeterWriter


@contextlib.asynccontextmanager
async def database_url(settings: Settings) -> AsyncIterator[str]:
    """The configured URL, or an embedded PostgreSQL started for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.data_dir)
    url = await embedded.start()
    try:
        yield url
    finally:
        await asyncio.to_thread(embedded.stop)


async def migrate(url: str) -> list[str]:
    conn = await database.connect(url)
    try:
        return await database.migrate(conn)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Running]:
    """Start everything, yield while it serves, then shut down in reverse order.

    Shutdown closes the station sockets first (their handlers finish their writes), then flushes
    presence, releases this node's claims, and only then stops the writer and HTTP.
    """
    async with database_url(settings) as url:
        applied = await migrate(url)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        pool = await database.create_pool(url)
        try:
            async with asyncio.TaskGroup() as tasks:
                csms, background, http = await _start(settings, url, pool, tasks)
                try:
                    yield csms
                finally:
                    await csms.gateway.stop()
                    await csms.services.stations.flush_presence()
                    await StationStore(pool).release_node(settings.node_id, utcnow())
                    http.should_exit = True
                    for task in background:
                        task.cancel()
        finally:
            await pool.close()


class _EmbeddedUvicorn(uvicorn.Server):
    """uvicorn inside our event loop: signals are ours, not its."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _start(
    settings: Settings, url: str, pool: database.Pool, tasks: asyncio.TaskGroup
) -> tuple[Running, list[asyncio.Task[None]], uvicorn.Server]:
    stations = StationStore(pool)
    released = await stations.release_node(settings.node_id, utcnow())
    if released:
        log.info(
            "released %d stations a previous run of %s left connected", released, settings.node_id
        )
    writer = MeterWriter(pool)
    authorization = AuthorizationService(TokenStore(pool), settings.unknown_tokens)
    services = Services(
        stations=StationService(
            stations,
            EventStore(pool),
            Presence(),
            registration=settings.registration,
            heartbeat_interval=settings.heartbeat_interval,
            node_id=settings.node_id,
        ),
        authorization=authorization,
        transactions=TransactionService(TransactionStore(pool), writer, authorization),
    )
    gateway = Gateway(settings, services)
    background = [tasks.create_task(writer.run(), name="meter-writer")]
    ocpp_port = await gateway.start()
    background.append(tasks.create_task(_sweep_forever(gateway, settings), name="sweeper"))

    http = _EmbeddedUvicorn(
        uvicorn.Config(
            create_app(lambda: database.ping(pool), settings.node_id),
            host=settings.host,
            port=settings.http_port,
            log_level="warning",
            lifespan="off",
        )
    )
    http_task = tasks.create_task(http.serve(), name="http")
    while not http.started:
        if http_task.done():
            http_task.result()  # surfaces a bind error
            raise ConfigError(f"HTTP server did not start on port {settings.http_port}")
        await asyncio.sleep(0.01)
    http_port: int = http.servers[0].sockets[0].getsockname()[1]
    csms = Running(ocpp_port, http_port, url, pool, services, gateway, writer)
    return csms, background, http


async def _sweep_forever(gateway: Gateway, settings: Settings) -> None:
    interval = max(0.5, min(5.0, settings.offline_after / 4))
    while True:
        await asyncio.sleep(interval)
        try:
            await gateway.sweep()
        except Exception:  # a failed sweep is retried next time; it must not stop the node
            log.exception("presence sweep failed")
