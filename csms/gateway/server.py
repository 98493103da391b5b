"""The OCPP WebSocket endpoint: admits stations at the handshake and runs their RPC sessions.

One port serves both versions; the subprotocol decides which. See the design guide §4 for the
library traps this avoids (HTTP 400 on subprotocol mismatch, swallowed frame errors).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import ssl
import weakref
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request, Response

from csms import metrics
from csms.client_address import client_address
from csms.clock import monotonic, utcnow
from csms.config import Settings
from csms.domain.password import verify_password
from csms.domain.station import AdminState, RegistrationStatus, StationAuth, station_id_problem
from csms.domain.version import OcppVersion, choose_subprotocol
from csms.errors import ConfigError, CsmsError
from csms.gateway.admission import AdmissionGate
from csms.gateway.handshake import (
    basic_credentials,
    certificate_common_name,
    certificate_serial,
    station_id_from_path,
)
from csms.gateway.registry import Connection, Registry
from csms.gateway.station_socket import StationSocket
from csms.gateway.unavailable import (
    CLOSE_TRY_AGAIN_LATER,
    Translating,
    refuse_handshake,
    retry_later,
)
from csms.ocpp16.handlers import build_handlers as build_v16
from csms.ocpp201.handlers import build_handlers as build_v201
from csms.outage import OutageLog
from csms.rpc.endpoint import RpcEndpoint
from csms.services.auth_limits import station_password_limits
from csms.services.container import Services
from csms.services.events import STATION_DECOMMISSIONED, EventBus
from csms.services.session import Handler, StationSession
from csms.store.outage import cause as outage_cause

log = logging.getLogger(__name__)
COST_ROUND_BUDGET = 2.0  # seconds of pricing per running-cost round
# Missed disconnects recorded per sweep, at most (and for at most this many seconds): after a
# long outage of a big node the backlog must not hold up the node heartbeat behind the sweep.
REPLAY_BATCH = 500
REPLAY_BUDGET = 1.0

# Connections the kernel may queue before we accept them (capped by net.core.somaxconn). At the
# default 100 a city reconnecting at once overflowed the queue: dropped SYNs are retried after
# 1, 3, 7, 15... s, so stations timed out while the server sat idle (a 10,000-station storm:
# 6,161 timeouts; with 4096: none).
LISTEN_BACKLOG = 4096

# permessage-deflate without context takeover in either direction (RFC 7692 §7.1.1: the
# server may ask it of both sides). Each message is compressed on its own and no zlib state
# outlives it: with takeover, an idle station held ~39 KiB of compressor and decompressor
# windows, more than all its other state. OCPP messages are small and rarely repeat within
# one, so the bytes saved by a shared window are few.
DEFLATE = ServerPerMessageDeflateFactory(
    server_no_context_takeover=True,
    client_no_context_takeover=True,
    server_max_window_bits=12,
    compress_settings={"memLevel": 5},
)

HandlerFactory = Callable[[StationSession], Mapping[str, Handler]]
HANDLERS: dict[OcppVersion, HandlerFactory] = {
    OcppVersion.V16: build_v16,
    OcppVersion.V201: build_v201,
}

# RFC 6455 close codes used here.
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_POLICY = 1008
CLOSE_GOING_AWAY = 1001


def make_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """TLS for security profiles 2 and 3; with a client CA, client certificates are verified.

    Client certificates are optional at the TLS layer so profile-2 stations (password over TLS)
    share the port; stations registered with profile 3 must present one (checked at handshake).
    """
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # A missing or unreadable file (a volume not mounted, a key the service user cannot read)
    # is named, not reported as an OSError the start-up explainer would take for the database.
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load --tls-cert {settings.tls_cert} / --tls-key {settings.tls_key}: "
            f"{exc.strerror or exc}"
        ) from None
    if settings.tls_client_ca is not None:
        try:
            context.load_verify_locations(settings.tls_client_ca)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load --tls-client-ca {settings.tls_client_ca}: {exc.strerror or exc}"
            ) from None
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


class Gateway:
    """Accepts station connections and hands each to an RPC endpoint of its version."""

    def __init__(
        self, settings: Settings, services: Services, *, outage: OutageLog | None = None
    ) -> None:
        self._settings = settings
        self._services = services
        self.outage = outage or OutageLog(outage_cause)
        self.registry = Registry()
        # Stations admitted by _process_request, until their handler picks them up.
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, StationAuth] = (
            weakref.WeakKeyDictionary()
        )
        # (station, sha256(password), stored hash) already verified: scrypt costs ~50 ms, and a
        # boot storm of reconnecting stations must not pay it again and again.
        self._verified: set[tuple[str, bytes, str]] = set()
        self._auth_limits = station_password_limits(settings)
        self.gate = AdmissionGate()  # handshakes under overload
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Disconnects the database was down for: (station, connection id, code, reason, when
        # the socket closed), recorded by the next sweeps that reach it, oldest first.
        self._unrecorded: deque[tuple[str, int, int | None, str, datetime]] = deque()

    async def start(self) -> int:
        """Listen; return the bound port (useful with port 0)."""
        ping = self._settings.ping_interval or None
        self._server = await serve(
            self._handle,
            self._settings.host,
            self._settings.ocpp_port,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            ssl=make_ssl_context(self._settings),
            compression=None,
            extensions=[DEFLATE],  # 2.0.1 Part 4 §5.3: the CSMS must support RFC 7692
            ping_interval=ping,
            ping_timeout=ping,
            close_timeout=5,
            # a boot storm queues handshakes behind admission; slow is better than dropped
            open_timeout=60,
            max_size=2**20,
            server_header="csms",
            backlog=LISTEN_BACKLOG,
            create_connection=StationSocket,
        )
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    def _select_subprotocol(connection: ServerConnection, offered: Any) -> Any:
        # None completes the handshake without a subprotocol; _handle then closes (OCPP-J §3.1).
        return choose_subprotocol(tuple(offered))

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """Admit or refuse; a database outage is HTTP 503 with Retry-After (the station retries
        with its backoff), said once per interval, never a 500 with a traceback."""
        try:
            return await self._admission(connection, request)
        except Exception as exc:
            cause = self.outage.absorb(exc, "handshake")
            if cause is None:
                raise
            return refuse_handshake(connection)

    async def _admission(self, connection: ServerConnection, request: Request) -> Response | None:
        station_id = station_id_from_path(request.path)
        if station_id is None:
            return connection.respond(
                HTTPStatus.BAD_REQUEST, "the station id is not percent-encoded UTF-8\n"
            )
        problem = station_id_problem(station_id)
        if problem is not None:
            return connection.respond(HTTPStatus.BAD_REQUEST, problem + "\n")
        source = client_address(
            _peer_host(connection),
            request.headers.get_all("X-Forwarded-For"),
            self._settings.ocpp_trusted_proxies,
        )
        wait = self._auth_limits.retry_after(source, station_id)
        if wait > 0:  # refused unchecked: no password hash, no database query
            return _too_many_attempts(connection, station_id, source, wait)
        ticket, retry_after = self.gate.enter()
        if ticket is None:
            assert retry_after is not None  # enter() gives a ticket or a Retry-After
            metrics.HANDSHAKES_DEFERRED.inc()
            return retry_later(
                connection,
                HTTPStatus.SERVICE_UNAVAILABLE,
                "too many stations connecting; retry later",
                retry_after,
            )
        try:
            return await self._admit(connection, request, station_id, source)
        finally:
            self.gate.leave(ticket)

    async def _admit(
        self, connection: ServerConnection, request: Request, station_id: str, source: str | None
    ) -> Response | None:
        station = await self._services.stations.admit(station_id)
        if station is None:
            return connection.respond(HTTPStatus.NOT_FOUND, f"unknown station {station_id}\n")
        if station.refusal is not None:  # before the password: a retired pile retries forever
            return connection.respond(HTTPStatus.FORBIDDEN, station.refusal + "\n")
        try:
            refusal = await self._authenticate(connection, request.headers, station, source)
        except _LockedOut as locked:
            return _too_many_attempts(connection, station_id, source, locked.wait)
        if refusal is not None:
            log.warning("refused %s from %s: %s", station_id, source or "behind a proxy", refusal)
            response = connection.respond(HTTPStatus.UNAUTHORIZED, refusal + "\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="csms", charset="UTF-8"'
            return response
        self._admitted[connection] = station
        return None

    async def _authenticate(
        self,
        connection: ServerConnection,
        headers: Headers,
        station: StationAuth,
        source: str | None,
    ) -> str | None:
        """Why the station may not connect (profiles 1-3), or None when it may.

        Every Basic-credentials refusal (missing ones too: a charger that lost its password
        retries for days) counts toward the limits of `source`; see csms.services.auth_limits.
        """
        peercert = connection.transport.get_extra_info("peercert")
        common_name = certificate_common_name(peercert)
        if common_name is not None and common_name != station.station_id:
            return "client certificate does not name this station"
        if station.security_profile == 3 and common_name is None:
            return "security profile 3 needs a client certificate"
        if common_name is not None and await self._revoked(peercert):
            return "client certificate is revoked"
        if (
            station.security_profile == 2
            and connection.transport.get_extra_info("sslcontext") is None
        ):
            return "security profile 2 needs TLS"
        if station.password_hash is None:
            if station.security_profile in (1, 2):
                return f"security profile {station.security_profile} needs a password; none is set"
            return None
        refusal, used_new = await self._check_password(headers, station)
        if refusal is not None:
            self._auth_limits.failed(source, station.station_id)
            return refusal
        # Attempts sent side by side were all let in before any failed: one that was checked
        # while the others locked the station out is refused like those after it.
        wait = self._auth_limits.retry_after(source, station.station_id)
        if wait > 0:
            raise _LockedOut(wait)
        self._auth_limits.succeeded(source, station.station_id)
        if self._services.passwords is not None:
            # a rotation in progress: the new password retires the old one (issue 16, A01)
            await self._services.passwords.connected(station, used_new)
        return None

    async def _revoked(self, peercert: dict[str, Any]) -> bool:
        """Whether the CSMS's CA revoked the client certificate: the revocation list (the
        CRL's source, shared by every node) is consulted at each handshake, so a revocation
        takes effect at the station's next connection on any node."""
        certificates = self._services.certificates
        serial = certificate_serial(peercert)
        if certificates is None or serial is None:
            return False
        return await certificates.is_revoked(serial)

    async def _check_password(
        self, headers: Headers, station: StationAuth
    ) -> tuple[str | None, bool]:
        """Why the Basic credentials are not the station's (profiles 1/2), or None; and whether
        they are its pending (rotated) password rather than its current one."""
        credentials = basic_credentials(headers.get("Authorization"))
        if credentials is None:
            return "missing HTTP Basic credentials", False
        user, password = credentials
        if user != station.station_id:
            return "Basic user is not the station id", False
        candidates = ((station.password_hash, False), (station.pending_password_hash, True))
        for stored, is_new in candidates:
            if stored is not None and await self._verify(station.station_id, password, stored):
                return None, is_new
        return "wrong password", False

    async def _verify(self, station_id: str, password: str, stored: str) -> bool:
        key = (station_id, hashlib.sha256(password.encode()).digest(), stored)
        if key in self._verified:
            return True
        if not await asyncio.to_thread(verify_password, password, stored):
            return False
        self._verified.add(key)
        return True

    async def _handle(self, websocket: ServerConnection) -> None:
        station = self._admitted.pop(websocket, None)
        if station is None:  # cannot happen: _process_request admitted it
            await websocket.close(CLOSE_POLICY, "not admitted")
            return
        version = OcppVersion.from_subprotocol(websocket.subprotocol)
        if version is None:
            log.info("%s offered no supported subprotocol; closing", station.station_id)
            await websocket.close(CLOSE_PROTOCOL_ERROR, "no supported OCPP subprotocol offered")
            return
        await self._run(websocket, station, version)

    async def _run(
        self, websocket: ServerConnection, station: StationAuth, version: OcppVersion
    ) -> None:
        station_id = station.station_id
        stations = self._services.stations
        session = StationSession(
            station_id,
            version,
            self._services,
            registration=initial_registration(station.admin_state),
            keep_unaccepted_transactions=self._settings.keep_unaccepted_transactions,
        )
        endpoint = RpcEndpoint(
            websocket,
            version,
            Translating(HANDLERS[version](session), self.outage),
            validate_responses=self._settings.validate_responses,
            on_activity=lambda: stations.presence.seen(station_id),
            on_call=session.note_sent,
            label=station_id,
        )
        connection = Connection(station_id, version, websocket, endpoint, session)
        connected_at = utcnow()
        previous = self.registry.add(connection)
        try:
            if previous is not None:
                # Closing waits for the old peer (up to close_timeout when it is dead): that
                # must not hold up the new connection, so the gateway owns the closing task.
                log.info("%s reconnected; closing its previous connection", station_id)
                self._spawn(previous.close(CLOSE_GOING_AWAY, "replaced by a new connection"))
            remote = websocket.remote_address
            try:
                connection.connection_id = await stations.connected(
                    station_id,
                    version,
                    f"{remote[0]}:{remote[1]}" if remote else None,
                    connected_at,
                )
            except Exception as exc:
                # admitted just before the database went away: unrecorded, so not served
                if self.outage.absorb(exc, "handshake") is None:
                    raise
                connection.close_reason = "database unavailable"
                await websocket.close(CLOSE_TRY_AGAIN_LATER, "database unavailable; try later")
                return
            log.info("%s connected (OCPP %s)", station_id, version)
            await endpoint.run()
        except ConnectionClosed:
            pass
        finally:
            last = self.registry.remove(connection)
            if last:
                self._services.transactions.forget(station_id)
            reason = connection.close_reason or _close_text(websocket)
            gone_at = utcnow()
            log.info("%s disconnected: %s", station_id, reason)
            if connection.connection_id:
                try:
                    await stations.disconnected(
                        station_id,
                        connection.connection_id,
                        websocket.close_code,
                        reason,
                        last=last,
                        at=gone_at,
                    )
                except Exception as exc:
                    if self.outage.absorb(exc, "background") is None:
                        raise
                    # else the row would say "connected" until this node restarts
                    self._unrecorded.append(
                        (
                            station_id,
                            connection.connection_id,
                            websocket.close_code,
                            reason,
                            gone_at,
                        )
                    )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in a task the gateway owns and awaits at stop()."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record_unrecorded(
        self, batch: int = REPLAY_BATCH, budget: float = REPLAY_BUDGET
    ) -> None:
        """Record the disconnects an outage kept out of the database, oldest first, with the
        time each happened; at most `batch` of them, for at most `budget` seconds (the next
        sweep goes on). Never raises: still down, the rest waits; a disconnect that cannot be
        recorded for another reason is logged and dropped, so it cannot block those behind it
        (nor, raising every sweep, the presence flush and node heartbeat after the sweep)."""
        stations = self._services.stations
        deadline = monotonic() + budget
        for _ in range(min(batch, len(self._unrecorded))):
            if monotonic() > deadline:
                break
            station_id, connection_id, code, reason, at = self._unrecorded[0]
            # a station that reconnected meanwhile keeps its presence and sends no news
            last = self.registry.get(station_id) is None
            try:
                await stations.disconnected(
                    station_id, connection_id, code, reason, last=last, at=at
                )
            except Exception as exc:
                if self.outage.absorb(exc, "background") is not None:
                    return  # down again: kept for a later sweep
                log.exception(
                    "dropped the disconnect of %s at %s (connection %s): cannot be recorded",
                    station_id,
                    at.isoformat(),
                    connection_id,
                )
            self._unrecorded.popleft()

    async def sweep(self) -> None:
        """Flush presence, close silent stations, record (a batch of) missed disconnects."""
        stations = self._services.stations
        await stations.flush_presence(
            lambda sid: (c.connection_id or None) if (c := self.registry.get(sid)) else None
        )
        silent = stations.presence.silent(utcnow(), self._settings.offline_after)
        closing = []
        for station_id in silent:
            connection = self.registry.get(station_id)
            stations.presence.forget(station_id)
            if connection is not None:
                closing.append(connection.close(CLOSE_POLICY, "silent past heartbeat interval"))
        if closing:
            log.info("closing %d silent stations", len(closing))
            await asyncio.gather(*closing, return_exceptions=True)
        # last, bounded and never raising: the node heartbeat after the sweep must not wait
        # behind an outage's backlog, nor fail with a disconnect that cannot be recorded
        await self._record_unrecorded(budget=min(REPLAY_BUDGET, self._settings.node_timeout / 10))

    async def push_costs(self, budget: float = COST_ROUND_BUDGET) -> None:
        """Refresh the running cost of open sessions on this node (API, live feed) and send
        CostUpdated to 2.0.1 stations whose session cost changed (I02).

        A round stops after `budget` seconds: 2.0.1 sessions first (drivers see their cost),
        the least recently priced first, and the next round goes on where this one stopped,
        so thousands of sessions never stall the node.
        """
        billing = self._services.billing
        sessions = await billing.open_sessions([c.station_id for c in self.registry])
        sessions.sort(key=lambda t: (t["ocpp_version"] != "2.0.1", billing.priced_at(t["id"])))
        deadline = monotonic() + budget
        for tx in sessions:
            if monotonic() > deadline:
                break
            before = billing.last_total(tx["id"])
            try:
                total = await billing.running_total(tx["id"], fresh=True)
            except Exception as exc:  # one session that cannot be priced must not stop the others
                if self.outage.absorb(exc, "background") is not None:
                    break  # none can be priced now; the next round tries again
                log.exception("running cost of transaction %s failed", tx["id"])
                continue
            connection = self.registry.get(tx["station_id"])
            if (
                connection is not None
                and connection.version is OcppVersion.V201
                # nothing is sent to a Pending or Rejected station (B02.FR.09, B03.FR.03)
                and not connection.session.restricted
                and total is not None
                and total != before
            ):
                self._spawn(_cost_updated(connection, tx["station_tx_id"], total))

    async def refresh_admin_states(self) -> None:
        """Apply block/unblock/pending decisions to live sessions (they may come from any node):
        a blocked station's session turns Rejected without waiting for its next boot."""
        restricted = [c.station_id for c in self.registry if c.session.restricted]
        states = await self._services.stations.admin_states(restricted)
        for station_id, state in states.items():
            connection = self.registry.get(station_id)
            if connection is not None:
                connection.session.apply_admin_state(state)
        # a decommissioning whose news was lost (or made by the CLI) is caught here
        for station_id in await self._services.stations.decommissioned_here():
            self._close_decommissioned(station_id)

    async def watch_decommissions(self, bus: EventBus) -> None:
        """Close the socket of a station decommissioned on any node as soon as the news comes;
        the handshake refuses it from then on. Runs until cancelled."""
        with bus.subscribe(lambda event: event.type == STATION_DECOMMISSIONED) as news:
            while True:
                event = await news.next(timeout=60)
                if event is not None:
                    self._close_decommissioned(event.station_id)

    def _close_decommissioned(self, station_id: str) -> None:
        connection = self.registry.get(station_id)
        if connection is not None and connection.close_reason is None:
            log.info("%s decommissioned; closing its connection", station_id)
            self._spawn(connection.close(CLOSE_POLICY, "station decommissioned"))


