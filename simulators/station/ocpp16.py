"""OCPP 1.6J: the messages a charge point sends and its answers to every Central System command.

Section numbers are those of the OCPP 1.6 specification (edition 2, 2017); the configuration keys
are §9. Connector N is EVSE N of the version-neutral core.
"""

from __future__ import annotations

from typing import Any

from simulators import timestamps
from simulators.auth_lists import ACCEPTED, AuthEntry
from simulators.configuration import KeyStore
from simulators.offline_queue import Role
from simulators.rpc import Handler, Reply
from simulators.smart_charging import STATION_MAX, TX, profile_from_v16
from simulators.station import maintenance
from simulators.station.certificate_commands import CertificateCommands
from simulators.station.connect import authorization_key_password
from simulators.station.dialect import Dialect
from simulators.station.evse import Evse, Reservation
from simulators.station.ocpp16_keys import key_specs
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

REASONS = {
    StopCause.LOCAL: "Local",
    StopCause.EV_DISCONNECTED: "EVDisconnected",
    StopCause.REMOTE: "Remote",
    StopCause.HARD_RESET: "HardReset",
    StopCause.SOFT_RESET: "SoftReset",
    StopCause.IMMEDIATE_RESET: "HardReset",
    StopCause.DEAUTHORIZED: "DeAuthorized",
    StopCause.UNLOCK: "UnlockCommand",
    StopCause.REBOOT: "Reboot",
    StopCause.OTHER: "Other",
}

FIRMWARE_STEPS = maintenance.FirmwareSteps(
    before_install=("Downloading", "Downloaded"), installing=("Installing",)
)
REMOTE_SESSION_S = 3600.0  # how long a remotely started car stays unless stopped


