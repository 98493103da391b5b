"""Safety lockouts (plan 二(六)17): a station marked hazardous is made inoperative, refuses every
start and is shown as locked until the rectification that lifts it is recorded.

Lock and lift send a whole-station ChangeAvailability (Inoperative / Operative) at once when the
station is connected, through the command service (so it reaches the node holding the socket and
is in the command log). A station that was offline gets it when it next boots on any node: each
node watches the boots of its own stations. Starts are refused by AuthorizationService, which
asks the lockout store on every start; stops are never refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from csms import metrics
from csms.clock import utcnow
from csms.domain.scope import Scope
from csms.errors import CsmsError, StationOffline
from csms.outage import OutageLog
from csms.services.commands import CommandService
from csms.services.events import EventBus, booted_here
from csms.services.recent import RecentSet
from csms.store.lockouts import LockoutStore
from csms.store.outage import cause as outage_cause

log = logging.getLogger(__name__)

SYSTEM = "lockout"  # requested_by of the commands sent when a station boots
COMMAND_TIMEOUT = 30.0
BOOT_SETTLE = 1.0  # seconds between a station's boot event and our command (it gets its answer)
KNOWN_MAX_AGE = 5.0  # seconds a cached set of special stations may be old


@dataclass(frozen=True, slots=True)
class Availability:
    """What became of the ChangeAvailability a lock or lift sent."""

    sent: bool
    status: str | None  # the station's answer: Accepted, Scheduled, Rejected
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "status": self.status, "detail": self.detail}


class LockoutService:
    def __init__(
        self,
        store: LockoutStore,
        commands: CommandService,
        bus: EventBus,
        *,
        node_id: str,
        boot_settle: float = BOOT_SETTLE,
        command_timeout: float = COMMAND_TIMEOUT,
        on_locked: Callable[[str], None] | None = None,
        outage: OutageLog | None = None,
    ) -> None:
        self._outage = outage or OutageLog(outage_cause)
        self._on_locked = on_locked  # tells authorization at once (it caches locked stations)
        self._store = store
        self._commands = commands
        self._bus = bus
        self._node_id = node_id
        self._boot_settle = boot_settle
        self._timeout = command_timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self.boot_checks = 0  # boots whose lockout state was checked (applied or failed)
        # Only a station that ever had a lockout can owe a change at boot (seconds fresh).
        self._ever_locked = RecentSet(store.stations_ever_locked, max_age=KNOWN_MAX_AGE)

    async def lock(
        self, station_id: str, hazard: str, by: str
    ) -> tuple[dict[str, Any], Availability]:
        """Open a lockout (Conflict if one is open) and make the station inoperative."""
        lockout = await self._store.lock(station_id, hazard, by, utcnow())
        self._ever_locked.add(station_id)
        if self._on_locked is not None:
            self._on_locked(station_id)
        metrics.LOCKOUTS.labels("locked").inc()
        self._bus.publish(
            "station.locked", station_id, lockout_id=lockout["id"], hazard=hazard, by=by
        )
        availability = await self._availability(station_id, operative=False, by=by)
        stopped = await self._stop_sessions(station_id, by) if availability.sent else 0
        if stopped:
            # Plan 二(六)17: out of use immediately, so running sessions end now, not later.
            availability = Availability(
                availability.sent,
                availability.status,
                f"{availability.detail}; asked {stopped} running session(s) to stop",
            )
        return lockout, availability

    async def _stop_sessions(self, station_id: str, by: str) -> int:
        asked = 0
        for transaction_id in await self._store.open_sessions(station_id):
            try:
                await self._commands.send(
                    station_id,
                    "remote-stop",
                    {"transaction_id": transaction_id},
                    requested_by=by,
                    timeout=self._timeout,
                )
                asked += 1
            except CsmsError as exc:  # in the command log; the station is inoperative anyway
                log.warning(
                    "%s: stopping %s for a lockout failed: %s", station_id, transaction_id, exc
                )
        return asked

    async def lift(
        self, station_id: str, rectification: str, by: str
    ) -> tuple[dict[str, Any], Availability]:
        """Close the open lockout (Conflict if none) and make the station operative again."""
        lockout = await self._store.lift(station_id, rectification, by, utcnow())
        metrics.LOCKOUTS.labels("lifted").inc()
        self._bus.publish(
            "station.unlocked",
            station_id,
            lockout_id=lockout["id"],
            rectification=rectification,
            by=by,
        )
        return lockout, await self._availability(station_id, operative=True, by=by)

    async def _availability(self, station_id: str, *, operative: bool, by: str) -> Availability:
        try:
            result = await self._commands.send(
                station_id,
                "change-availability",
                {"operative": operative, "evse_id": 0, "connector_id": None},
                requested_by=by,
                timeout=self._timeout,
            )
        except StationOffline:
            return Availability(False, None, "the station is offline: it is sent when it boots")
        except CsmsError as exc:  # in the command log; the next boot sends it again
            log.warning("%s: ChangeAvailability for a lockout failed: %s", station_id, exc)
            return Availability(False, None, f"not delivered ({exc}): sent again when it boots")
        status = result.response.get("status")
        return Availability(True, str(status) if status is not None else None, "answered")

    async def run(self) -> None:
        """Apply lockouts (and lifts the station missed) to this node's stations as they boot."""
        with self._bus.subscribe(booted_here(self._node_id)) as booted:
            try:
                while True:
                    event = await booted.next(timeout=3600)
                    if event is not None:
                        self._spawn(self._after_boot(event.station_id))
            finally:
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_boot(self, station_id: str) -> None:
        # The boot event precedes our BootNotification answer: let the station have it first.
        await asyncio.sleep(self._boot_settle)
        try:
            if await self._ever_locked.contains(station_id):
                await self.apply(station_id)
        except Exception as exc:
            self._outage.failed(
                exc, log, "%s: applying its lockout state after boot failed", station_id
            )
        self.boot_checks += 1

    async def apply(self, station_id: str) -> Availability | None:
        """Tell a station what its lockout state needs: Inoperative while locked out, Operative
        when a lift never reached it; None when there is nothing to say."""
        if await self._store.hazard(station_id) is not None:
            return await self._availability(station_id, operative=False, by=SYSTEM)
        if await self._store.operative_owed(station_id):
            return await self._availability(station_id, operative=True, by=SYSTEM)
        return None

    async def history(
        self,
        *,
        station_id: str | None = None,
        open_only: bool | None = None,
        limit: int = 100,
        offset: int = 0,
        scope: Scope | None = None,
    ) -> list[dict[str, Any]]:
        return await self._store.search(
            station_id=station_id, open_only=open_only, limit=limit, offset=offset, scope=scope
        )

    async def station_exists(self, station_id: str) -> bool:
        return await self._store.station_exists(station_id)
