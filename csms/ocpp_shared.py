"""Handlers for the station messages OCPP 1.6 and 2.0.1 spell alike (boot answer, heartbeat,
data transfer, upload progress, verbatim logs); each version's handler class extends this."""

from __future__ import annotations

from typing import Any

from csms.clock import isoformat, utcnow
from csms.domain.station import BootInfo
from csms.services.session import Method, StationSession

Payload = dict[str, Any]


class SharedHandlers:
    def __init__(self, session: StationSession) -> None:
        self.s = session
        self.id = session.station_id
        self.stations = session.services.stations
        self.tx = session.services.transactions
        self.auth = session.services.authorization

    async def answer_boot(self, info: BootInfo) -> Payload:
        """The BootNotification answer; its fields are the same in both versions."""
        status, interval = await self.s.boot(info)
        return {"status": status.value, "currentTime": isoformat(utcnow()), "interval": interval}

    async def heartbeat(self, p: Payload) -> Payload:
        self.stations.heartbeat(self.id)
        return {"currentTime": isoformat(utcnow())}

    async def data_transfer(self, p: Payload) -> Payload:
        # No vendor extensions are installed: keep the message, say the vendor is unknown.
        await self.stations.record(self.id, "DataTransfer", p)
        return {"status": "UnknownVendorId"}


def progress(kind: str, action: str) -> Method:
    """A firmware / diagnostics / log status notification: kept on the station and logged."""

    async def handle(self: SharedHandlers, p: Payload) -> Payload:
        await self.stations.progress(self.id, kind, p["status"], action, p)
        return {}

    return handle


def logged(action: str) -> Method:
    """An informative message kept verbatim in the station's event log."""

    async def handle(self: SharedHandlers, p: Payload) -> Payload:
        await self.stations.record(self.id, action, p)
        return {}

    return handle