async def _cost_updated(connection: Connection, transaction: str, total: Decimal) -> None:
    try:
        await connection.endpoint.call(
            "CostUpdated", {"totalCost": float(total), "transactionId": transaction}, timeout=30
        )
    except CsmsError as failed:  # a running total is advisory: the next round tries again
        log.debug("%s: CostUpdated not taken: %s", connection.station_id, failed)


def initial_registration(state: AdminState) -> RegistrationStatus | None:
    """Before any boot on this connection: what the administrative state already decides."""
    return {
        AdminState.BLOCKED: RegistrationStatus.REJECTED,
        AdminState.PENDING: RegistrationStatus.PENDING,
    }.get(state)


def _peer_host(connection: ServerConnection) -> str | None:
    remote = connection.remote_address
    return str(remote[0]) if remote else None


class _LockedOut(Exception):
    """The station or source was locked out while its credentials were being checked."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"locked out for {wait:.0f} s more")
        self.wait = wait


def _too_many_attempts(
    connection: ServerConnection, station_id: str, source: str | None, wait: float
) -> Response:
    """HTTP 429 + Retry-After, not 401: the credentials were not even looked at. A charger
    treats either as a failed connection and retries after its back-off; the right password
    works again as soon as the lockout ends."""
    seconds = math.ceil(wait)
    log.debug("refused %s from %s unchecked: locked out for %ds more", station_id, source, seconds)
    return retry_later(
        connection,
        HTTPStatus.TOO_MANY_REQUESTS,
        f"too many failed credentials; retry in {seconds} s",
        seconds,
    )


def _close_text(websocket: ServerConnection) -> str:
    code = websocket.close_code
    if code is None:
        return "connection lost"
    # The reason is the station's own text; PostgreSQL stores no NUL, and a disconnect that
    # cannot be written would leave the station "connected" until the node restarts.
    reason = (websocket.close_reason or "").replace("\x00", "\ufffd")
    return f"closed {code} {reason}".strip()
