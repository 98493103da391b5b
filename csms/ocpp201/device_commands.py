"""Version-neutral commands about what a 2.0.1 station is and shows, as 2.0.1 CALLs: device
model reports (B07/B08), monitoring (N02-N06), display messages (O01-O06), customer data (N09),
local list version (D02), transaction status (E14), charging profiles (K09), network profile
(B09).

Parameters arrive validated and in snake_case (see api/command_schemas.py); request ids and
station transaction ids are filled in by the command service.
"""

from __future__ import annotations

from typing import Any

from csms.ocpp201.commands import PURPOSES
from csms.rpc.payloads import Builder, drop_none, ocpp_time

Params = dict[str, Any]


def _component(p: Params) -> Params:
    evse = (
        drop_none({"id": p["evse_id"], "connectorId": p.get("connector_id")})
        if p.get("evse_id") is not None
        else None
    )
    return drop_none(
        {"name": p["component"], "instance": p.get("component_instance"), "evse": evse}
    )


def _variable(p: Params) -> Params:
    return drop_none({"name": p["variable"], "instance": p.get("variable_instance")})


def _component_variables(items: list[Params]) -> list[Params] | None:
    """GetReport / GetMonitoringReport componentVariable: a variable is optional there."""
    if not items:
        return None
    return [
        drop_none(
            {
                "component": _component(item),
                "variable": _variable(item) if item.get("variable") else None,
            }
        )
        for item in items
    ]


def _get_base_report(p: Params) -> tuple[str, Params]:
    return "GetBaseReport", {"requestId": p["request_id"], "reportBase": p["report_base"]}


def _get_report(p: Params) -> tuple[str, Params]:
    return "GetReport", drop_none(
        {
            "requestId": p["request_id"],
            "componentVariable": _component_variables(p.get("component_variables", [])),
            "componentCriteria": p.get("criteria") or None,
        }
    )


def _get_monitoring_report(p: Params) -> tuple[str, Params]:
    return "GetMonitoringReport", drop_none(
        {
            "requestId": p["request_id"],
            "componentVariable": _component_variables(p.get("component_variables", [])),
            "monitoringCriteria": p.get("criteria") or None,
        }
    )


def _set_variable_monitoring(p: Params) -> tuple[str, Params]:
    return "SetVariableMonitoring", {
        "setMonitoringData": [
            drop_none(
                {
                    "id": m.get("id"),  # given: replaces that monitor (N04.FR.13)
                    "transaction": m.get("transaction"),
                    "value": m["value"],
                    "type": m["type"],
                    "severity": m["severity"],
                    "component": _component(m),
                    "variable": _variable(m),
                }
            )
            for m in p["monitors"]
        ]
    }


def _set_monitoring_base(p: Params) -> tuple[str, Params]:
    return "SetMonitoringBase", {"monitoringBase": p["base"]}


def _set_monitoring_level(p: Params) -> tuple[str, Params]:
    return "SetMonitoringLevel", {"severity": p["severity"]}


def _clear_variable_monitoring(p: Params) -> tuple[str, Params]:
    return "ClearVariableMonitoring", {"id": p["ids"]}


def _set_display_message(p: Params) -> tuple[str, Params]:
    message = drop_none(
        {
            "id": p["id"],
            "priority": p["priority"],
            "state": p.get("state"),
            "startDateTime": ocpp_time(p.get("starts_at")),
            "endDateTime": ocpp_time(p.get("ends_at")),
            "transactionId": p.get("station_tx_id"),
            "message": drop_none(
                {"format": p["format"], "language": p.get("language"), "content": p["content"]}
            ),
        }
    )
    return "SetDisplayMessage", {"message": message}


def _get_display_messages(p: Params) -> tuple[str, Params]:
    return "GetDisplayMessages", drop_none(
        {
            "requestId": p["request_id"],
            "id": p.get("ids") or None,
            "priority": p.get("priority"),
            "state": p.get("state"),
        }
    )


