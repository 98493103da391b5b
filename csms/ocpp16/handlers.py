"""Handlers for every message a 1.6J charge point sends: map, call a service, map back."""

from __future__ import annotations

from typing import Any

from csms.domain.station import ConnectorRef
from csms.ocpp16 import mapping
from csms.ocpp_shared import SharedHandlers
from csms.services.session import Handler, StationSession

Payload = dict[str, Any]

# Boot is how a rejected station asks again; transaction messages carry billing data that must
# never be lost (a CSMS cannot refuse a stop), so a Rejected station still gets them stored.
UNGUARDED = frozenset({"BootNotification", "StartTransaction", "StopTransaction", "MeterValues"})


class Ocpp16Handlers(SharedHandlers):
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
            "DiagnosticsStatusNotification": self.progress(
                "diagnostics", "DiagnosticsStatusNotification"
            ),
            "FirmwareStatusNotification": self.progress("firmware", "FirmwareStatusNotification"),
            "SignedFirmwareStatusNotification": self.progress(
                "firmware", "SignedFirmwareStatusNotification"
            ),
            "LogStatusNotification": self.progress("log", "LogStatusNotification"),
            "SecurityEventNotification": self.logged("SecurityEventNotification"),
        }
        return self.s.guard(handlers, UNGUARDED)

    async def boot_notification(self, p: Payload) -> Payload:
        return await self.answer_boot(mapping.boot_info(p))

    async def status_notification(self, p: Payload) -> Payload:
        await self.stations.status(self.id, mapping.connector_status(p))
        return {}

    async def authorize(self, p: Payload) -> Payload:
        decision = await self.auth.authorize(p["idTag"], station_id=self.id, context="Authorize")
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


def build_handlers(session: StationSession) -> dict[str, Handler]:
    return Ocpp16Handlers(session).table()
