"""Handlers for every message a 2.0.1 charging station sends: map, call a service, map back."""

from __future__ import annotations

from typing import Any

from csms.domain.station import ConnectorRef
from csms.ocpp201 import certificate_handlers, mapping
from csms.ocpp201 import iso15118 as pnc
from csms.ocpp201 import notify_handlers as notify
from csms.ocpp_shared import SharedHandlers, logged, progress
from csms.services.session import HandlerTable, Method, StationSession

Payload = dict[str, Any]

# Boot is how a rejected station asks again. TransactionEvent from a Pending or Rejected
# station gets SecurityError (B02.FR.09, B03.FR.07) unless the operator keeps such billing data
# (--unaccepted-transactions keep); a Pending station's events the CSMS triggered are answered.
UNGUARDED = frozenset({"BootNotification", "MeterValues"})
UNGUARDED_KEEPING_TRANSACTIONS = UNGUARDED | {"TransactionEvent"}

# Informative messages kept verbatim in the station's event log.
LOGGED = (
    "NotifyEvent",
    "SecurityEventNotification",
    "ClearedChargingLimit",
    "NotifyChargingLimit",
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


H = Ocpp201Handlers
FUNCTIONS: dict[str, Method] = {
    "BootNotification": H.boot_notification,
    "Heartbeat": H.heartbeat,
    "StatusNotification": H.status_notification,
    "Authorize": pnc.with_certificate_status(H.authorize),
    "TransactionEvent": H.transaction_event,
    "MeterValues": H.meter_values,
    "NotifyReport": notify.notify_report,
    "NotifyMonitoringReport": notify.notify_monitoring_report,
    "NotifyCustomerInformation": notify.notify_customer_information,
    "NotifyDisplayMessages": notify.notify_display_messages,
    "ReportChargingProfiles": notify.report_charging_profiles,
    "NotifyEVChargingNeeds": notify.notify_ev_charging_needs,
    "NotifyEVChargingSchedule": notify.notify_ev_charging_schedule,
    "PublishFirmwareStatusNotification": notify.publish_firmware_status,
    "FirmwareStatusNotification": progress("firmware", "FirmwareStatusNotification"),
    "LogStatusNotification": progress("log", "LogStatusNotification"),
    "DataTransfer": H.data_transfer,
    "Get15118EVCertificate": pnc.get_15118_ev_certificate,
    "GetCertificateStatus": pnc.get_certificate_status,
    "SignCertificate": certificate_handlers.sign_certificate,
    **{action: logged(action) for action in LOGGED},
}


def build_handlers(session: StationSession) -> HandlerTable:
    exempt = UNGUARDED_KEEPING_TRANSACTIONS if session.keep_unaccepted_transactions else UNGUARDED
    return HandlerTable(Ocpp201Handlers(session), session, FUNCTIONS, exempt)
