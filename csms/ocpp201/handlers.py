"""Handlers for every message a 2.0.1 charging station sends: map, call a service, map back."""

from __future__ import annotations

from typing import Any

from csms.domain.station import ConnectorRef
from csms.ocpp201 import mapping
from csms.ocpp_shared import SharedHandlers, logged, progress
from csms.services.session import HandlerTable, Method, StationSession

Payload = dict[str, Any]

# Boot is how a rejected station asks again; transaction data must never be lost.
UNGUARDED = frozenset({"BootNotification", "TransactionEvent", "MeterValues"})

# Informative messages kept verbatim in the station's event log.
LOGGED = (
    "NotifyEvent",
    "SecurityEventNotification",
    "ClearedChargingLimit",
    "NotifyChargingLimit",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
)


class Ocpp201Handlers(SharedHandlers):
    async def boot_notification(self, p: Payload) -> Payload:
        return await self.answer_boot(mapping.boot_info(p))

    async def status_notification(self, p: Payload) -> Payload:
        await self.stations.status(self.id, mapping.connector_status(p))
        return {}

    async def authorize(self, p: Payload) -> Payload:
        decision = await self.auth.authorize(
            p["idToken"]["idToken"], station_id=self.id, context="Authorize"
        )
        return {"idTokenInfo": mapping.id_token_info(decision)}

    async def transaction_event(self, p: Payload) -> Payload:
        outcome, decision = await self.tx.event(self.id, mapping.transaction_event(p), p)
        response: Payload = {}
        if outcome.total_cost is not None:
            # I02/I03: the running total on Updated, the final total on Ended.
            response["totalCost"] = float(outcome.total_cost)
        if decision is not None:
            response["idTokenInfo"] = mapping.id_token_info(decision)
        return response

    async def meter_values(self, p: Payload) -> Payload:
        where = ConnectorRef(p["evseId"], 0)
        await self.tx.meter_values(self.id, where, mapping.samples(p["meterValue"]))
        return {}

    async def notify_report(self, p: Payload) -> Payload:
        rows = mapping.variable_rows(p.get("reportData", []))
        await self.stations.report_variables(self.id, p, rows)
        return {}


H = Ocpp201Handlers
FUNCTIONS: dict[str, Method] = {
    "BootNotification": H.boot_notification,
    "Heartbeat": H.heartbeat,
    "StatusNotification": H.status_notification,
    "Authorize": H.authorize,
    "TransactionEvent": H.transaction_event,
    "MeterValues": H.meter_values,
    "NotifyReport": H.notify_report,
    "FirmwareStatusNotification": progress("firmware", "FirmwareStatusNotification"),
    "LogStatusNotification": progress("log", "LogStatusNotification"),
    "DataTransfer": H.data_transfer,
    **{action: logged(action) for action in LOGGED},
}


def build_handlers(session: StationSession) -> HandlerTable:
    return HandlerTable(Ocpp201Handlers(session), session, FUNCTIONS, UNGUARDED)
