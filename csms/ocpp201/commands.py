"""Version-neutral operator commands as OCPP 2.0.1 CALLs (action, payload).

Parameters arrive validated and in snake_case (see api/schemas.py); datetimes are aware.
"""

from __future__ import annotations

from typing import Any

from csms.clock import isoformat
from csms.errors import InvalidInput
from csms.ocpp201.local_list import send_local_list as _send_local_list
from csms.rpc.payloads import SHARED_BUILDERS, Builder, drop_none, ocpp_time, schedule_periods

Params = dict[str, Any]
PURPOSES = {
    "station_max": "ChargingStationMaxProfile",
    "tx_default": "TxDefaultProfile",
    "tx": "TxProfile",
}
# 1.6 TriggerMessage names that 2.0.1 spells differently.
TRIGGER_ALIASES = {"DiagnosticsStatusNotification": "LogStatusNotification"}


def _evse(p: Params) -> Params | None:
    if p.get("evse_id") is None:
        return None
    return drop_none({"id": p["evse_id"], "connectorId": p.get("connector_id")})


def _id_token(value: str, kind: str | None) -> Params:
    return {"idToken": value, "type": kind or "ISO14443"}


def charging_profile(profile: Params) -> Params:
    schedule = profile["schedule"]
    return drop_none(
        {
            "id": profile["id"],
            "stackLevel": profile["stack_level"],
            "chargingProfilePurpose": PURPOSES[profile["purpose"]],
            "chargingProfileKind": profile["kind"],
            "recurrencyKind": profile.get("recurrency"),
            "validFrom": ocpp_time(profile.get("valid_from")),
            "validTo": ocpp_time(profile.get("valid_to")),
            "transactionId": profile.get("station_tx_id"),
            "chargingSchedule": [
                drop_none(
                    {
                        "id": profile["id"],
                        "duration": schedule.get("duration_s"),
                        "startSchedule": ocpp_time(schedule.get("start")),
                        "chargingRateUnit": schedule["rate_unit"],
                        "minChargingRate": schedule.get("min_rate"),
                        "chargingSchedulePeriod": schedule_periods(schedule["periods"]),
                    }
                )
            ],
        }
    )


def _remote_start(p: Params) -> tuple[str, Params]:
    payload: Params = {
        "idToken": _id_token(p["id_token"], p.get("id_token_type")),
        "remoteStartId": p["remote_start_id"],
        "evseId": p.get("evse_id"),
    }
    if p.get("charging_profile"):
        payload["chargingProfile"] = charging_profile(p["charging_profile"])
    return "RequestStartTransaction", drop_none(payload)


def _remote_stop(p: Params) -> tuple[str, Params]:
    return "RequestStopTransaction", {"transactionId": str(p["ocpp_transaction_id"])}


def _reset(p: Params) -> tuple[str, Params]:
    kind = "Immediate" if p["kind"] == "hard" else "OnIdle"
    return "Reset", drop_none({"type": kind, "evseId": p.get("evse_id")})


def _change_availability(p: Params) -> tuple[str, Params]:
    evse = _evse(p) if p.get("evse_id") else None  # EVSE 0 / none: the whole station
    return "ChangeAvailability", drop_none(
        {"operationalStatus": "Operative" if p["operative"] else "Inoperative", "evse": evse}
    )


def _unlock(p: Params) -> tuple[str, Params]:
    return "UnlockConnector", {"evseId": p["evse_id"], "connectorId": p.get("connector_id") or 1}


def _trigger(p: Params) -> tuple[str, Params]:
    message = TRIGGER_ALIASES.get(p["message"], p["message"])
    return "TriggerMessage", drop_none({"requestedMessage": message, "evse": _evse(p)})


def _variable_ref(key: str) -> Params:
    """`Component.Variable` or `Component.Variable.Instance` as a 2.0.1 component/variable."""
    parts = key.split(".")
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidInput(
            f"2.0.1 configuration keys are Component.Variable[.Instance], got {key!r}"
        )
    variable: Params = {"name": parts[1]}
    if len(parts) == 3:
        variable["instance"] = parts[2]
    return {"component": {"name": parts[0]}, "variable": variable}


def _get_configuration(p: Params) -> tuple[str, Params]:
    if not p.get("keys"):
        raise InvalidInput(
            "2.0.1 GetVariables needs at least one key; for everything use the raw "
            "GetBaseReport passthrough"
        )
    return "GetVariables", {"getVariableData": [_variable_ref(k) for k in p["keys"]]}


def _set_configuration(p: Params) -> tuple[str, Params]:
    return "SetVariables", {
        "setVariableData": [{"attributeValue": p["value"], **_variable_ref(p["key"])}]
    }


def _reserve(p: Params) -> tuple[str, Params]:
    group = p.get("group_id")
    return "ReserveNow", drop_none(
        {
            "id": p["reservation_id"],
            "expiryDateTime": isoformat(p["expires_at"]),
            "idToken": _id_token(p["id_token"], p.get("id_token_type")),
            "evseId": p.get("evse_id") or None,
            "groupIdToken": {"idToken": group, "type": "Central"} if group else None,
        }
    )


def _set_profile(p: Params) -> tuple[str, Params]:
    return "SetChargingProfile", {
        "evseId": p["evse_id"],
        "chargingProfile": charging_profile(p["profile"]),
    }


def _clear_profile(p: Params) -> tuple[str, Params]:
    purpose = p.get("purpose")
    criteria = drop_none(
        {
            "evseId": p.get("evse_id"),
            "chargingProfilePurpose": PURPOSES[purpose] if purpose else None,
            "stackLevel": p.get("stack_level"),
        }
    )
    return "ClearChargingProfile", drop_none(
        {"chargingProfileId": p.get("profile_id"), "chargingProfileCriteria": criteria or None}
    )


def _composite(p: Params) -> tuple[str, Params]:
    return "GetCompositeSchedule", drop_none(
        {
            "duration": p["duration_s"],
            "evseId": p["evse_id"],
            "chargingRateUnit": p.get("rate_unit"),
        }
    )


def _update_firmware(p: Params) -> tuple[str, Params]:
    return "UpdateFirmware", drop_none(
        {
            "requestId": p["request_id"],
            "retries": p.get("retries"),
            "retryInterval": p.get("retry_interval_s"),
            "firmware": drop_none(
                {
                    "location": p["location"],
                    "retrieveDateTime": isoformat(p["retrieve_at"]),
                    "signingCertificate": p.get("signing_certificate"),
                    "signature": p.get("signature"),
                }
            ),
        }
    )


def _diagnostics(p: Params) -> tuple[str, Params]:
    return "GetLog", drop_none(
        {
            "logType": "DiagnosticsLog",
            "requestId": p["request_id"],
            "retries": p.get("retries"),
            "retryInterval": p.get("retry_interval_s"),
            "log": drop_none(
                {
                    "remoteLocation": p["location"],
                    "oldestTimestamp": ocpp_time(p.get("start")),
                    "latestTimestamp": ocpp_time(p.get("stop")),
                }
            ),
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
