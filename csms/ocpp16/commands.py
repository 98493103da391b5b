"""Version-neutral operator commands as OCPP 1.6 CALLs (action, payload).

Parameters arrive validated and in snake_case (see api/schemas.py); datetimes are aware.
1.6 has no EVSEs: an EVSE id is the connectorId (see ConnectorRef.from_v16).
"""

from __future__ import annotations

from typing import Any

from csms.clock import isoformat
from csms.errors import InvalidInput
from csms.ocpp16.local_list import send_local_list as _send_local_list
from csms.rpc.payloads import SHARED_BUILDERS, Builder, drop_none, ocpp_time, schedule_periods

Params = dict[str, Any]
PURPOSES = {
    "station_max": "ChargePointMaxProfile",
    "tx_default": "TxDefaultProfile",
    "tx": "TxProfile",
}


def charging_profile(profile: Params) -> Params:
    schedule = profile["schedule"]
    return drop_none(
        {
            "chargingProfileId": profile["id"],
            "transactionId": profile.get("transaction_id"),
            "stackLevel": profile["stack_level"],
            "chargingProfilePurpose": PURPOSES[profile["purpose"]],
            "chargingProfileKind": profile["kind"],
            "recurrencyKind": profile.get("recurrency"),
            "validFrom": ocpp_time(profile.get("valid_from")),
            "validTo": ocpp_time(profile.get("valid_to")),
            "chargingSchedule": drop_none(
                {
                    "duration": schedule.get("duration_s"),
                    "startSchedule": ocpp_time(schedule.get("start")),
                    "chargingRateUnit": schedule["rate_unit"],
                    "minChargingRate": schedule.get("min_rate"),
                    "chargingSchedulePeriod": schedule_periods(schedule["periods"]),
                }
            ),
        }
    )


def _remote_start(p: Params) -> tuple[str, Params]:
    payload: Params = {"idTag": p["id_token"], "connectorId": p.get("evse_id")}
    if p.get("charging_profile"):
        payload["chargingProfile"] = charging_profile(p["charging_profile"])
    return "RemoteStartTransaction", drop_none(payload)


def _remote_stop(p: Params) -> tuple[str, Params]:
    return "RemoteStopTransaction", {"transactionId": int(p["ocpp_transaction_id"])}


def _reset(p: Params) -> tuple[str, Params]:
    if p.get("evse_id") is not None:
        raise InvalidInput("OCPP 1.6 resets the whole charge point; evse_id is 2.0.1 only")
    return "Reset", {"type": "Hard" if p["kind"] == "hard" else "Soft"}


def _change_availability(p: Params) -> tuple[str, Params]:
    return "ChangeAvailability", {
        "connectorId": p.get("evse_id") or 0,
        "type": "Operative" if p["operative"] else "Inoperative",
    }


def _unlock(p: Params) -> tuple[str, Params]:
    return "UnlockConnector", {"connectorId": p["evse_id"]}


def _trigger(p: Params) -> tuple[str, Params]:
    return "TriggerMessage", drop_none(
        {"requestedMessage": p["message"], "connectorId": p.get("evse_id")}
    )


def _get_configuration(p: Params) -> tuple[str, Params]:
    return "GetConfiguration", {"key": p["keys"]} if p.get("keys") else {}


def _set_configuration(p: Params) -> tuple[str, Params]:
    return "ChangeConfiguration", {"key": p["key"], "value": p["value"]}


def _reserve(p: Params) -> tuple[str, Params]:
    return "ReserveNow", drop_none(
        {
            "connectorId": p.get("evse_id") or 0,
            "expiryDate": isoformat(p["expires_at"]),
            "idTag": p["id_token"],
            "parentIdTag": p.get("group_id"),
            "reservationId": p["reservation_id"],
        }
    )


def _set_profile(p: Params) -> tuple[str, Params]:
    return "SetChargingProfile", {
        "connectorId": p["evse_id"],
        "csChargingProfiles": charging_profile(p["profile"]),
    }


def _clear_profile(p: Params) -> tuple[str, Params]:
    purpose = p.get("purpose")
    return "ClearChargingProfile", drop_none(
        {
            "id": p.get("profile_id"),
            "connectorId": p.get("evse_id"),
            "chargingProfilePurpose": PURPOSES[purpose] if purpose else None,
            "stackLevel": p.get("stack_level"),
        }
    )


def _composite(p: Params) -> tuple[str, Params]:
    return "GetCompositeSchedule", drop_none(
        {
            "connectorId": p["evse_id"],
            "duration": p["duration_s"],
            "chargingRateUnit": p.get("rate_unit"),
        }
    )


def _update_firmware(p: Params) -> tuple[str, Params]:
    if p.get("signature") or p.get("signing_certificate"):
        return "SignedUpdateFirmware", drop_none(
            {
                "requestId": p["request_id"],
                "retries": p.get("retries"),
                "retryInterval": p.get("retry_interval_s"),
                "firmware": {
                    "location": p["location"],
                    "retrieveDateTime": isoformat(p["retrieve_at"]),
                    "signingCertificate": p.get("signing_certificate"),
                    "signature": p.get("signature"),
                },
            }
        )
    return "UpdateFirmware", drop_none(
        {
            "location": p["location"],
            "retrieveDate": isoformat(p["retrieve_at"]),
            "retries": p.get("retries"),
            "retryInterval": p.get("retry_interval_s"),
        }
    )


def _diagnostics(p: Params) -> tuple[str, Params]:
    return "GetDiagnostics", drop_none(
        {
            "location": p["location"],
            "startTime": ocpp_time(p.get("start")),
            "stopTime": ocpp_time(p.get("stop")),
            "retries": p.get("retries"),
            "retryInterval": p.get("retry_interval_s"),
        }
    )


BUILDERS: dict[str, Builder] = {
    **SHARED_BUILDERS,
    "remote-start": _remote_start,
    "remote-stop": _remote_stop,
    "reset": _reset,
    "change-availability": _change_availability,
    "unlock-connector": _unlock,
    "trigger-message": _trigger,
    "get-configuration": _get_configuration,
    "set-configuration": _set_configuration,
    "send-local-list": _send_local_list,
    "reserve-now": _reserve,
    "set-charging-profile": _set_profile,
    "clear-charging-profile": _clear_profile,
    "get-composite-schedule": _composite,
    "update-firmware": _update_firmware,
    "get-diagnostics": _diagnostics,
}
