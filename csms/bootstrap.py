"""Composition root: settings -> database -> stores -> services -> servers, and their shutdown.

`running()` is used both by `csms serve` and by the integration tests, so tests exercise the
same wiring as production.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import uvicorn

from csms import metrics
from csms.api.app import create_app
from csms.api.context import ApiContext
from csms.clock import utcnow
from csms.config import Settings
from csms.domain.api_key import key_hash, new_key
from csms.domain.version import OcppVersion
from csms.errors import ConfigError
from csms.gateway.router import CHANNELS, Router
from csms.gateway.server import Gateway
from csms.iso15118.loading import load_provider
from csms.iso15118.relay import Iso15118Relay
from csms.ocpp16.dialect import DIALECT as DIALECT_16
from csms.ocpp201.dialect import DIALECT as DIALECT_201
from csms.outage import OutageLog
from csms.sealed import SealedBox, load_key
from csms.services.authorization import AuthorizationService
from csms.services.billing import BillingService
from csms.services.certificates import build_certificates
from csms.services.commands import Caller, CommandService
from csms.services.container import Services
from csms.services.dialects import Dialects
from csms.services.events import EventBus
from csms.services.local_lists import LocalLists
from csms.services.lockouts import LockoutService
from csms.services.monitoring import ReportService, build_reports
from csms.services.notifications import build_notifications
from csms.services.passwords import PasswordRotation, PasswordSwitch
from csms.services.platform_live import LiveCharging
from csms.services.platform_queries import PlatformQueries
from csms.services.platforms import PlatformService, PushSwitch
from csms.services.presence import Presence
from csms.services.sharing import AccessService, SharingEnforcer
from csms.services.stations import StationService
from csms.services.transactions import TransactionService
from csms.store import database
from csms.store.api_keys import ApiKeyStore
from csms.store.audit import AuditStore
from csms.store.cdrs import CdrStore
from csms.store.commands import CommandStore
from csms.store.embedded import EmbeddedPostgres
from csms.store.events import EventStore
from csms.store.ledger import Ledger
from csms.store.local_lists import LocalListStore
from csms.store.lockouts import LockoutStore
from csms.store.metering import MeteringStore
from csms.store.monitoring import MonitoringStore
from csms.store.nodes import NodeStore
from csms.store.notify import Notifications
from csms.store.outage import cause as outage_cause
from csms.store.passwords import PasswordStore
from csms.store.platform_facts import PlatformFactsStore
from csms.store.platform_outbox import OutboxStore
from csms.store.platforms import PlatformStore
from csms.store.registry import RegistryStore
from csms.store.sharing import SharingStore
from csms.store.stations import StationStore
from csms.store.tariffs import TariffStore
from csms.store.tokens import TokenStore
from csms.store.transactions import TransactionStore
from csms.store.users import UserStore
from csms.store.utilization import UtilizationStore

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
    writer: Ledger
    commands: CommandService
    bus: EventBus
    # An admin key created at this start because none existed; shown once, never stored.
    generated_admin_key: str | None
    platforms: PlatformService
    lockouts: LockoutService


@contextlib.asynccontextmanager
async def database_url(settings: Settings, *, create: bool = True) -> AsyncIterator[str]:
    """The configured URL, or an embedded PostgreSQL started (or joined) for the duration;
    `create=False` raises `NoDatabase` where none was ever initialised."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.data_dir, create=create)
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
        # one voice for a database outage: the API, the gateway and the loops count into it
        outage = OutageLog(outage_cause)
        pool = await database.create_pool(url, max_size=40, on_connect=outage.available)
        # The ledger writer gets connections of its own (one per batch in flight) so its
        # commits never queue behind handler queries waiting for the shared pool.
        writer_pool = await database.create_pool(
            url, min_size=4, max_size=4, on_connect=outage.available
        )
        notifications = Notifications(pool, url, CHANNELS)
        nodes = NodeStore(pool, settings.node_id)
        try:
            await nodes.claim_identity(await notifications.start())
            async with asyncio.TaskGroup() as tasks:
                csms, background, http = await _start(
                    settings, url, pool, writer_pool, notifications, tasks, outage
                )
                try:
                    yield csms
                finally:
                    await csms.gateway.stop()
                    try:
                        await csms.services.stations.flush_presence(lambda _sid: None)
                        await StationStore(pool).release_node(settings.node_id, utcnow())
                        await nodes.leave()
                    except Exception as exc:
                        # stopping during an outage: the next start of this node releases
                        # what it claimed, and other nodes release a node that went silent
                        if outage.absorb(exc, "background") is None:
                            raise
                    http.should_exit = True
                    for task in background:
                        task.cancel()
        finally:
            await notifications.close()
            await writer_pool.close()
            await pool.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket for the HTTP server (OSError when the port is taken).

    Made with proto IPPROTO_TCP, unlike `socket.create_server`: asyncio sets TCP_NODELAY only
    on sockets that say they are TCP, and without it every answer on a kept-alive connection
    waited ~40 ms for the client's delayed ACK (Nagle).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        # worded like create_server's, which names the address
        raise OSError(
            exc.errno, f"error while attempting to bind on address {(host, port)!r}: {exc.strerror}"
        ) from None
    return sock


