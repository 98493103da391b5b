"""OCPP 2.0.1 payloads to domain values and back."""

from __future__ import annotations

from typing import Any

from csms.clock import isoformat
from csms.domain.meter import DEFAULT_CONTEXT, DEFAULT_MEASURAND, Sample, reading
from csms.domain.station import BootInfo, ConnectorRef, ConnectorStatus, int32
from csms.domain.token import AuthDecision
from csms.domain.transaction import EventType, TransactionEvent
from csms.rpc.timestamps import parse_timestamp

NO_AUTHORIZATION = "NoAuthorization"


def boot_info(p: dict[str, Any]) -> BootInfo:
    station = p["chargingStation"]
    modem = station.get("modem", {})
    return BootInfo(
        vendor=station["vendorName"],
        model=station["model"],
        serial_number=station.get("serialNumber"),
        firmware_version=station.get("firmwareVersion"),
        iccid=modem.get("iccid"),
        imsi=modem.get("imsi"),
        reason=p["reason"],
    )


def connector_status(p: dict[str, Any]) -> ConnectorStatus:
    return ConnectorStatus(
        where=ConnectorRef(p["evseId"], p["connectorId"]),
        status=p["connectorStatus"],
        timestamp=parse_timestamp(p["timestamp"]),
    )


def samples(meter_values: list[dict[str, Any]]) -> list[Sample]:
    out: list[Sample] = []
    for meter_value in meter_values:
        at = parse_timestamp(meter_value["timestamp"])
        for sv in meter_value["sampledValue"]:
            # the value scaled by the unit's power-of-ten multiplier (2.0.1 UnitOfMeasureType);
            # an implausible one is kept as text, as the station sent it
            measure = sv.get("unitOfMeasure")
            if measure is None:
                unit, multiplier = "Wh", 0
            else:
                unit, multiplier = measure.get("unit", "Wh"), measure.get("multiplier", 0)
            number = sv["value"]
            value = reading(str(number), multiplier)
            out.append(  # positional: a few times per message, keywords cost twice as much
                Sample(
                    at,  # sampled_at
                    sv.get("measurand", DEFAULT_MEASURAND),
                    value,
                    unit,
                    sv.get("phase", ""),
                    sv.get("location", "Outlet"),
                    sv.get("context", DEFAULT_CONTEXT),
                    None if value is not None else f"{number}e{multiplier}",  # raw_value
                    sv.get("signedMeterValue"),  # signed_data
                )
            )
    return out


def transaction_event(p: dict[str, Any]) -> TransactionEvent:
    info = p["transactionInfo"]
    evse = p.get("evse")
    token = p.get("idToken")
    return TransactionEvent(
        station_tx_id=info["transactionId"],
        event_type=EventType(p["eventType"]),
        seq_no=int32("seqNo", p["seqNo"]) or 0,
        timestamp=parse_timestamp(p["timestamp"]),
        trigger_reason=p["triggerReason"],
        offline=p.get("offline", False),
        where=ConnectorRef(evse["id"], evse.get("connectorId", 0)) if evse else None,
        id_token=token["idToken"] if token and token["type"] != NO_AUTHORIZATION else None,
        id_token_type=token["type"] if token else None,
        charging_state=info.get("chargingState"),
        stopped_reason=info.get("stoppedReason"),
        remote_start_id=int32("remoteStartId", info.get("remoteStartId")),
        reservation_id=int32("reservationId", p.get("reservationId")),
        samples=samples(p.get("meterValue", [])),
    )


def id_token_info(decision: AuthDecision) -> dict[str, Any]:
    info: dict[str, Any] = {"status": decision.status.value}
    if decision.expires_at is not None:
        info["cacheExpiryDateTime"] = isoformat(decision.expires_at)
    if decision.group_id is not None:
        info["groupIdToken"] = {"idToken": decision.group_id, "type": "Central"}
    return info


def variable_rows(report_data: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """NotifyReport reportData as device-model rows (see EventStore.put_variables)."""
    rows: list[tuple[Any, ...]] = []
    for item in report_data:
        component, variable = item["component"], item["variable"]
        evse = component.get("evse") or {}
        data_type = (item.get("variableCharacteristics") or {}).get("dataType")
        for attribute in item["variableAttribute"]:
            rows.append(
                (
                    component["name"],
                    component.get("instance", ""),
                    int32("evse.id", evse.get("id", -1)),
                    int32("evse.connectorId", evse.get("connectorId", -1)),
                    variable["name"],
                    variable.get("instance", ""),
                    attribute.get("type", "Actual"),
                    attribute.get("value"),
                    attribute.get("mutability", "ReadWrite"),
                    data_type,
                )
            )
    return rows