class Ocpp16(Dialect):
    version = "1.6"

    def __init__(self, station: Station) -> None:
        super().__init__(station)
        self.keys = KeyStore(key_specs(station), on_change=self._key_changed)
        self.station_operative = True  # ChangeAvailability on connector 0
        self.certificates = CertificateCommands(station, "1.6", self.trigger_message)

    # -- settings -------------------------------------------------------------------------------

    def _key_changed(self, key: str, value: str) -> None:
        if key == "HeartbeatInterval":
            self.station.heartbeat_interval_changed()

    def heartbeat_interval(self) -> int:
        return self.keys.get_int("HeartbeatInterval") or 86_400  # 0: heartbeat off (daily)

    def set_heartbeat_interval(self, seconds: int) -> None:
        # §4.2: the interval in the BootNotification answer becomes HeartbeatInterval.
        self.keys.set_internal("HeartbeatInterval", str(seconds))

    def meter_interval(self) -> int:
        return self.keys.get_int("MeterValueSampleInterval")

    def message_attempts(self) -> int:
        return self.keys.get_int("TransactionMessageAttempts")

    def message_retry_interval(self) -> int:
        return self.keys.get_int("TransactionMessageRetryInterval")

    def authorize_offline(self) -> bool:
        return self.keys.get_bool("LocalAuthorizeOffline")

    def offline_unknown_allowed(self) -> bool:
        return self.keys.get_bool("AllowOfflineTxForUnknownId")

    def local_pre_authorize(self) -> bool:
        return self.keys.get_bool("LocalPreAuthorize")

    def authorize_remote_start(self) -> bool:
        return self.keys.get_bool("AuthorizeRemoteTxRequests")

    def stop_on_invalid_id(self) -> bool:
        return self.keys.get_bool("StopTransactionOnInvalidId")

    def cache_enabled(self) -> bool:
        return self.keys.get_bool("AuthorizationCacheEnabled")

    def local_list_enabled(self) -> bool:
        return self.keys.get_bool("LocalAuthListEnabled")

    # -- messages -------------------------------------------------------------------------------

    def boot_request(self, reason: str) -> dict[str, Any]:
        config = self.station.config
        payload: dict[str, Any] = {
            "chargePointVendor": config.vendor,
            "chargePointModel": config.model,
            "firmwareVersion": self.station.firmware_version[:50],
            "meterType": f"{config.kind.current} meter"[:25],
        }
        if config.serial_number:
            payload["chargePointSerialNumber"] = config.serial_number[:25]
            payload["meterSerialNumber"] = f"M{config.serial_number}"[:25]
        return payload

    def status_requests(self, evse: Evse) -> list[dict[str, Any]]:
        return [
            {
                "connectorId": evse.id,
                "errorCode": "OtherError" if evse.faulted else "NoError",
                "status": evse.status_v16(),
                "timestamp": timestamps.isoformat(timestamps.utcnow()),
            }
        ]

    def station_status_requests(self) -> list[dict[str, Any]]:
        return [
            {
                "connectorId": 0,
                "errorCode": "NoError",
                "status": "Available" if self.station_operative else "Unavailable",
                "timestamp": timestamps.isoformat(timestamps.utcnow()),
            }
        ]

    def authorize_request(self, token: str, token_type: str) -> dict[str, Any]:
        return {"idTag": token}

    def auth_entry(self, response: dict[str, Any]) -> AuthEntry:
        return id_tag_info(response["idTagInfo"])

    def sampled_values(
        self, measurands: list[str], r: Reading, context: str
    ) -> list[dict[str, Any]]:
        kind = self.station.config.kind
        single_phase = not kind.is_dc and kind.phases == 1
        values: list[dict[str, Any]] = []

        def add(measurand: str, value: str, unit: str, **extra: str) -> None:
            values.append(
                {
                    "value": value,
                    "context": context,
                    "format": "Raw",
                    "measurand": measurand,
                    "location": extra.pop("location", "Outlet"),
                    "unit": unit,
                    **extra,
                }
            )

        for measurand in measurands:
            if measurand == "Energy.Active.Import.Register":
                add(measurand, str(r.register_wh), "Wh")
            elif measurand == "Power.Active.Import":
                add(measurand, f"{r.power_w:.1f}", "W")
            elif measurand == "Power.Offered":
                add(measurand, f"{r.offered_w:.1f}", "W")
            elif measurand == "Current.Import":
                extra = {"phase": "L1"} if single_phase else {}
                add(measurand, f"{r.current_a:.2f}", "A", **extra)
            elif measurand == "Current.Offered":
                add(measurand, f"{kind.watts_to_amps(r.offered_w):.2f}", "A")
            elif measurand == "Voltage":
                extra = {"phase": "L1-N"} if single_phase else {}
                add(measurand, f"{r.voltage_v:.1f}", "V", **extra)
            elif measurand == "SoC" and r.soc_percent is not None:
                add(measurand, f"{r.soc_percent:.1f}", "Percent", location="EV")
        return values

    def transaction_started(self, session: Session, reading: Reading) -> None:
        station = self.station
        payload: dict[str, Any] = {
            "connectorId": session.evse.id,
            "idTag": session.plan.id_tag,
            "meterStart": reading.register_wh,
            "timestamp": timestamps.isoformat(session.started_at),
        }
        if session.reservation_id is not None:
            payload["reservationId"] = session.reservation_id

        def started(answer: dict[str, Any]) -> None:
            # §4.8: the id the Central System assigns; queued messages of this session use it.
            real_id = int(answer["transactionId"])
            session.real_id = real_id
            station.outbox.queue.resolve(session.local_id, real_id)
            station.stats.sessions_started += 1
            entry = id_tag_info(answer["idTagInfo"])
            station.remember(session.plan.id_tag, entry)
            if entry.status != ACCEPTED and self.stop_on_invalid_id():
                session.request_stop(StopCause.DEAUTHORIZED)  # §4.8 StopTransactionOnInvalidId

        station.outbox.push(
            "StartTransaction", payload, role=Role.START, tx_ref=session.local_id, on_ack=started
        )

    def _meter_values(
        self, evse: Evse, session: Session | None, reading: Reading, context: str
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "connectorId": evse.id,
            "meterValue": [
                {
                    "timestamp": timestamps.isoformat(reading.at),
                    "sampledValue": self.sampled_values(
                        self.keys.get_list("MeterValuesSampledData"), reading, context
                    ),
                }
            ],
        }
        if session is not None:
            payload["transactionId"] = session.local_id  # replaced by the real id when sent
        return payload

    def transaction_updated(self, session: Session, reading: Reading, trigger: str) -> None:
        station = self.station
        payload = self._meter_values(session.evse, session, reading, "Sample.Periodic")
        has_register = "Energy.Active.Import.Register" in self.keys.get_list(
            "MeterValuesSampledData"
        )

        def delivered(answer: dict[str, Any]) -> None:
            if has_register:
                station.stats.meter_readings += 1

        station.outbox.push(
            "MeterValues", payload, role=Role.UPDATE, tx_ref=session.local_id, on_ack=delivered
        )

    def charging_state_changed(self, session: Session, reading: Reading) -> None:
        """1.6 has no event for it: the connector status (SuspendedEV, ...) tells the CSMS."""

    def reservation_ended(self, reservation: Reservation, expired: bool) -> None:
        """1.6 reports nothing: the connector status returns to Available (§5.13)."""

    def transaction_ended(self, session: Session, reading: Reading, cause: StopCause) -> None:
        station = self.station
        payload: dict[str, Any] = {
            "transactionId": session.local_id,
            "idTag": session.plan.id_tag,
            "meterStop": reading.register_wh,
            "timestamp": timestamps.isoformat(reading.at),
            "reason": REASONS[cause],
        }
        measurands = self.keys.get_list("StopTxnSampledData")
        if measurands:
            payload["transactionData"] = [
                {
                    "timestamp": timestamps.isoformat(reading.at),
                    "sampledValue": self.sampled_values(measurands, reading, "Transaction.End"),
                }
            ]
        energy = reading.register_wh - session.meter_start_wh

        def stopped(answer: dict[str, Any]) -> None:
            station.stats.sessions_completed += 1
            station.stats.energy_wh += energy
            station.outbox.queue.forget(session.local_id)

        station.outbox.push(
            "StopTransaction", payload, role=Role.STOP, tx_ref=session.local_id, on_ack=stopped
        )

    # -- commands -------------------------------------------------------------------------------

    def handlers(self) -> dict[str, Handler]:
        return {
            "RemoteStartTransaction": self.remote_start,
            "RemoteStopTransaction": self.remote_stop,
            "Reset": self.reset,
            "ChangeAvailability": self.change_availability,
            "UnlockConnector": self.unlock_connector,
            "TriggerMessage": self.trigger_message,
            "GetConfiguration": self.get_configuration,
            "ChangeConfiguration": self.change_configuration,
            "ClearCache": self.clear_cache,
            "SendLocalList": self.send_local_list,
            "GetLocalListVersion": self.get_local_list_version,
            "ReserveNow": self.reserve_now,
            "CancelReservation": self.cancel_reservation,
            "SetChargingProfile": self.set_charging_profile,
            "ClearChargingProfile": self.clear_charging_profile,
            "GetCompositeSchedule": self.get_composite_schedule,
            "UpdateFirmware": self.update_firmware,
            "GetDiagnostics": self.get_diagnostics,
            "DataTransfer": self.data_transfer,
            **self.certificates.handlers(),  # last: its TriggerMessage wraps the one above
        }

    def _evse(self, connector_id: int) -> Evse | None:
        return self.station.evses.get(connector_id)

    async def remote_start(self, p: dict[str, Any]) -> Reply:
        """§5.11: start on the connector given (or a free one) for the idTag."""
        station = self.station
        connector = p.get("connectorId")
        profile = p.get("chargingProfile")
        if connector is not None and self._evse(connector) is None:
            return Reply({"status": "Rejected"})
        if profile is not None and profile["chargingProfilePurpose"] != "TxProfile":
            return Reply({"status": "Rejected"})
        evse = station.pick_evse(connector, p["idTag"])
        if evse is None:
            return Reply({"status": "Rejected"})
        if profile is not None:
            station.profiles.install(profile_from_v16(profile, evse.id, timestamps.utcnow()))
        plan = SessionPlan(
            id_tag=p["idTag"],
            duration_s=REMOTE_SESSION_S,
            pre_authorized=not self.authorize_remote_start(),
        )
        try:
            station.start_session(evse.id, plan)
        except EvseBusy:
            return Reply({"status": "Rejected"})
        return Reply({"status": "Accepted"})

    async def remote_stop(self, p: dict[str, Any]) -> Reply:
        """§5.12: stop the transaction with that id, as if stopped locally (reason Remote)."""
        session = self.station.find_session(str(p["transactionId"]))
        if session is None:
            return Reply({"status": "Rejected"})
        session.request_stop(StopCause.REMOTE)
        return Reply({"status": "Accepted"})

    async def reset(self, p: dict[str, Any]) -> Reply:
        """§5.14: Soft stops transactions and delivers the stops, then reboots; Hard reboots at
        once and sends the stops (reason HardReset) after the next boot."""
        hard = p["type"] == "Hard"
        cause = StopCause.HARD_RESET if hard else StopCause.SOFT_RESET

        async def reboot() -> None:
            await self.station.reboot("RemoteReset", cause, graceful=not hard)

        return Reply({"status": "Accepted"}, then=reboot)

    async def change_availability(self, p: dict[str, Any]) -> Reply:
        """§5.2: Accepted, or Scheduled while a transaction runs on the connector."""
        connector = p["connectorId"]
        operative = p["type"] == "Operative"
        if connector != 0 and self._evse(connector) is None:
            return Reply({"status": "Rejected"})
        status = self.station.change_availability(connector or None, operative)
        if connector == 0 and self.station_operative != operative:
            self.station_operative = operative
            for payload in self.station_status_requests():
                self.station.send("StatusNotification", payload)
        return Reply({"status": status})

    async def unlock_connector(self, p: dict[str, Any]) -> Reply:
        """§5.18: a running transaction is stopped first (reason UnlockCommand)."""
        evse = self._evse(p["connectorId"])
        if evse is None:
            return Reply({"status": "NotSupported"})
        session = self.station.sessions.get(evse.id)
        if session is not None:
            session.request_stop(StopCause.UNLOCK)

        async def release() -> None:
            while evse.in_transaction:
                await self.station.wait_idle()
            self.station.release_cable(evse)

        return Reply({"status": "Unlocked"}, then=release)

    async def trigger_message(self, p: dict[str, Any]) -> Reply:
        """§5.17: Accepted, then the requested message (after this answer has gone out)."""
        station = self.station
        requested = p["requestedMessage"]
        connector = p.get("connectorId")
        if connector is not None and connector != 0 and self._evse(connector) is None:
            return Reply({"status": "Rejected"})
        targets = [self._evse(connector)] if connector else list(station.evses.values())
        evses = [e for e in targets if e is not None]

        async def send() -> None:
            if requested == "BootNotification":
                await station.triggered_boot()
            elif requested == "Heartbeat":
                await station.call("Heartbeat", {})
            elif requested == "DiagnosticsStatusNotification":
                station.send("DiagnosticsStatusNotification", {"status": station.upload_status})
            elif requested == "FirmwareStatusNotification":
                station.send("FirmwareStatusNotification", {"status": station.firmware_status})
            elif requested == "StatusNotification":
                if not connector:
                    for payload in self.station_status_requests():
                        station.send("StatusNotification", payload)
                for evse in evses:
                    for payload in self.status_requests(evse):
                        station.send("StatusNotification", payload)
            elif requested == "MeterValues":
                for evse in evses:
                    self._triggered_meter_values(evse)

        if requested not in (
            "BootNotification",
            "Heartbeat",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
            "StatusNotification",
            "MeterValues",
        ):
            return Reply({"status": "NotImplemented"})
        return Reply({"status": "Accepted"}, then=send)

    def _triggered_meter_values(self, evse: Evse) -> None:
        session = self.station.sessions.get(evse.id)
        now = reading(self.station, session) if session is not None else idle_reading(evse)
        self.station.send("MeterValues", self._meter_values(evse, session, now, "Trigger"))

    async def get_configuration(self, p: dict[str, Any]) -> Reply:
        """§5.8: known keys with values (write-only keys without), unknown ones listed."""
        known, unknown = self.keys.configuration(p.get("key"))
        answer: dict[str, Any] = {"configurationKey": known}
        if unknown:
            answer["unknownKey"] = unknown
        return Reply(answer)

    async def change_configuration(self, p: dict[str, Any]) -> Reply:
        """§5.3: Accepted / Rejected (read-only, bad value) / NotSupported (unknown key)."""
        key, value = p["key"], p["value"]
        status = self.keys.change(key, value)
        if status == "Accepted" and key == "AuthorizationKey":

            async def reconnect() -> None:
                # Security whitepaper §1.3.5: reconnect with the new password, which the
                # key carries hex-encoded.
                self.station.apply_password(authorization_key_password(value))

            return Reply({"status": status}, then=reconnect)
        return Reply({"status": status})

    async def clear_cache(self, p: dict[str, Any]) -> Reply:
        """§5.4."""
        self.station.auth_cache.clear()
        return Reply({"status": "Accepted"})

    async def send_local_list(self, p: dict[str, Any]) -> Reply:
        """§5.15: Full replaces, Differential updates; newer version required for Differential."""
        if not self.local_list_enabled():
            return Reply({"status": "NotSupported"})
        items = p.get("localAuthorizationList", [])
        if len(items) > self.keys.get_int("SendLocalListMaxLength"):
            return Reply({"status": "Failed"})
        entries = [
            (item["idTag"], id_tag_info(item["idTagInfo"]) if "idTagInfo" in item else None)
            for item in items
        ]
        status = self.station.local_list.update(p["listVersion"], p["updateType"], entries)
        return Reply({"status": status})

    async def get_local_list_version(self, p: dict[str, Any]) -> Reply:
        """§5.10: -1 when lists are not supported/enabled, 0 when the list is empty."""
        local_list = self.station.local_list
        if not self.local_list_enabled():
            return Reply({"listVersion": -1})
        return Reply({"listVersion": local_list.version if len(local_list) else 0})

    async def reserve_now(self, p: dict[str, Any]) -> Reply:
        """§5.13: reserve the connector (0: any free one) for idTag until expiryDate."""
        station = self.station
        connector = p["connectorId"]
        reservation = Reservation(
            id=p["reservationId"],
            id_tag=p["idTag"],
            expires_at=timestamps.parse(p["expiryDate"]),
            group=p.get("parentIdTag"),
            evse=connector,
        )
        existing = station.find_reservation(reservation.id)
        if connector == 0:
            if not self.keys.get_bool("ReserveConnectorZeroSupported"):
                return Reply({"status": "Rejected"})
            free = [
                e
                for e in station.evses.values()
                if e.idle and e.startable and (e.reservation is None or e.reservation is existing)
            ]
            if not free:
                return Reply({"status": "Occupied"})
            station.reserve(reservation, free[0])
            return Reply({"status": "Accepted"})
        evse = self._evse(connector)
        if evse is None:
            return Reply({"status": "Rejected"})
        status = reservation_problem(evse, existing)
        if status is not None:
            return Reply({"status": status})
        station.reserve(reservation, evse)
        return Reply({"status": "Accepted"})

    async def cancel_reservation(self, p: dict[str, Any]) -> Reply:
        """§5.1."""
        found = self.station.cancel_reservation(p["reservationId"])
        return Reply({"status": "Accepted" if found else "Rejected"})

    async def set_charging_profile(self, p: dict[str, Any]) -> Reply:
        """§5.16 with the §3.13 rules on where each purpose may go."""
        station = self.station
        connector = p["connectorId"]
        raw = p["csChargingProfiles"]
        if connector != 0 and self._evse(connector) is None:
            return Reply({"status": "Rejected"})
        schedule = raw["chargingSchedule"]
        allowed = {"Current": "A", "Power": "W"}
        units = {allowed[u] for u in self.keys.get_list("ChargingScheduleAllowedChargingRateUnit")}
        if (
            raw["stackLevel"] > self.keys.get_int("ChargeProfileMaxStackLevel")
            or len(schedule["chargingSchedulePeriod"])
            > self.keys.get_int("ChargingScheduleMaxPeriods")
            or schedule["chargingRateUnit"] not in units
        ):
            return Reply({"status": "Rejected"})
        profile = profile_from_v16(raw, connector, timestamps.utcnow())
        if profile.purpose == STATION_MAX and connector != 0:
            return Reply({"status": "Rejected"})
        if profile.purpose == TX:
            session = station.sessions.get(connector)
            if connector == 0 or session is None:
                return Reply({"status": "Rejected"})  # §3.13.1: TxProfile needs a transaction
            if profile.transaction_id is not None and profile.transaction_id != session.id_text:
                return Reply({"status": "Rejected"})
        return Reply({"status": "Accepted" if station.profiles.install(profile) else "Rejected"})

    async def clear_charging_profile(self, p: dict[str, Any]) -> Reply:
        """§5.5: by id, or by connector / purpose / stack level."""
        removed = self.station.profiles.clear(
            profile_id=p.get("id"),
            evse=p.get("connectorId"),
            purpose=p.get("chargingProfilePurpose"),
            stack_level=p.get("stackLevel"),
        )
        return Reply({"status": "Accepted" if removed else "Unknown"})

    async def get_composite_schedule(self, p: dict[str, Any]) -> Reply:
        """§5.7: the limits that will apply from now for `duration` seconds."""
        station = self.station
        connector = p["connectorId"]
        if connector != 0 and self._evse(connector) is None:
            return Reply({"status": "Rejected"})
        unit = p.get("chargingRateUnit", "W")
        now = timestamps.utcnow().replace(microsecond=0)
        periods = composite(station, connector, now, p["duration"], unit)
        return Reply(
            {
                "status": "Accepted",
                "connectorId": connector,
                "scheduleStart": timestamps.isoformat(now),
                "chargingSchedule": {
                    "duration": p["duration"],
                    "startSchedule": timestamps.isoformat(now),
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": periods,
                },
            }
        )

    async def update_firmware(self, p: dict[str, Any]) -> Reply:
        """§5.19: answered at once; progress follows as FirmwareStatusNotification (§4.5)."""
        station = self.station

        async def install() -> None:
            await maintenance.update_firmware(
                station,
                p["location"],
                timestamps.parse(p["retrieveDate"]),
                FIRMWARE_STEPS,
                lambda status: station.send("FirmwareStatusNotification", {"status": status}),
            )

        station.cancel_job("firmware")
        return Reply({}, then=lambda: station.run_job("firmware", install()))

    async def get_diagnostics(self, p: dict[str, Any]) -> Reply:
        """§5.9: the file name now; DiagnosticsStatusNotification (§4.4) as the upload goes."""
        station = self.station
        name = maintenance.file_name(station.id, "diagnostics", timestamps.utcnow())

        async def upload() -> None:
            await maintenance.upload(
                station,
                p["location"],
                ("Uploading", "Uploaded", "UploadFailed"),
                lambda status: station.send("DiagnosticsStatusNotification", {"status": status}),
            )

        station.cancel_job("log")
        return Reply({"fileName": name}, then=lambda: station.run_job("log", upload()))

    async def data_transfer(self, p: dict[str, Any]) -> Reply:
        """§5.6."""
        return Reply(data_transfer(p))


def id_tag_info(info: dict[str, Any]) -> AuthEntry:
    expiry = info.get("expiryDate")
    return AuthEntry(
        info["status"],
        timestamps.parse(expiry) if expiry else None,
        info.get("parentIdTag"),
    )