class _EmbeddedUvicorn(uvicorn.Server):
    """uvicorn inside our event loop: signals are ours, not its."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _admin_key(settings: Settings, keys: ApiKeyStore) -> tuple[str | None, str | None]:
    """(hash of CSMS_ADMIN_TOKEN, newly generated admin key) — at most one is set."""
    if settings.admin_token:
        return key_hash(settings.admin_token), None
    if await keys.has_admin():
        return None, None
    key = new_key()
    await keys.create("generated at first start", "admin", key_hash(key))
    return None, key


async def _start(
    settings: Settings,
    url: str,
    pool: database.Pool,
    writer_pool: database.Pool,
    notifications: Notifications,
    tasks: asyncio.TaskGroup,
    outage: OutageLog,
) -> tuple[Running, list[asyncio.Task[None]], uvicorn.Server]:
    stations = StationStore(pool)
    released = await stations.release_node(settings.node_id, utcnow())
    if released:
        log.info(
            "released %d stations a previous run of %s left connected", released, settings.node_id
        )
    bus = EventBus(settings.node_id)
    writer = Ledger(writer_pool, depth=4)
    tokens = TokenStore(pool)
    transactions = TransactionStore(pool)
    sharing = SharingStore(pool)
    access = AccessService(sharing, time_zone=settings.time_zone)
    await access.load_calendar()
    lockout_store = LockoutStore(pool)
    authorization = AuthorizationService(
        tokens, settings.unknown_tokens, access, lockouts=lockout_store
    )
    station_events = EventStore(pool)
    tariffs = TariffStore(pool)
    cdrs = CdrStore(pool)
    metering = MeteringStore(pool)
    billing = BillingService(
        metering,
        tariffs,
        cdrs,
        bus,
        operator_id=settings.operator_id,
        power_tolerance=settings.power_tolerance,
        cost_interval=settings.cost_interval,
        time_zone=settings.time_zone,
        day_type_of=lambda day: access.calendar.day_type(day),
    )
    box = SealedBox(
        load_key(settings.secret_key, settings.secret_key_file or settings.data_dir / "secret.key")
    )
    platform_store = PlatformStore(pool)
    platform_facts = PlatformFactsStore(pool)
    platforms = PlatformService(
        platform_store,
        OutboxStore(pool),
        platform_facts,
        box,
        bus,
        settings,
        PushSwitch(on=await platform_store.any()),
        outage=outage,
        live=LiveCharging(platform_facts, OutboxStore(pool), billing),
    )
    platform_queries = PlatformQueries(
        platform_store,
        platforms,
        platform_facts,
        tariffs,
        box,
        token_lifetime=settings.platform_token_lifetime,
        day_type_of=lambda day: access.calendar.day_type(day),
        outage=outage,
    )
    certificates = build_certificates(pool, settings, outage)
    services = Services(
        stations=StationService(
            stations,
            station_events,
            Presence(),
            bus,
            registration=settings.registration,
            heartbeat_interval=settings.heartbeat_interval,
            node_id=settings.node_id,
            platforms=platforms,
        ),
        authorization=authorization,
        transactions=TransactionService(
            transactions, writer, authorization, bus, billing, platforms=platforms
        ),
        billing=billing,
        notifications=build_notifications(pool),
        certificates=certificates,
        passwords=PasswordSwitch(PasswordStore(pool)),
        iso15118=Iso15118Relay(load_provider(settings.iso15118_provider)),
    )
    gateway = Gateway(settings, services, outage=outage)
    command_log = CommandStore(pool)
    router = Router(
        notifications, command_log, gateway.registry, bus, settings.node_id, outage=outage
    )
    nodes = NodeStore(pool, settings.node_id)

    def local(station_id: str) -> Caller | None:
        connection = gateway.registry.get(station_id)
        return None if connection is None else connection.endpoint

    dialects: Dialects = {OcppVersion.V16: DIALECT_16, OcppVersion.V201: DIALECT_201}
    commands = CommandService(
        dialects=dialects,
        node_id=settings.node_id,
        node_timeout=settings.node_timeout,
        local=local,
        forward=router.forward,
        commands=command_log,
        nodes=nodes,
        stations=stations,
        tokens=tokens,
        transactions=transactions,
        start_guard=authorization.check_remote_start,
        local_lists=LocalLists(LocalListStore(pool), dialects),
        notifications=services.notifications,
    )
    certificates.attach(commands)
    enforcer = SharingEnforcer(
        access,
        sharing,
        commands,
        bus,
        node_id=settings.node_id,
        local_stations=lambda: [(c.station_id, c.version) for c in gateway.registry],
        interval=settings.sharing_interval,
        outage=outage,
    )
    lockouts = LockoutService(
        lockout_store,
        commands,
        bus,
        node_id=settings.node_id,
        on_locked=authorization.locked_now,
        outage=outage,
    )
    utilization = UtilizationStore(pool, time_zone=settings.time_zone)
    api_keys = ApiKeyStore(pool)
    admin_hash, generated = await _admin_key(settings, api_keys)
    registry = RegistryStore(pool)
    await registry.ensure_default_plan()
    monitoring, reports = build_reports(pool, settings)

    background = [
        tasks.create_task(writer.run(), name="ledger-writer"),
        tasks.create_task(router.run(), name="router"),
        tasks.create_task(enforcer.run(), name="sharing"),
        tasks.create_task(lockouts.run(), name="lockouts"),
        tasks.create_task(platforms.run(), name="platforms"),
        tasks.create_task(gateway.watch_decommissions(bus), name="decommissions"),
        tasks.create_task(certificates.run(), name="certificates"),
    ]
    health = _Health()

    async def ready() -> bool:
        """Ready when the database answers and nothing this node depends on has stopped."""
        if not await database.ping(pool):
            return False
        outage.available()
        return writer.running and health.listener

    http = _EmbeddedUvicorn(
        uvicorn.Config(
            create_app(
                ApiContext(
                    node_id=settings.node_id,
                    db_ready=ready,
                    stations=stations,
                    tokens=tokens,
                    transactions=transactions,
                    keys=api_keys,
                    events=station_events,
                    commands=commands,
                    bus=bus,
                    billing=billing,
                    tariffs=tariffs,
                    cdrs=cdrs,
                    metering=metering,
                    sharing=sharing,
                    access=access,
                    enforcer=enforcer,
                    settings=settings,
                    registry=registry,
                    lockouts=lockouts,
                    utilization=utilization,
                    monitoring=monitoring,
                    reports=reports,
                    monitoring_store=MonitoringStore(pool),
                    platforms=platforms,
                    platform_queries=platform_queries,
                    bootstrap_admin_hash=admin_hash,
                    outage=outage,
                    audit=AuditStore(pool),
                    users=UserStore(pool),
                    notifications=services.notifications,
                    certificates=certificates,
                    passwords=PasswordRotation(PasswordStore(pool), stations, commands),
                )
            ),
            host=settings.host,
            port=settings.http_port,
            log_level="warning",
            lifespan="off",
            # request.client stays the peer: uvicorn would believe X-Forwarded-For from
            # 127.0.0.1 by default; csms.client_address believes only --trusted-proxies
            proxy_headers=False,
            # open event streams must not hold up a shutdown
            timeout_graceful_shutdown=2,
        )
    )
    # Bound here, not by uvicorn: on a port in use uvicorn calls sys.exit() inside its task,
    # which left the process hung and deaf to SIGTERM; an OSError names the cause instead.
    http_socket = _listen(settings.host, settings.http_port)
    http_task = tasks.create_task(http.serve(sockets=[http_socket]), name="http")
    while not http.started:
        if http_task.done():
            http_task.result()  # surfaces a bind error
            raise ConfigError(f"HTTP server did not start on port {settings.http_port}")
        await asyncio.sleep(0.01)
    http_port: int = http.servers[0].sockets[0].getsockname()[1]
    # Stations are let in last, once everything they depend on runs.
    ocpp_port = await gateway.start()
    ports = (ocpp_port, http_port)
    await nodes.heartbeat(ocpp_port=ocpp_port, http_port=http_port, starting=True)
    background.append(
        tasks.create_task(
            _maintain(
                gateway,
                nodes,
                router,
                notifications,
                transactions,
                billing,
                access,
                settings,
                ports,
                health,
                utilization,
                lockout_store,
                reports,
                platforms,
                outage,
            ),
            name="maintenance",
        )
    )
    background.append(
        tasks.create_task(_push_costs(gateway, settings, outage), name="running-cost")
    )
    csms = Running(
        ocpp_port,
        http_port,
        url,
        pool,
        services,
        gateway,
        writer,
        commands,
        bus,
        generated,
        platforms,
        lockouts,
    )
    return csms, background, http


async def _push_costs(gateway: Gateway, settings: Settings, outage: OutageLog) -> None:
    """Every cost interval, tell 2.0.1 stations the running cost of their sessions (I02)."""
    while True:
        await asyncio.sleep(settings.cost_interval)
        try:
            await gateway.push_costs()
        except Exception as exc:
            outage.failed(exc, log, "running-cost update failed")


UNBILLED_AFTER = timedelta(minutes=1)
WARMUP = 120.0  # seconds after start before the per-minute jobs (rollups, sweeps, reports)


@dataclass(slots=True)
class _Health:
    listener: bool = True


async def _maintain(
    gateway: Gateway,
    nodes: NodeStore,
    router: Router,
    notifications: Notifications,
    transactions: TransactionStore,
    billing: BillingService,
    access: AccessService,
    settings: Settings,
    ports: tuple[int, int],
    health: _Health,
    utilization: UtilizationStore,
    lockouts: LockoutStore,
    reports: ReportService,
    platforms: PlatformService,
    outage: OutageLog,
) -> None:
    """Periodic upkeep: presence and offline stations, node heartbeat, dead nodes, the
    listening connection, gauges. A failure is retried next round (a database outage is said
    once per interval); only losing this node's identity to another process ends it
    (ConfigError stops the node)."""
    sweep_every = max(0.5, min(5.0, settings.offline_after / 4, settings.node_timeout / 3))
    last_node_beat = 0.0
    last_minute = 0.0
    started = asyncio.get_running_loop().time()
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(sweep_every)
        try:
            await gateway.sweep()
            if loop.time() - last_node_beat < settings.node_timeout / 3:
                continue
            last_node_beat = loop.time()
            if not await notifications.alive():
                if health.listener:  # once, not every round of an outage
                    log.error("lost the LISTEN connection; reconnecting and reclaiming node id")
                health.listener = False
                await nodes.claim_identity(await notifications.restart())
                health.listener = True
            await nodes.heartbeat(ocpp_port=ports[0], http_port=ports[1])
            outage.available()
            await gateway.refresh_admin_states()
            lost = await nodes.release_dead(settings.node_timeout)
            if lost:
                log.warning("released %d stations of nodes that stopped answering", lost)
            router.peers = await nodes.peers(settings.node_timeout)
            metrics.OPEN_TRANSACTIONS.set(await transactions.count_open())
            # The minute's heavier jobs wait until the node has settled after its start (a
            # restart is when a boot storm comes), then run once a minute.
            if loop.time() - started >= WARMUP and loop.time() - last_minute >= 60:
                last_minute = loop.time()
                # Sessions a failure left unbilled; a calendar another node replaced.
                swept = await billing.sweep_unbilled(UNBILLED_AFTER)
                if swept:
                    log.warning("billed %d ended transactions that had no CDR", swept)
                await access.load_calendar()
                # Utilization rollups of the last hours and of the days rows delivered late
                # touched, whatever their age; the lockout gauge.
                await utilization.maintain(utcnow())
                metrics.LOCKED_STATIONS.set(await lockouts.count_open())
                # Last month's report once the month is over (due by the 5th); filed reports
                # whose month the rollups just changed (late data) are amended.
                await reports.maintain(utcnow())
                # Platforms: site information that changed, yesterday's statistics, and
                # acknowledged records past their retention.
                await platforms.sync_station_info()
                await platforms.file_daily_stats(utcnow())
                await platforms.purge(utcnow())
        except ConfigError:
            raise
        except Exception as exc:
            outage.failed(exc, log, "maintenance failed")
