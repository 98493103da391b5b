"""The simulated station: power-up, connection with back-off, boot, heartbeat, and its EVSEs.

Every task a station runs belongs to its TaskGroup: the connection loop, the outbox sender,
sessions, timers and the follow-ups of CSMS commands. `run()` returns after a graceful shutdown:
sessions stopped, queued messages delivered (or the drain timed out), socket closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from websockets.asyncio.client import ClientConnection

from simulators import timestamps
from simulators.auth_lists import ACCEPTED, AuthCache, AuthEntry, LocalAuthList, offline_decision
from simulators.auth_lists import local_decision as local_auth
from simulators.backoff import BackoffPolicy
from simulators.meter import EnergyMeter, initial_register_wh
from simulators.rpc import (
    CallErrorReceived,
    CallFailed,
    CallTimeout,
    ConnectionLost,
    FrameLog,
    RpcConnection,
)
from simulators.smart_charging import ProfileStore
from simulators.station.config import StationConfig
from simulators.station.connect import ConnectFailed, open_socket
from simulators.station.dialect import Dialect
from simulators.station.evse import Evse, Reservation
from simulators.station.outbox import Outbox
from simulators.station.session import Session, SessionPlan, SessionResult, StopCause, run_session
from simulators.stats import Recorder

log = logging.getLogger(__name__)

Behaviour = Callable[["Station"], Coroutine[Any, Any, None]]

CONNECTOR_TYPES = {"AC": "sType2", "DC": "cCCS2"}  # what the device model reports


class EvseBusy(Exception):
    """A session cannot begin on this EVSE now."""


class Station:
    def __init__(
        self,
        config: StationConfig,
        *,
        stats: Recorder | None = None,
        frame_log: FrameLog | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.id = config.station_id
        self.version = config.version
        self.stats = stats if stats is not None else Recorder()
        self.stats.stations += 1
        self.frame_log = frame_log
        self.rng = rng or random.Random()
        register = config.register_wh
        if register is None:
            register = initial_register_wh(config.kind.rated_w, time.time())
        self.evses: dict[int, Evse] = {
            i: Evse(
                i, config.kind, EnergyMeter(float(register)), CONNECTOR_TYPES[config.kind.current]
            )
            for i in range(1, config.evses + 1)
        }
        self.sessions: dict[int, Session] = {}
        self.results: list[SessionResult] = []
        self.profiles = ProfileStore()
        self.local_list = LocalAuthList()
        self.auth_cache = AuthCache()
        self.password = config.password
        self.firmware_version = config.firmware_version
        self.backoff: BackoffPolicy = config.backoff
        self.boot_reason = "PowerUp"
        # firmware / diagnostics progress, for TriggerMessage (see maintenance.py)
        self.firmware_status = "Idle"
        self.firmware_request_id: int | None = None
        self.upload_status = "Idle"
        self.upload_request_id: int | None = None
        self.after_boot: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self.reset_when_idle: str | None = None  # 2.0.1 Reset OnIdle: the boot reason to use

        self.dialect: Dialect = _dialect_for(self)
        self.outbox = Outbox(
            capacity=config.queue_capacity,
            stats=self.stats,
            ready=self._wait_ready,
            attempts=self.dialect.message_attempts,
            retry_interval=self.dialect.message_retry_interval,
            label=self.id,
        )
        self._tasks: asyncio.TaskGroup | None = None
        self._owned: set[asyncio.Task[Any]] = set()
        self._session_tasks: set[asyncio.Task[SessionResult | None]] = set()
        self._reservation_timers: dict[int, asyncio.Task[Any]] = {}
        self._jobs: dict[str, asyncio.Task[Any]] = {}  # firmware update, log upload: one each
        self._socket: ClientConnection | None = None
        self._connection: RpcConnection | None = None
        self.ever_connected = False  # a WebSocket to the CSMS was open at least once
        self.last_connect_failure: ConnectFailed | None = None
        self._ready = asyncio.Event()
        self._booted = False
        self._station_status_due = True
        self._boot_wakeup = asyncio.Event()
        self._heartbeat_wakeup = asyncio.Event()
        self._link_wakeup = asyncio.Event()
        self._transactions_changed = asyncio.Event()
        self._evses_changed = asyncio.Event()
        self._unreachable_until = 0.0  # loop time: simulated outage or reboot in progress
        self._planned_disconnect = False
        self._closing = False  # shutting down: no new sessions
        self._stopping = False  # sessions are over: the link only delivers what is queued

    # -- running ------------------------------------------------------------------------------

    @property
    def online(self) -> bool:
        """Connected and accepted: messages go out now."""
        return self._ready.is_set()

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.closed

    async def run(
        self,
        behaviour: Behaviour | None = None,
        *,
        stop: asyncio.Event | None = None,
        drain_timeout: float = 30.0,
    ) -> None:
        """Power up and run until `stop` is set or `behaviour` returns; then shut down."""
        stop = stop or asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            self._tasks = tasks
            self._own(tasks.create_task(self._link_loop(), name=f"{self.id} link"))
            self._own(tasks.create_task(self.outbox.run(), name=f"{self.id} outbox"))
            stopper = tasks.create_task(stop.wait())
            waiting: set[asyncio.Task[Any]] = {stopper}
            work = None
            if behaviour is not None:
                work = tasks.create_task(behaviour(self), name=f"{self.id} behaviour")
                waiting.add(work)
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if work is not None:
                work.cancel()
            try:
                await self._shutdown(drain_timeout)
            finally:
                for task in list(self._owned):
                    task.cancel()

    def _own(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        self._owned.add(task)
        task.add_done_callback(self._owned.discard)
        return task

    def spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        """Run follow-up work in the station's TaskGroup; a failure is logged, not fatal."""
        if self._tasks is None or self._closing:
            work.close()
            return
        self._own(self._tasks.create_task(self._guarded(work, what), name=f"{self.id} {what}"))

    async def _guarded(self, work: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: %s failed", self.id, what)
            self.stats.error("StationFault")

    async def _shutdown(self, drain_timeout: float) -> None:
        """Stop the sessions, then deliver what they queued (ending any outage), then close."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_timeout
        self._closing = True  # no new sessions from here on
        for session in list(self.sessions.values()):
            session.request_stop(StopCause.LOCAL)
        if self._session_tasks:
            await asyncio.wait(list(self._session_tasks), timeout=drain_timeout)
        # Only now, with every stop queued, may the link loop decide it has nothing to deliver.
        self._stopping = True
        self._unreachable_until = 0.0  # an outage in progress ends: queued messages must go
        self._link_wakeup.set()
        remaining = max(0.1, deadline - loop.time())
        if not await self.outbox.drain(remaining):
            log.warning("%s: %d messages undelivered at shutdown", self.id, len(self.outbox.queue))
            self.stats.error("UndeliveredAtShutdown")
        if self._socket is not None:
            await self._socket.close(1000, "station shutting down")

    async def _link_loop(self) -> None:
        """Connect, stay connected, and reconnect with back-off (2.0.1 Part 4 §5.3)."""
        attempt = 0
        while True:
            await self._wait_reachable()
            if self._stopping and self.outbox.queue.head() is None:
                return  # nothing left to deliver
            try:
                socket = await open_socket(self.config, self.password)
            except ConnectFailed as failure:
                self.last_connect_failure = failure
                self.stats.connect_failed(self.id, failure)
                log.info("%s: connect failed (%s)", self.id, failure)
                if self._stopping:
                    return
                await self._pause(self.backoff.delay(attempt, self.rng.random()))
                attempt += 1
                continue
            attempt = 0
            self.stats.link_up(reconnect=self.ever_connected)
            self.ever_connected = True
            try:
                await self._online(socket)
            finally:
                self.stats.link_down()
                self._offline()
            if self._stopping:
                return
            if self._planned_disconnect:
                self._planned_disconnect = False
                continue  # reboot or new credentials: back after the reboot delay, no back-off
            await self._wait_reachable()
            await self._pause(self.backoff.delay(attempt, self.rng.random()))
            attempt += 1

    async def _wait_reachable(self) -> None:
        """Sleep through a simulated outage or reboot (ended early by shutdown)."""
        loop = asyncio.get_running_loop()
        while not self._stopping and loop.time() < self._unreachable_until:
            await self._pause(self._unreachable_until - loop.time())

    async def _pause(self, seconds: float) -> None:
        self._link_wakeup.clear()
        if self._stopping:
            return
        try:
            async with asyncio.timeout(seconds):
                await self._link_wakeup.wait()
        except TimeoutError:
            pass

    async def _online(self, socket: ClientConnection) -> None:
        connection = RpcConnection(
            socket,
            self.version,
            self.dialect.handlers(),
            stats=self.stats,
            spawn=self.spawn,
            label=self.id,
            call_timeout=self.config.call_timeout,
            frame_log=self.frame_log,
        )
        self._socket = socket
        self._connection = connection
        async with asyncio.TaskGroup() as tasks:
            keeper = tasks.create_task(self._keep_registered(connection))
            try:
                await connection.serve()
            finally:
                keeper.cancel()

    def _offline(self) -> None:
        self._ready.clear()
        self.outbox.online = False
        self._connection = None
        self._socket = None
        self.outbox.link_lost()
        for evse in self.evses.values():
            evse.reported = None  # statuses are sent again after the reconnect

    async def _keep_registered(self, connection: RpcConnection) -> None:
        try:
            if not self._booted:
                await self._boot(connection)
            self.outbox.online = True
            self._ready.set()
            self.stats.accepted(self.id)
            if self._station_status_due:
                self._station_status_due = False
                for payload in self.dialect.station_status_requests():
                    self.outbox.push("StatusNotification", payload)
            for evse in self.evses.values():
                self.status_changed(evse)
            hooks, self.after_boot = self.after_boot, []
            for hook in hooks:
                self.spawn(hook(), "after boot")
            await self._heartbeats(connection)
        except ConnectionLost:
            return

    async def _boot(self, connection: RpcConnection) -> None:
        """BootNotification until Accepted (1.6 §4.2, 2.0.1 B01-B03)."""
        while not self._booted:
            try:
                answer = await connection.call(
                    "BootNotification", self.dialect.boot_request(self.boot_reason)
                )
            except CallTimeout:
                continue
            except CallErrorReceived:
                await asyncio.sleep(self.backoff.delay(0, self.rng.random()))
                continue
            if self._booted:
                return  # a triggered boot got there first
            status = answer["status"]
            interval = int(answer.get("interval", 0))
            self.stats.boots[status] += 1
            if status == ACCEPTED:
                self._accept_boot(interval)
                return
            # Pending/Rejected: boot again after the interval the CSMS gave (or a sane default).
            self._boot_wakeup.clear()
            try:
                async with asyncio.timeout(interval if interval > 0 else 60):
                    await self._boot_wakeup.wait()
            except TimeoutError:
                pass

    def _accept_boot(self, interval: int) -> None:
        self._booted = True
        self.boot_reason = "PowerUp"
        if interval > 0:
            self.dialect.set_heartbeat_interval(interval)

    async def triggered_boot(self) -> None:
        """TriggerMessage(BootNotification): boot now and act on the answer."""
        answer = await self.call("BootNotification", self.dialect.boot_request("Triggered"))
        if answer is None:
            return
        self.stats.boots[answer["status"]] += 1
        if answer["status"] == ACCEPTED and not self._booted:
            self._accept_boot(int(answer.get("interval", 0)))
            self._boot_wakeup.set()

    async def _heartbeats(self, connection: RpcConnection) -> None:
        while True:
            self._heartbeat_wakeup.clear()
            try:
                async with asyncio.timeout(self.dialect.heartbeat_interval()):
                    await self._heartbeat_wakeup.wait()
                continue  # the interval changed: wait the new one
            except TimeoutError:
                pass
            with contextlib.suppress(CallTimeout, CallErrorReceived):
                await connection.call("Heartbeat", {})

    def heartbeat_interval_changed(self) -> None:
        self._heartbeat_wakeup.set()

    async def wait_online(self) -> None:
        """Until the station is connected and its boot accepted."""
        await self._ready.wait()

    async def _wait_ready(self) -> RpcConnection:
        while True:
            await self._ready.wait()
            connection = self._connection
            if connection is not None and not connection.closed:
                return connection
            await asyncio.sleep(0.01)

    # -- talking to the CSMS --------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A CALL outside the outbox (boot, heartbeat, authorize); None when it got no result."""
        connection = self._connection
        if connection is None:
            return None
        try:
            return await connection.call(action, payload)
        except CallFailed:
            return None

    def send(self, action: str, payload: dict[str, Any]) -> None:
        """Queue a message that only matters while connected (dropped when offline)."""
        self.outbox.push(action, payload)

    def status_changed(self, evse: Evse) -> None:
        """Tell the CSMS when an EVSE's status differs from the last one sent."""
        self._evses_changed.set()
        status = evse.status(self.version)
        if status == evse.reported or not self.online:
            return  # offline: the difference is sent after the reconnect
        evse.reported = status
        for payload in self.dialect.status_requests(evse):
            self.outbox.push("StatusNotification", payload)

    def simulate_outage(self, seconds: float) -> None:
        """The network goes away for `seconds`: no close handshake, the CSMS just loses us."""
        loop = asyncio.get_running_loop()
        self._unreachable_until = max(self._unreachable_until, loop.time() + seconds)
        if self._socket is not None and self._socket.transport is not None:
            self._socket.transport.abort()

    async def authorize(self, token: str, token_type: str = "ISO14443") -> str:
        """Authorize online (or from the local list when LocalPreAuthorize), else offline rules."""
        now = timestamps.utcnow()
        local_list = self.local_list if self.dialect.local_list_enabled() else None
        cache = self.auth_cache if self.dialect.cache_enabled() else None
        if self.online:
            if self.dialect.local_pre_authorize():
                known = local_auth(token, now, local_list=local_list, cache=cache)
                if known is not None and known.status == ACCEPTED:
                    return ACCEPTED
            answer = await self.call("Authorize", self.dialect.authorize_request(token, token_type))
            if answer is not None:
                entry = self.dialect.auth_entry(answer)
                self.remember(token, entry)
                return entry.status
        return offline_decision(
            token,
            now,
            local_list=local_list,
            cache=cache,
            authorize_offline=self.dialect.authorize_offline(),
            unknown_allowed=self.dialect.offline_unknown_allowed(),
        )

    def remember(self, token: str, entry: AuthEntry) -> None:
        """Put what the CSMS said about a token in the Authorization Cache (when enabled)."""
        if self.dialect.cache_enabled():
            self.auth_cache.record(token, entry, timestamps.utcnow())

    def group_of(self, token: str) -> str | None:
        entry = local_auth(
            token, timestamps.utcnow(), local_list=self.local_list, cache=self.auth_cache
        )
        return None if entry is None else entry.group

    # -- sessions ---------------------------------------------------------------------------------

    def start_session(self, evse_id: int, plan: SessionPlan) -> asyncio.Task[SessionResult | None]:
        evse = self.evses.get(evse_id)
        if evse is None or not evse.idle or not evse.startable:
            raise EvseBusy(f"EVSE {evse_id} cannot start a session now")
        if self._tasks is None or self._closing:
            raise EvseBusy("the station is not running")
        evse.plugged = True  # claimed now, so a second start cannot race this one
        task = self._tasks.create_task(self._session(evse, plan), name=f"{self.id} evse {evse_id}")
        self._own(task)
        self._session_tasks.add(task)
        task.add_done_callback(self._session_tasks.discard)
        return task

    async def charge(self, evse_id: int, plan: SessionPlan) -> SessionResult | None:
        """Run a session and wait for it; cancelling the caller does not cut the session short."""
        return await asyncio.shield(self.start_session(evse_id, plan))

    async def _session(self, evse: Evse, plan: SessionPlan) -> SessionResult | None:
        try:
            result = await run_session(self, evse, plan)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: session on EVSE %d failed", self.id, evse.id)
            self.stats.error("StationFault")
            return None
        self.results.append(result)
        return result

    def transaction_finished(self, evse: Evse) -> None:
        """A transaction ended: scheduled availability changes and resets may apply now."""
        if evse.pending_operative is not None:
            evse.operative = evse.pending_operative
            evse.pending_operative = None
        self._transactions_changed.set()
        if self.reset_when_idle is not None and not self.sessions:
            reason, self.reset_when_idle = self.reset_when_idle, None
            self.spawn(self.reboot(reason, StopCause.REBOOT), "scheduled reset")

    async def wait_evse_idle(self, evse_id: int) -> None:
        """Until nothing goes on at the EVSE (no cable, no transaction)."""
        evse = self.evses[evse_id]
        while not evse.idle:
            self._evses_changed.clear()
            await self._evses_changed.wait()

    async def wait_idle(self) -> None:
        """Until no transaction runs on any EVSE."""
        while any(e.in_transaction for e in self.evses.values()):
            self._transactions_changed.clear()
            await self._transactions_changed.wait()

    def find_session(self, transaction_id: str) -> Session | None:
        for session in self.sessions.values():
            if session.id_text == transaction_id or session.tx_id == transaction_id:
                return session
        return None

    def limit_w(self, session: Session) -> float:
        evse = session.evse
        kind = evse.kind
        return self.profiles.limit_w(
            evse.id,
            timestamps.utcnow(),
            tx_id=session.id_text,
            tx_start=session.started_at,
            to_watts=lambda limit, unit, phases: (
                limit if unit == "W" else kind.amps_to_watts(limit, phases)
            ),
            rated_w=kind.rated_w,
        )

    # -- operations the CSMS asks for (both versions) -------------------------------------------

    def pick_evse(self, evse_id: int | None, id_tag: str) -> Evse | None:
        """The EVSE a remote start would use: the one named, else the first free one."""
        candidates = [self.evses[evse_id]] if evse_id in self.evses else []
        if evse_id is None or evse_id == 0:
            candidates = list(self.evses.values())
        for evse in candidates:
            if not evse.idle or not evse.startable:
                continue
            if evse.reservation is None or self.reservation_allows(evse.reservation, id_tag):
                return evse
        return None

    def change_availability(self, evse_id: int | None, operative: bool) -> str:
        """Accepted, or Scheduled when a transaction must end first (1.6 §5.2, 2.0.1 G03/G04)."""
        targets = list(self.evses.values()) if not evse_id else [self.evses[evse_id]]
        scheduled = False
        for evse in targets:
            if evse.in_transaction and not operative:
                evse.pending_operative = False
                scheduled = True
                continue
            evse.pending_operative = None
            evse.operative = operative
            self.status_changed(evse)
        return "Scheduled" if scheduled else "Accepted"

    def release_cable(self, evse: Evse) -> None:
        """Unlock: a cable left in after a session comes out."""
        if evse.plugged and not evse.in_transaction:
            evse.plugged = False
            evse.phase = None
            self.status_changed(evse)

    def reserve(self, reservation: Reservation, evse: Evse) -> None:
        old = self.find_reservation(reservation.id)
        if old is not None:
            self._drop_reservation(old)
        evse.reservation = reservation
        self.status_changed(evse)
        delay = (reservation.expires_at - timestamps.utcnow()).total_seconds()
        if self._tasks is not None:
            self._reservation_timers[reservation.id] = self._own(
                self._tasks.create_task(self._expire(reservation, max(0.0, delay)))
            )

    def find_reservation(self, reservation_id: int) -> Reservation | None:
        for evse in self.evses.values():
            if evse.reservation is not None and evse.reservation.id == reservation_id:
                return evse.reservation
        return None

    def reservation_allows(self, reservation: Reservation, id_tag: str) -> bool:
        if reservation.id_tag == id_tag:
            return True
        return reservation.group is not None and self.group_of(id_tag) == reservation.group

    def consume_reservation(self, reservation: Reservation) -> None:
        """A session for the reserved token began: the reservation is used up."""
        self._drop_reservation(reservation)

    def cancel_reservation(self, reservation_id: int) -> bool:
        reservation = self.find_reservation(reservation_id)
        if reservation is None:
            return False
        self._drop_reservation(reservation)
        self.dialect.reservation_ended(reservation, expired=False)
        return True

    def _drop_reservation(self, reservation: Reservation) -> None:
        timer = self._reservation_timers.pop(reservation.id, None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        for evse in self.evses.values():
            if evse.reservation is reservation:
                evse.reservation = None
                self.status_changed(evse)

    async def _expire(self, reservation: Reservation, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.find_reservation(reservation.id) is reservation:
            self._drop_reservation(reservation)
            self.dialect.reservation_ended(reservation, expired=True)

    def cancel_job(self, name: str) -> bool:
        """Cancel the running job of that kind; True when there was one."""
        task = self._jobs.pop(name, None)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def run_job(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as the station's one job of that kind (a newer one cancels it)."""
        task = asyncio.current_task()
        assert task is not None
        self._jobs[name] = task
        try:
            await work
        finally:
            if self._jobs.get(name) is task:
                del self._jobs[name]

    async def stop_all(self, cause: StopCause) -> None:
        """Stop every transaction and wait until their stops are queued."""
        for session in list(self.sessions.values()):
            session.request_stop(cause)
        await self.wait_idle()

    async def reboot(self, boot_reason: str, cause: StopCause, *, graceful: bool = True) -> None:
        """Reset: end transactions, go offline for a while, come back and boot again.

        Graceful (1.6 Soft reset, 2.0.1 reset, firmware install): the transaction stops are
        delivered before the restart. Not graceful (1.6 Hard reset, §5.14): the station restarts
        at once and sends the stops after its next accepted boot.
        """
        await self.stop_all(cause)
        if graceful and self.online:
            await self.outbox.drain(self.config.call_timeout)
        self._booted = False
        self._station_status_due = True
        self.boot_reason = boot_reason
        self._planned_disconnect = True
        self._unreachable_until = asyncio.get_running_loop().time() + self.config.reboot_seconds
        socket = self._socket
        if socket is not None:
            await socket.close(1001, "rebooting")
        else:
            self._planned_disconnect = False  # not connected: the link loop is waiting anyway

    def apply_password(self, password: str) -> None:
        """A new Basic-auth password: reconnect with it (1.6 security §1.3.5 / 2.0.1 A01)."""
        self.password = password
        socket = self._socket
        if socket is not None:
            self._planned_disconnect = True  # reconnect at once, no back-off
            self.spawn(socket.close(1000, "new credentials"), "reconnect with new password")

    def set_backoff(self, **changes: float) -> None:
        self.backoff = replace(self.backoff, **changes)  # type: ignore[arg-type]


def _dialect_for(station: Station) -> Dialect:
    # Imported here: the dialects import the station module for its types.
    if station.version == "1.6":
        from simulators.station.ocpp16 import Ocpp16

        return Ocpp16(station)
    from simulators.station.ocpp201 import Ocpp201

    return Ocpp201(station)
