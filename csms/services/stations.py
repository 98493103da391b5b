"""Station lifecycle: admission at the handshake, boot, status, presence and what they report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from csms.clock import utcnow
from csms.config import RegistrationPolicy
from csms.domain.station import (
    AdminState,
    BootInfo,
    ConnectorStatus,
    RegistrationStatus,
    StationAuth,
    boot_status,
)
from csms.domain.version import OcppVersion
from csms.services.events import EventBus
from csms.services.platforms import PlatformService
from csms.services.presence import Presence
from csms.store.events import EventStore
from csms.store.stations import StationStore

log = logging.getLogger(__name__)

# The boot answer for each administrative state, handed to the store so that recording a
# boot and deciding it take one statement.
BOOT_ANSWERS = {state.value: boot_status(state).value for state in AdminState}


class StationService:
    def __init__(
        self,
        stations: StationStore,
        events: EventStore,
        presence: Presence,
        bus: EventBus,
        *,
        registration: RegistrationPolicy,
        heartbeat_interval: int,
        node_id: str,
        platforms: PlatformService | None = None,
    ) -> None:
        self._stations = stations
        self._events = events
        self.presence = presence
        self._bus = bus
        self._registration = registration
        self.heartbeat_interval = heartbeat_interval
        self.node_id = node_id
        self._platforms = platforms

    async def admit(self, station_id: str) -> StationAuth | None:
        """The station as the handshake should see it; None when it may not connect at all.

        Under open registration an unknown station is created on its first connect.
        """
        return await self._stations.admit(
            station_id, create=self._registration is RegistrationPolicy.OPEN
        )

    async def connected(
        self,
        station_id: str,
        version: OcppVersion | None,
        remote_address: str | None,
        at: datetime,
    ) -> int:
        """Record the session; it becomes the station's current one unless a newer one is."""
        self.presence.seen(station_id)
        connection_id = await self._stations.connected(
            station_id,
            node_id=self.node_id,
            version=version,
            remote_address=remote_address,
            at=at,
        )
        self._bus.publish(
            "station.connected", station_id, version=version.value if version else None
        )
        if self._platforms is not None and self._platforms.switch.on:
            try:
                await self._platforms.station_back(station_id, at)
            except Exception:  # platforms learn it at the next status; the station connects
                log.exception("station %s: restoring its platform status failed", station_id)
        return connection_id

    async def disconnected(
        self,
        station_id: str,
        connection_id: int,
        code: int | None,
        reason: str,
        *,
        last: bool,
        at: datetime | None = None,
    ) -> None:
        """Close the session record; `last` says no newer connection of the station is here.
        `at` is when the socket closed (default now): a disconnect recorded late, after a
        database outage, keeps the time it happened."""
        if last:
            self.presence.forget(station_id)
        await self._stations.disconnected(
            station_id, connection_id, at=at or utcnow(), code=code, reason=reason
        )
        if last:
            self._bus.publish("station.disconnected", station_id, reason=reason)

    async def boot(
        self, station_id: str, version: OcppVersion, info: BootInfo
    ) -> RegistrationStatus:
        """Record what the station says about itself and decide from its administrative state."""
        at = self.presence.seen(station_id)
        state = await self._stations.record_boot(station_id, info, BOOT_ANSWERS, version, at)
        status = boot_status(state or AdminState.ACTIVE)
        self._bus.publish(
            "station.booted", station_id, status=status.value, vendor=info.vendor, model=info.model
        )
        return status

    def heartbeat(self, station_id: str) -> None:
        self.presence.seen(station_id, heartbeat=True)

    async def status(self, station_id: str, status: ConnectorStatus) -> None:
        code = None if self._platforms is None else self._platforms.status_code(status.status)
        await self._stations.record_status(station_id, status, utcnow(), code)
        self._bus.publish(
            "status.changed",
            station_id,
            evse_id=status.where.evse_id,
            connector_id=status.where.connector_id,
            status=status.status,
            error_code=status.error_code,
        )

    async def progress(
        self, station_id: str, kind: str, status: str, action: str, payload: dict[str, Any]
    ) -> None:
        """Firmware / diagnostics / log progress: kept on the station and in its event log."""
        at = utcnow()
        await self._stations.set_progress(station_id, kind, status, at)
        await self._events.append(station_id, action, payload, at)

    async def record(self, station_id: str, action: str, payload: dict[str, Any]) -> None:
        """Keep an informative message verbatim for operators."""
        await self._events.append(station_id, action, payload, utcnow())

    async def report_variables(
        self, station_id: str, payload: dict[str, Any], rows: list[tuple[Any, ...]]
    ) -> None:
        """A NotifyReport part: logged verbatim, and its attributes merged into the device model."""
        at = utcnow()
        await self._events.append(station_id, "NotifyReport", payload, at)
        await self._events.put_variables(station_id, rows, at)

    async def flush_presence(self, connection_of: Callable[[str], int | None]) -> None:
        """Write who was seen; each live connection re-asserts itself as its station's current
        one, repairing a claim another node released by mistake."""
        dirty = self.presence.take_dirty()
        try:
            await self._stations.touch(
                [(sid, seen, hb, connection_of(sid)) for sid, seen, hb in dirty], self.node_id
            )
        except BaseException:
            self.presence.restore(dirty)
            raise

    async def decommissioned_here(self) -> list[str]:
        """Stations connected to this node that were decommissioned meanwhile."""
        return await self._stations.decommissioned_here(self.node_id)

    async def admin_states(self, restricted: list[str]) -> dict[str, AdminState]:
        """Stations connected here that are not active, plus the `restricted` ones (which may
        have become active since)."""
        return await self._stations.admin_states(self.node_id, restricted)
