"""Handlers for every message a 1.6J charge point sends: map, call a service, map back."""

from __future__ import annotations

from typing import Any

from csms.clock import isoformat, utcnow
from csms.domain.station import ConnectorRef
from csms.ocpp16 import mapping
from csms.services.session import Handler, StationSession

Payload = dict[str, Any]

# Boot is how a rejected station asks again; transaction messages carry billing data that must
# never be lost (a CSMS cannot refuse a stop), so a Rejected station still gets them stored.
UNGUARDED = frozenset({"BootNotification", "StartTransaction", "StopTransaction", "MeterValues"})


class Ocpp16Handlers:
    def __init__(self, session: StationSession) -> None:
        self.s = session
        self.id = session.station_id
        self.stations = session.services.stations
        self.tx = session.services.transactions
        self.auth = session.services.authorization

    def table(self) -> dict[str, Handler]:
        handlers: dict[str, Handler] = {
            "BootNotification": self.boot_notification,
            "Heartbeat": self.heartbeat,
            "StatusNotification": self.status_notification,
            "Authorize": self.authorize,
            "StartTransaction": self.start_transaction,
            "StopTransaction": self.stop_transaction,
            "MeterValues": self.meter_values,
            "DataTransfer": self.data_transfer,
            "DiagnosticsStatusNotification": self.diagnostics_status,
            "FirmwareStatusNotification": self.firmware_status,
            "SecurityEventNotification": self.security_event,
            "LogStatusNotification": self.log_status,
            "SignedFirmwareStatusNotification": self.signed_firmware_status,
        }
        return self.s.guard(handlers, UNGUARDED)

    async def boot_notification(self, p: Payload) -> Payload:
        status, interval = await self.s.boot(mapping.boot_info(p))
        return {"status": status.value, "currentTime": isoformat(utcnow()), "interval": interval}

    async def heartbeat(self, p: Payload) -> Payload:
        self.stations.heartbeat(self.id)
        return {"currentTime": isoformat(utcnow())}

    async def status_notification(self, p: Payload) -> Payload:
        await self.stations.status(self.id, mapping.connector_status(p))
        return {}

    async def authorize(self, p: Payload) -> Payload:
        decision = await self.auth.authorize(p["idTag"], station_id=self.id)
        return {"idTagInfo": mapping.id_tag_info(decision)}

    async def start_transaction(self, p: Payload) -> Payload:
        outcome, decision = await self.tx.start_v16(self.id, mapping.start_request(p))
        return {
            "transactionId": outcome.transaction_id,
            "idTagInfo": mapping.id_tag_info(decision),
        }

    async def stop_transaction(self, p: Payload) -> Payload:
        decision = await self.tx.stop_v16(self.id, mapping.stop_request(p))
        return {} if decision is None else {"idTagInfo": mapping.id_tag_info(decision)}

    async def meter_values(self, p: Payload) -> Payload:
        await self.tx.meter_values_v16(
            self.id,
            ConnectorRef.from_v16(p["connectorId"]),
            p.get("transactionId"),
            mapping.samples(p["meterValue"]),
        )
        return {}

    async def data_transfer(self, p: Payload) -> Payload:
        # No vendor extensions are installed: keep the message, say the vendor is unknown.
        await self.stations.record(self.id, "DataTransfer", p)
        return {"status": "UnknownVendorId"}

    async def diagnostics_status(self, p: Payload) -> Payload:
        await self.stations.progress(
            self.id, "diagnostics", p["status"], "DiagnosticsStatusNotification", p
        )
        return {}

    async def firmware_status(self, p: Payload) -> Payload:
        await self.stations.progress(
            self.id, "firmware", p["status"], "FirmwareStatusNotification", p
        )
        return {}

    async def signed_firmware_status(self, p: Payload) -> Payload:
        await self.stations.progress(
            self.id, "firmware", p["status"], "SignedFirmwareStatusNotification", p
        )
        return {}

    async def log_status(self, p: Payload) -> Payload:
        await self.stations.progress(self.id, "log", p["status"], "LogStatusNotification", p)
        return {}

    async def security_event(self, p: Payload) -> Payload:
        await self.stations.record(self.id, "SecurityEventNotification", p)
        return {}


def build_handlers(session: StationSession) -> dict[str, Handler]:
    return Ocpp16Handlers(session).table()
