"""Handlers for every message a 1.6J charge point sends: map, call a service, map back."""

from __future__ import annotations

from typing import Any

from csms.domain.station import ConnectorRef
from csms.ocpp16 import certificate_handlers, mapping
from csms.ocpp_shared import SharedHandlers, logged, progress
from csms.services.session import HandlerTable, Method, StationSession

Payload = dict[str, Any]

# Boot is how a rejected station asks again; transaction messages carry billing data that must
# never be lost (a CSMS cannot refuse a stop), so a Rejected station still gets them stored.
UNGUARDED = frozenset({"BootNotification", "StartTransaction", "StopTransaction", "MeterValues"})


class Ocpp16Handlers(SharedHandlers):
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


H = Ocpp16Handlers
FUNCTIONS: dict[str, Method] = {
    "BootNotification": H.boot_notification,
    "Heartbeat": H.heartbeat,
    "StatusNotification": H.status_notification,
    "Authorize": H.authorize,
    "StartTransaction": H.start_transaction,
    "StopTransaction": H.stop_transaction,
    "MeterValues": H.meter_values,
    "DataTransfer": H.data_transfer,
    "DiagnosticsStatusNotification": progress("diagnostics", "DiagnosticsStatusNotification"),
    "FirmwareStatusNotification": progress("firmware", "FirmwareStatusNotification"),
    "SignedFirmwareStatusNotification": progress("firmware", "SignedFirmwareStatusNotification"),
    "LogStatusNotification": progress("log", "LogStatusNotification"),
    "SecurityEventNotification": logged("SecurityEventNotification"),
    "SignCertificate": certificate_handlers.sign_certificate,
}


def build_handlers(session: StationSession) -> HandlerTable:
    return HandlerTable(Ocpp16Handlers(session), session, FUNCTIONS, UNGUARDED)
