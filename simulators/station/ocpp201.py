"""OCPP 2.0.1: the messages a charging station sends and its answers to every CSMS request.

References are to the use cases of OCPP 2.0.1 Part 2 (B boot/config, C authorization, D local
list, E transactions, F remote control, G availability, H reservation, K smart charging,
L firmware, N diagnostics, P data transfer) and its device model (Part 2 appendices). Each EVSE
has one connector (id 1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulators import timestamps
from simulators.auth_lists import ACCEPTED, AuthEntry
from simulators.device_model import ComponentRef, DeviceModel, Variable, VariableRef
from simulators.ocppj import Fault, FrameError
from simulators.offline_queue import Role
from simulators.rpc import Handler, Reply
from simulators.smart_charging import STATION_MAX, TX, profile_from_v201
from simulators.station import maintenance
from simulators.station.certificate_commands import CertificateCommands
from simulators.station.dialect import Dialect
from simulators.station.evse import Evse, Reservation
from simulators.station.ocpp201_model import CONNECTOR, device_model
from simulators.station.ocpp201_reports import ReportRequests
from simulators.station.session import (
    Reading,
    Session,
    SessionPlan,
    StopCause,
    idle_reading,
    reading,
)
from simulators.station.shared_commands import composite, data_transfer, reservation_problem
from simulators.station.station import EvseBusy, Station

# (stoppedReason, triggerReason) of the Ended event (E06, TriggerReasonEnumType).
ENDINGS = {
    StopCause.LOCAL: ("Local", "StopAuthorized"),
    StopCause.EV_DISCONNECTED: ("EVDisconnected", "EVCommunicationLost"),
    StopCause.REMOTE: ("Remote", "RemoteStop"),
    StopCause.HARD_RESET: ("ImmediateReset", "ResetCommand"),
    StopCause.SOFT_RESET: ("ImmediateReset", "ResetCommand"),
    StopCause.IMMEDIATE_RESET: ("ImmediateReset", "ResetCommand"),
    StopCause.DEAUTHORIZED: ("DeAuthorized", "Deauthorized"),
    StopCause.UNLOCK: ("Other", "UnlockCommand"),
    StopCause.REBOOT: ("Reboot", "ResetCommand"),
    StopCause.OTHER: ("Other", "AbnormalCondition"),
}
CHARGING_STATES = {
    "charging": "Charging",
    "suspended_ev": "SuspendedEV",
    "suspended_evse": "SuspendedEVSE",
}

FIRMWARE_STEPS = maintenance.FirmwareSteps(
    before_install=("Downloading", "Downloaded"), installing=("Installing", "InstallRebooting")
)
SIGNED_FIRMWARE_STEPS = maintenance.FirmwareSteps(
    before_install=("Downloading", "Downloaded", "SignatureVerified"),
    installing=("Installing", "InstallRebooting"),
)
REMOTE_SESSION_S = 3600.0
TRIGGERS_NOT_IMPLEMENTED = (
    "SignChargingStationCertificate",
    "SignV2GCertificate",
    "SignCombinedCertificate",
    "PublishFirmwareStatusNotification",
)


class Ocpp201(Dialect):
    version = "2.0.1"

    def __init__(self, station: Station) -> None:
        self.running_cost: dict[str, float] = {}  # transactionId -> last CostUpdated total
        super().__init__(station)
        self.model = DeviceModel(device_model(station), on_change=self._changed)
        self.reports = ReportRequests(
            station, self.model, lambda: self._items("GetReport"), self._refresh
        )
        self.station_operative = True
        self.certificates = CertificateCommands(station, "2.0.1", self.trigger_message)

    # -- settings -------------------------------------------------------------------------------

    def _changed(self, variable: Variable) -> None:
        name = variable.variable.name
        if name == "HeartbeatInterval":
            self.station.heartbeat_interval_changed()
        elif name == "RetryBackOffWaitMinimum":
            self.station.set_backoff(wait_minimum=float(variable.value))
        elif name == "RetryBackOffRandomRange":
            self.station.set_backoff(random_range=float(variable.value))
        elif name == "RetryBackOffRepeatTimes":
            self.station.set_backoff(repeat_times=int(variable.value))

    def heartbeat_interval(self) -> int:
        return self.model.int_value("OCPPCommCtrlr", "HeartbeatInterval") or 86_400

    def set_heartbeat_interval(self, seconds: int) -> None:
        # B01: the interval in the BootNotification answer becomes HeartbeatInterval.
        self.model.set_internal(
            ComponentRef("OCPPCommCtrlr"), VariableRef("HeartbeatInterval"), str(seconds)
        )

    def meter_interval(self) -> int:
        if not self.model.bool_value("SampledDataCtrlr", "Enabled"):
            return 0
        return self.model.int_value("SampledDataCtrlr", "TxUpdatedInterval")

    def message_attempts(self) -> int:
        return self.model.int_value("OCPPCommCtrlr", "MessageAttempts/TransactionEvent")

    def message_retry_interval(self) -> int:
        return self.model.int_value("OCPPCommCtrlr", "MessageAttemptInterval/TransactionEvent")

    def authorize_offline(self) -> bool:
        return self.model.bool_value("AuthCtrlr", "LocalAuthorizeOffline")

    def offline_unknown_allowed(self) -> bool:
        return self.model.bool_value("AuthCtrlr", "OfflineTxForUnknownIdEnabled")

    def local_pre_authorize(self) -> bool:
        return self.model.bool_value("AuthCtrlr", "LocalPreAuthorize")

    def authorize_remote_start(self) -> bool:
        return self.model.bool_value("AuthCtrlr", "AuthorizeRemoteStart")

    def stop_on_invalid_id(self) -> bool:
        return self.model.bool_value("TxCtrlr", "StopTxOnInvalidId")

    def cache_enabled(self) -> bool:
        return self.model.bool_value("AuthCacheCtrlr", "Enabled")

    def local_list_enabled(self) -> bool:
        return self.model.bool_value("LocalAuthListCtrlr", "Enabled")

    def _items(self, instance: str) -> int:
        return self.model.int_value("DeviceDataCtrlr", f"ItemsPerMessage/{instance}")

    def _refresh(self) -> None:
        """Bring the values that mirror live state up to date before anyone reads them."""
        station = self.station
        model = self.model
        model.set_internal(
            ComponentRef("ClockCtrlr"),
            VariableRef("DateTime"),
            timestamps.isoformat(timestamps.utcnow()),
        )
        model.set_internal(
            ComponentRef("LocalAuthListCtrlr"), VariableRef("Entries"), str(len(station.local_list))
        )
        model.set_internal(
            ComponentRef("SmartChargingCtrlr"),
            VariableRef("Entries", "ChargingProfiles"),
            str(len(station.profiles)),
        )
        model.set_internal(
            ComponentRef("ChargingStation"),
            VariableRef("AvailabilityState"),
            "Available" if self.station_operative else "Unavailable",
        )
        for evse in station.evses.values():
            status = evse.status_v201()
            model.set_internal(
                ComponentRef("EVSE", evse=evse.id), VariableRef("AvailabilityState"), status
            )
            model.set_internal(
                ComponentRef("EVSE", evse=evse.id),
                VariableRef("Available"),
                "true" if evse.operative else "false",
            )
            model.set_internal(
                ComponentRef("Connector", evse=evse.id, connector=CONNECTOR),
                VariableRef("AvailabilityState"),
                status,
            )

    # -- messages -------------------------------------------------------------------------------

    def boot_request(self, reason: str) -> dict[str, Any]:
        config = self.station.config
        station: dict[str, Any] = {
            "model": config.model[:20],
            "vendorName": config.vendor[:50],
            "firmwareVersion": self.station.firmware_version[:50],
        }
        if config.serial_number:
            station["serialNumber"] = config.serial_number[:25]
        return {"reason": reason, "chargingStation": station}

    def status_requests(self, evse: Evse) -> list[dict[str, Any]]:
        return [
            {
                "timestamp": timestamps.isoformat(timestamps.utcnow()),
                "connectorStatus": evse.status_v201(),
                "evseId": evse.id,
                "connectorId": CONNECTOR,
            }
        ]

    def authorize_request(self, token: str, token_type: str) -> dict[str, Any]:
        return {"idToken": {"idToken": token, "type": token_type}}

    def auth_entry(self, response: dict[str, Any]) -> AuthEntry:
        return id_token_info(response["idTokenInfo"])

    def sampled_values(
        self, measurands: list[str], r: Reading, context: str
    ) -> list[dict[str, Any]]:
        kind = self.station.config.kind
        single_phase = not kind.is_dc and kind.phases == 1
        values: list[dict[str, Any]] = []

        def add(measurand: str, value: float, unit: str, **extra: str) -> None:
            values.append(
                {
                    "value": value,
                    "context": context,
                    "measurand": measurand,
                    "location": extra.pop("location", "Outlet"),
                    "unitOfMeasure": {"unit": unit},
                    **extra,
                }
            )

        for measurand in measurands:
            if measurand == "Energy.Active.Import.Register":
                add(measurand, r.register_wh, "Wh")
            elif measurand == "Power.Active.Import":
                add(measurand, r.power_w, "W")
            elif measurand == "Power.Offered":
                add(measurand, r.offered_w, "W")
            elif measurand == "Current.Import":
                add(measurand, r.current_a, "A", **({"phase": "L1"} if single_phase else {}))
            elif measurand == "Current.Offered":
                add(measurand, round(kind.watts_to_amps(r.offered_w), 2), "A")
            elif measurand == "Voltage":
                add(measurand, r.voltage_v, "V", **({"phase": "L1-N"} if single_phase else {}))
            elif measurand == "SoC" and r.soc_percent is not None:
                add(measurand, r.soc_percent, "Percent", location="EV")
        return values

    def _meter_value(self, variable: str, r: Reading, context: str) -> list[dict[str, Any]]:
        measurands = self.model.list_value("SampledDataCtrlr", variable)
        values = self.sampled_values(measurands, r, context)
        return [{"timestamp": timestamps.isoformat(r.at), "sampledValue": values}] if values else []

    def _event(
        self,
        session: Session,
        event_type: str,
        trigger: str,
        at: datetime,
        *,
        info: dict[str, Any] | None = None,
        meter_value: list[dict[str, Any]] | None = None,
        with_token: bool = False,
    ) -> dict[str, Any]:
        """A TransactionEvent (E01-E15): seqNo counts up per transaction from 0; `offline` marks
        events made while the CSMS was unreachable (E12)."""
        transaction: dict[str, Any] = {
            "transactionId": session.tx_id,
            "timeSpentCharging": int(session.model.elapsed_s),
            **(info or {}),
        }
        payload: dict[str, Any] = {
            "eventType": event_type,
            "timestamp": timestamps.isoformat(at),
            "triggerReason": trigger,
            "seqNo": session.next_seq(),
            "transactionInfo": transaction,
            "evse": {"id": session.evse.id, "connectorId": CONNECTOR},
        }
        if not self.station.online:
            payload["offline"] = True
        if with_token:
            payload["idToken"] = {"idToken": session.plan.id_tag, "type": session.plan.token_type}
        if meter_value:
            payload["meterValue"] = meter_value
        return payload

    def _deauthorize_if_refused(self, session: Session, answer: dict[str, Any]) -> None:
        info = answer.get("idTokenInfo")
        if info is None:
            return
        entry = id_token_info(info)
        self.station.remember(session.plan.id_tag, entry)
        if entry.status != ACCEPTED and self.stop_on_invalid_id():
            session.request_stop(StopCause.DEAUTHORIZED)  # C01/E05: StopTxOnInvalidId

    def transaction_started(self, session: Session, reading: Reading) -> None:
        station = self.station
        plan = session.plan
        info: dict[str, Any] = {"chargingState": "Charging"}
        if plan.remote_start_id is not None:
            info["remoteStartId"] = plan.remote_start_id
        payload = self._event(
            session,
            "Started",
            "RemoteStart" if plan.remote_start_id is not None else "Authorized",
            session.started_at,
            info=info,
            meter_value=self._meter_value("TxStartedMeasurands", reading, "Transaction.Begin"),
            with_token=True,
        )
        if session.reservation_id is not None:
            payload["reservationId"] = session.reservation_id

        def started(answer: dict[str, Any]) -> None:
            station.stats.sessions_started += 1
            self._deauthorize_if_refused(session, answer)

        station.outbox.push("TransactionEvent", payload, role=Role.START, on_ack=started)

    def transaction_updated(self, session: Session, reading: Reading, trigger: str) -> None:
        station = self.station
        context = "Trigger" if trigger == "Trigger" else "Sample.Periodic"
        meter_value = self._meter_value("TxUpdatedMeasurands", reading, context)
        payload = self._event(session, "Updated", trigger, reading.at, meter_value=meter_value)
        periodic = trigger == "MeterValuePeriodic" and any(
            v["measurand"] == "Energy.Active.Import.Register"
            for m in meter_value
            for v in m["sampledValue"]
        )

        def delivered(answer: dict[str, Any]) -> None:
            if periodic:
                station.stats.meter_readings += 1
            self._deauthorize_if_refused(session, answer)

        station.outbox.push("TransactionEvent", payload, role=Role.UPDATE, on_ack=delivered)

    def charging_state_changed(self, session: Session, reading: Reading) -> None:
        phase = session.evse.phase
        state = CHARGING_STATES.get(phase.value if phase is not None else "", "EVConnected")
        payload = self._event(
            session, "Updated", "ChargingStateChanged", reading.at, info={"chargingState": state}
        )
        self.station.outbox.push("TransactionEvent", payload, role=Role.UPDATE)

    def transaction_ended(self, session: Session, reading: Reading, cause: StopCause) -> None:
        station = self.station
        stopped_reason, trigger = ENDINGS[cause]
        info = {
            "chargingState": "EVConnected" if session.evse.plugged else "Idle",
            "stoppedReason": stopped_reason,
        }
        payload = self._event(
            session,
            "Ended",
            trigger,
            reading.at,
            info=info,
            meter_value=self._meter_value("TxEndedMeasurands", reading, "Transaction.End"),
            with_token=cause is StopCause.LOCAL,
        )
        energy = reading.register_wh - session.meter_start_wh

        def ended(answer: dict[str, Any]) -> None:
            station.stats.sessions_completed += 1
            station.stats.energy_wh += energy
            self.running_cost.pop(payload["transactionInfo"]["transactionId"], None)
            if isinstance(answer.get("totalCost"), int | float):  # I03: the final bill
                station.stats.billed_sessions += 1
                station.stats.billed_fen += round(answer["totalCost"] * 100)

        station.outbox.push("TransactionEvent", payload, role=Role.STOP, on_ack=ended)

    def reservation_ended(self, reservation: Reservation, expired: bool) -> None:
        # H01: the station reports a reservation that ends by itself; a cancelled one is not
        # reported (the CSMS asked for it).
        if expired:
            self.station.send(
                "ReservationStatusUpdate",
                {"reservationId": reservation.id, "reservationUpdateStatus": "Expired"},
            )

    # -- commands -------------------------------------------------------------------------------

    def handlers(self) -> dict[str, Handler]:
        return {
            "RequestStartTransaction": self.request_start,
            "RequestStopTransaction": self.request_stop,
            "Reset": self.reset,
            "ChangeAvailability": self.change_availability,
            "UnlockConnector": self.unlock_connector,
            "TriggerMessage": self.trigger_message,
            "GetVariables": self.get_variables,
            "SetVariables": self.set_variables,
            "GetBaseReport": self.get_base_report,
            "ClearCache": self.clear_cache,
            "SendLocalList": self.send_local_list,
            "GetLocalListVersion": self.get_local_list_version,
            "ReserveNow": self.reserve_now,
            "CancelReservation": self.cancel_reservation,
            "SetChargingProfile": self.set_charging_profile,
            "ClearChargingProfile": self.clear_charging_profile,
            "GetCompositeSchedule": self.get_composite_schedule,
            "UpdateFirmware": self.update_firmware,
            "GetLog": self.get_log,
            "DataTransfer": self.data_transfer,
            "CostUpdated": self.cost_updated,
            **self.reports.handlers(),
            **self.certificates.handlers(),  # last: its TriggerMessage wraps the one above
        }

    def _evse(self, evse_id: int | None) -> Evse | None:
        return None if evse_id is None else self.station.evses.get(evse_id)

    async def request_start(self, p: dict[str, Any]) -> Reply:
        """F01/F02: start on the EVSE given (or a free one); the Started event carries
        remoteStartId so the CSMS can match it."""
        station = self.station
        evse_id = p.get("evseId")
        profile = p.get("chargingProfile")
        if evse_id is not None and self._evse(evse_id) is None:
            return Reply({"status": "Rejected"})
        if profile is not None and profile["chargingProfilePurpose"] != "TxProfile":
            return Reply({"status": "Rejected"})  # F01: only a TxProfile may come along
        token = p["idToken"]
        evse = station.pick_evse(evse_id, token["idToken"])
        if evse is None:
            return Reply({"status": "Rejected"})
        if profile is not None:
            station.profiles.install(profile_from_v201(profile, evse.id, timestamps.utcnow()))
        plan = SessionPlan(
            id_tag=token["idToken"],
            token_type=token["type"],
            duration_s=REMOTE_SESSION_S,
            remote_start_id=p["remoteStartId"],
            pre_authorized=not self.authorize_remote_start(),
        )
        try:
            station.start_session(evse.id, plan)
        except EvseBusy:
            return Reply({"status": "Rejected"})
        return Reply({"status": "Accepted"})

    async def request_stop(self, p: dict[str, Any]) -> Reply:
        """F03: stop the transaction with that id (stoppedReason Remote)."""
        session = self.station.find_session(p["transactionId"])
        if session is None:
            return Reply({"status": "Rejected"})
        session.request_stop(StopCause.REMOTE)
        return Reply({"status": "Accepted"})

    async def reset(self, p: dict[str, Any]) -> Reply:
        """B11/B12: Immediate ends transactions and reboots; OnIdle waits for them (Scheduled).
        Resetting a single EVSE is not supported by this station: Rejected."""
        station = self.station
        if p.get("evseId") is not None:
            return Reply({"status": "Rejected"})
        if p["type"] == "OnIdle" and station.sessions:
            station.reset_when_idle = "RemoteReset"
            return Reply({"status": "Scheduled"})

        async def reboot() -> None:
            await station.reboot("RemoteReset", StopCause.IMMEDIATE_RESET)

        return Reply({"status": "Accepted"}, then=reboot)

    async def change_availability(self, p: dict[str, Any]) -> Reply:
        """G03/G04: the station or one EVSE; Scheduled while a transaction runs there."""
        operative = p["operationalStatus"] == "Operative"
        target = p.get("evse")
        if target is not None:
            if self._evse(target["id"]) is None and target["id"] != 0:
                return Reply({"status": "Rejected"})
            if target.get("connectorId", CONNECTOR) != CONNECTOR:
                return Reply({"status": "Rejected"})
        evse_id = None if target is None or target["id"] == 0 else target["id"]
        if evse_id is None:
            self.station_operative = operative
        return Reply({"status": self.station.change_availability(evse_id, operative)})

    async def unlock_connector(self, p: dict[str, Any]) -> Reply:
        """F05: an authorized transaction keeps the cable locked (OngoingAuthorizedTransaction)."""
        evse = self._evse(p["evseId"])
        if evse is None or p["connectorId"] != CONNECTOR:
            return Reply({"status": "UnknownConnector"})
        if evse.in_transaction:
            return Reply({"status": "OngoingAuthorizedTransaction"})
        self.station.release_cable(evse)
        return Reply({"status": "Unlocked"})

    async def trigger_message(self, p: dict[str, Any]) -> Reply:
        """F06: Accepted, then the message; a BootNotification only while not yet accepted."""
        station = self.station
        requested = p["requestedMessage"]
        target = p.get("evse")
        if target is not None and self._evse(target["id"]) is None:
            return Reply({"status": "Rejected"})
        evses = [self._evse(target["id"])] if target else list(station.evses.values())
        chosen = [e for e in evses if e is not None]
        if requested in TRIGGERS_NOT_IMPLEMENTED:
            return Reply({"status": "NotImplemented"})
        if requested == "BootNotification" and station.online:
            return Reply({"status": "Rejected"})  # F06: the last boot was Accepted already
        with_session = [e for e in chosen if e.id in station.sessions]
        if requested == "TransactionEvent" and not with_session:
            return Reply({"status": "Rejected"})

        async def send() -> None:
            if requested == "BootNotification":
                await station.triggered_boot()
            elif requested == "Heartbeat":
                await station.call("Heartbeat", {})
            elif requested == "StatusNotification":
                for evse in chosen:
                    for payload in self.status_requests(evse):
                        station.send("StatusNotification", payload)
            elif requested == "MeterValues":
                for evse in chosen:
                    session = station.sessions.get(evse.id)
                    now = reading(station, session) if session else idle_reading(evse)
                    meter_value = self._meter_value("TxUpdatedMeasurands", now, "Trigger")
                    station.send("MeterValues", {"evseId": evse.id, "meterValue": meter_value})
            elif requested == "TransactionEvent":
                for evse in with_session:
                    session = station.sessions[evse.id]
                    self.transaction_updated(session, reading(station, session), "Trigger")
            elif requested == "FirmwareStatusNotification":
                station.send(
                    "FirmwareStatusNotification",
                    self._progress(station.firmware_status, station.firmware_request_id),
                )
            elif requested == "LogStatusNotification":
                station.send(
                    "LogStatusNotification",
                    self._progress(station.upload_status, station.upload_request_id),
                )

        return Reply({"status": "Accepted"}, then=send)

    @staticmethod
    def _progress(status: str, request_id: int | None) -> dict[str, Any]:
        payload: dict[str, Any] = {"status": status}
        if status != "Idle" and request_id is not None:
            payload["requestId"] = request_id
        return payload

    async def get_variables(self, p: dict[str, Any]) -> Reply:
        """B06: one result per requested variable, in order."""
        requests = p["getVariableData"]
        if len(requests) > self._items("GetVariables"):
            raise FrameError(Fault.OCCURRENCE, "more variables than ItemsPerMessageGetVariables")
        self._refresh()
        return Reply({"getVariableResult": [self.model.get(r) for r in requests]})

    async def set_variables(self, p: dict[str, Any]) -> Reply:
        """B05: Accepted / Rejected / Unknown* / RebootRequired per variable."""
        requests = p["setVariableData"]
        if len(requests) > self._items("SetVariables"):
            raise FrameError(Fault.OCCURRENCE, "more variables than ItemsPerMessageSetVariables")
        results = [self.model.set(r) for r in requests]
        new_password = next(
            (
                r["attributeValue"]
                for r, result in zip(requests, results, strict=True)
                if r["variable"]["name"] == "BasicAuthPassword"
                and r["component"]["name"] == "SecurityCtrlr"
                and result["attributeStatus"] == "Accepted"
            ),
            None,
        )
        if new_password is None:
            return Reply({"setVariableResult": results})

        async def reconnect() -> None:
            self.station.apply_password(new_password)  # A01: reconnect with the new password

        return Reply({"setVariableResult": results}, then=reconnect)

    async def get_base_report(self, p: dict[str, Any]) -> Reply:
        """B07: Accepted, then NotifyReport in parts (seqNo from 0, tbc on all but the last)."""
        self._refresh()
        entries = self.model.report(p["reportBase"])
        if not entries:
            return Reply({"status": "EmptyResultSet"})
        per_message = self._items("GetReport")
        request_id = p["requestId"]
        station = self.station

        async def report() -> None:
            generated = timestamps.isoformat(timestamps.utcnow())
            parts = [entries[i : i + per_message] for i in range(0, len(entries), per_message)]
            for seq, part in enumerate(parts):
                station.send(
                    "NotifyReport",
                    {
                        "requestId": request_id,
                        "generatedAt": generated,
                        "seqNo": seq,
                        "tbc": seq < len(parts) - 1,
                        "reportData": part,
                    },
                )

        return Reply({"status": "Accepted"}, then=report)

    async def clear_cache(self, p: dict[str, Any]) -> Reply:
        """C11: Rejected when the cache is disabled."""
        if not self.cache_enabled():
            return Reply({"status": "Rejected"})
        self.station.auth_cache.clear()
        return Reply({"status": "Accepted"})

    async def send_local_list(self, p: dict[str, Any]) -> Reply:
        """D01: Full / Differential, with version checks."""
        if not self.local_list_enabled():
            return Reply({"status": "Failed"})
        items = p.get("localAuthorizationList", [])
        if len(items) > self.model.int_value("LocalAuthListCtrlr", "ItemsPerMessage"):
            return Reply({"status": "Failed"})
        entries = [
            (
                item["idToken"]["idToken"],
                id_token_info(item["idTokenInfo"]) if "idTokenInfo" in item else None,
            )
            for item in items
        ]
        status = self.station.local_list.update(p["versionNumber"], p["updateType"], entries)
        return Reply({"status": status})

    async def get_local_list_version(self, p: dict[str, Any]) -> Reply:
        """D02: 0 when there is no list."""
        local_list = self.station.local_list
        version = local_list.version if self.local_list_enabled() and len(local_list) else 0
        return Reply({"versionNumber": version})

    async def reserve_now(self, p: dict[str, Any]) -> Reply:
        """H01: a given EVSE, or any free one (NonEvseSpecific), for the token until expiry."""
        station = self.station
        if not self.model.bool_value("ReservationCtrlr", "Enabled"):
            return Reply({"status": "Rejected"})
        group = p.get("groupIdToken")
        reservation = Reservation(
            id=p["id"],
            id_tag=p["idToken"]["idToken"],
            expires_at=timestamps.parse(p["expiryDateTime"]),
            group=None if group is None else group["idToken"],
            evse=p.get("evseId") or 0,
        )
        existing = station.find_reservation(reservation.id)
        wanted_type = p.get("connectorType")
        if reservation.evse:
            evse = self._evse(reservation.evse)
            if evse is None:
                return Reply({"status": "Rejected"})
            if wanted_type is not None and wanted_type != evse.connector_type:
                return Reply({"status": "Rejected"})
            problem = reservation_problem(evse, existing)
            if problem is not None:
                return Reply({"status": problem})
            station.reserve(reservation, evse)
            return Reply({"status": "Accepted"})
        free = [
            e
            for e in station.evses.values()
            if (wanted_type is None or e.connector_type == wanted_type)
            and reservation_problem(e, existing) is None
        ]
        if not free:
            return Reply({"status": "Occupied"})
        station.reserve(reservation, free[0])
        return Reply({"status": "Accepted"})

    async def cancel_reservation(self, p: dict[str, Any]) -> Reply:
        """H02."""
        found = self.station.cancel_reservation(p["reservationId"])
        return Reply({"status": "Accepted" if found else "Rejected"})

    async def set_charging_profile(self, p: dict[str, Any]) -> Reply:
        """K01: placement rules per purpose; a TxProfile names a running transaction."""
        station = self.station
        evse_id = p["evseId"]
        raw = p["chargingProfile"]
        if evse_id != 0 and self._evse(evse_id) is None:
            return Reply({"status": "Rejected"})
        if not self.model.bool_value("SmartChargingCtrlr", "Enabled"):
            return Reply({"status": "Rejected"})
        schedule = raw["chargingSchedule"][0]
        if (
            raw["stackLevel"] > self.model.int_value("SmartChargingCtrlr", "ProfileStackLevel")
            or len(schedule["chargingSchedulePeriod"])
            > self.model.int_value("SmartChargingCtrlr", "PeriodsPerSchedule")
            or schedule["chargingRateUnit"]
            not in self.model.list_value("SmartChargingCtrlr", "RateUnit")
        ):
            return Reply({"status": "Rejected"})
        profile = profile_from_v201(raw, evse_id, timestamps.utcnow())
        if profile.purpose == STATION_MAX and evse_id != 0:
            return Reply({"status": "Rejected"})
        if profile.purpose == TX:
            session = station.sessions.get(evse_id)
            if session is None or profile.transaction_id != session.tx_id:
                return Reply({"status": "Rejected"})
        return Reply({"status": "Accepted" if station.profiles.install(profile) else "Rejected"})

    async def clear_charging_profile(self, p: dict[str, Any]) -> Reply:
        """K10: by id, or by EVSE / purpose / stack level."""
        criteria = p.get("chargingProfileCriteria") or {}
        removed = self.station.profiles.clear(
            profile_id=p.get("chargingProfileId"),
            evse=criteria.get("evseId"),
            purpose=criteria.get("chargingProfilePurpose"),
            stack_level=criteria.get("stackLevel"),
        )
        return Reply({"status": "Accepted" if removed else "Unknown"})

    async def get_composite_schedule(self, p: dict[str, Any]) -> Reply:
        """K08."""
        station = self.station
        evse_id = p["evseId"]
        if evse_id != 0 and self._evse(evse_id) is None:
            return Reply({"status": "Rejected"})
        unit = p.get("chargingRateUnit", "W")
        now = timestamps.utcnow().replace(microsecond=0)
        return Reply(
            {
                "status": "Accepted",
                "schedule": {
                    "evseId": evse_id,
                    "duration": p["duration"],
                    "scheduleStart": timestamps.isoformat(now),
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": composite(station, evse_id, now, p["duration"], unit),
                },
            }
        )

    async def update_firmware(self, p: dict[str, Any]) -> Reply:
        """L01: Accepted (AcceptedCanceled when it replaces a running update), then
        FirmwareStatusNotification with the requestId through to Installed after the reboot."""
        station = self.station
        firmware = p["firmware"]
        request_id = p["requestId"]
        replaced = station.cancel_job("firmware")
        station.firmware_request_id = request_id
        steps = SIGNED_FIRMWARE_STEPS if firmware.get("signature") else FIRMWARE_STEPS

        def notify(status: str) -> None:
            station.send("FirmwareStatusNotification", {"status": status, "requestId": request_id})

        async def install() -> None:
            await maintenance.update_firmware(
                station,
                firmware["location"],
                timestamps.parse(firmware["retrieveDateTime"]),
                steps,
                notify,
            )

        status = "AcceptedCanceled" if replaced else "Accepted"
        return Reply({"status": status}, then=lambda: station.run_job("firmware", install()))

    async def get_log(self, p: dict[str, Any]) -> Reply:
        """N01: the file name now, LogStatusNotification (with requestId) as the upload goes."""
        station = self.station
        request_id = p["requestId"]
        replaced = station.cancel_job("log")
        station.upload_request_id = request_id
        name = maintenance.file_name(station.id, p["logType"], timestamps.utcnow())

        def notify(status: str) -> None:
            station.send("LogStatusNotification", {"status": status, "requestId": request_id})

        async def upload() -> None:
            await maintenance.upload(
                station,
                p["log"]["remoteLocation"],
                ("Uploading", "Uploaded", "UploadFailure"),
                notify,
            )

        status = "AcceptedCanceled" if replaced else "Accepted"
        return Reply(
            {"status": status, "filename": name}, then=lambda: station.run_job("log", upload())
        )

    async def data_transfer(self, p: dict[str, Any]) -> Reply:
        """P01."""
        return Reply(data_transfer(p))

    async def cost_updated(self, p: dict[str, Any]) -> Reply:
        """I02: the running cost of a session; a station shows it, we keep the latest."""
        self.running_cost[p["transactionId"]] = p["totalCost"]
        return Reply({})


def id_token_info(info: dict[str, Any]) -> AuthEntry:
    expiry = info.get("cacheExpiryDateTime")
    group = info.get("groupIdToken")
    return AuthEntry(
        info["status"],
        timestamps.parse(expiry) if expiry else None,
        None if group is None else group["idToken"],
    )