def _clear_display_message(p: Params) -> tuple[str, Params]:
    return "ClearDisplayMessage", {"id": p["id"]}


def _customer_information(p: Params) -> tuple[str, Params]:
    certificate = p.get("customer_certificate")
    return "CustomerInformation", drop_none(
        {
            "requestId": p["request_id"],
            "report": p["report"],
            "clear": p["clear"],
            "customerIdentifier": p.get("customer_identifier"),
            "idToken": (
                {"idToken": p["id_token"], "type": p.get("id_token_type") or "ISO14443"}
                if p.get("id_token")
                else None
            ),
            "customerCertificate": (
                {
                    "hashAlgorithm": certificate["hash_algorithm"],
                    "issuerNameHash": certificate["issuer_name_hash"],
                    "issuerKeyHash": certificate["issuer_key_hash"],
                    "serialNumber": certificate["serial_number"],
                }
                if certificate
                else None
            ),
        }
    )


def _get_local_list_version(_p: Params) -> tuple[str, Params]:
    return "GetLocalListVersion", {}


def _get_transaction_status(p: Params) -> tuple[str, Params]:
    return "GetTransactionStatus", drop_none({"transactionId": p.get("station_tx_id")})


def _get_charging_profiles(p: Params) -> tuple[str, Params]:
    purpose = p.get("purpose")
    criterion = drop_none(
        {
            "chargingProfilePurpose": PURPOSES[purpose] if purpose else None,
            "stackLevel": p.get("stack_level"),
            "chargingProfileId": p.get("profile_ids") or None,
            "chargingLimitSource": p.get("limit_sources") or None,
        }
    )
    return "GetChargingProfiles", drop_none(
        {"requestId": p["request_id"], "evseId": p.get("evse_id"), "chargingProfile": criterion}
    )


def _set_network_profile(p: Params) -> tuple[str, Params]:
    apn = p.get("apn")
    vpn = p.get("vpn")
    connection = drop_none(
        {
            "ocppVersion": "OCPP20",  # the only value 2.0.1 defines for its own protocol
            "ocppTransport": "JSON",
            "ocppCsmsUrl": p["csms_url"],
            "messageTimeout": p["message_timeout_s"],
            "securityProfile": p["security_profile"],
            "ocppInterface": p["interface"],
            "apn": (
                drop_none(
                    {
                        "apn": apn["apn"],
                        "apnUserName": apn.get("user_name"),
                        "apnPassword": apn.get("password"),
                        "simPin": apn.get("sim_pin"),
                        "preferredNetwork": apn.get("preferred_network"),
                        "useOnlyPreferredNetwork": apn.get("use_only_preferred_network"),
                        "apnAuthentication": apn["authentication"],
                    }
                )
                if apn
                else None
            ),
            "vpn": (
                drop_none(
                    {
                        "server": vpn["server"],
                        "user": vpn["user"],
                        "group": vpn.get("group"),
                        "password": vpn["password"],
                        "key": vpn["key"],
                        "type": vpn["type"],
                    }
                )
                if vpn
                else None
            ),
        }
    )
    return "SetNetworkProfile", {"configurationSlot": p["slot"], "connectionData": connection}


DEVICE_BUILDERS: dict[str, Builder] = {
    "get-base-report": _get_base_report,
    "get-report": _get_report,
    "get-monitoring-report": _get_monitoring_report,
    "set-variable-monitoring": _set_variable_monitoring,
    "set-monitoring-base": _set_monitoring_base,
    "set-monitoring-level": _set_monitoring_level,
    "clear-variable-monitoring": _clear_variable_monitoring,
    "set-display-message": _set_display_message,
    "get-display-messages": _get_display_messages,
    "clear-display-message": _clear_display_message,
    "customer-information": _customer_information,
    "get-local-list-version": _get_local_list_version,
    "get-transaction-status": _get_transaction_status,
    "get-charging-profiles": _get_charging_profiles,
    "set-network-profile": _set_network_profile,
}
