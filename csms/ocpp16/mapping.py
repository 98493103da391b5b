"""OCPP 1.6 payloads to domain values and back. 1.6 connector N is EVSE N, connector 1."""

from __future__ import annotations

from typing import Any

from csms.clock import isoformat, utcnow
from csms.domain.meter import DEFAULT_CONTEXT, DEFAULT_MEASURAND, Sample, reading
from csms.domain.station import MAX_INT64, BootInfo, ConnectorRef, ConnectorStatus, int32, int64
from csms.domain.token import AuthDecision, AuthStatus
from csms.domain.transaction import StartRequest, StopRequest
from csms.rpc.timestamps import parse_timestamp


def boot_info(p: dict[str, Any]) -> BootInfo:
    return BootInfo(
        vendor=p["chargePointVendor"],
        model=p["chargePointModel"],
        serial_number=p.get("chargePointSerialNumber") or p.get("chargeBoxSerialNumber"),
        firmware_version=p.get("firmwareVersion"),
        iccid=p.get("iccid"),
        imsi=p.get("imsi"),
        meter_type=p.get("meterType"),
        meter_serial_number=p.get("meterSerialNumber"),
    )


def connector_status(p: dict[str, Any]) -> ConnectorStatus:
    timestamp = p.get("timestamp")
    return ConnectorStatus(
        where=ConnectorRef.from_v16(p["connectorId"]),
        status=p["status"],
        # timestamp is optional in 1.6; without it the status is as of receipt
        timestamp=parse_timestamp(timestamp) if timestamp else utcnow(),
        error_code=p["errorCode"],
        info=p.get("info"),
        vendor_id=p.get("vendorId"),
        vendor_error_code=p.get("vendorErrorCode"),
    )


def samples(meter_values: list[dict[str, Any]]) -> list[Sample]:
    """Every sampled value, with the 1.6 defaults filled in; unreadable values kept as text."""
    out: list[Sample] = []
    for meter_value in meter_values:
        at = parse_timestamp(meter_value["timestamp"])
        for sv in meter_value["sampledValue"]:
            text = sv["value"]
            signed = sv.get("format") == "SignedData"
            value = None if signed else reading(text)
            out.append(  # positional: four times per message, keywords cost twice as much
                Sample(
                    at,  # sampled_at
                    sv.get("measurand", DEFAULT_MEASURAND),
                    value,
                    sv.get("unit", "Wh"),
                    sv.get("phase", ""),
                    sv.get("location", "Outlet"),
                    sv.get("context", DEFAULT_CONTEXT),
                    text if value is None else None,  # raw_value
                )
            )
    return out


def start_request(p: dict[str, Any]) -> StartRequest:
    return StartRequest(
        where=ConnectorRef.from_v16(p["connectorId"]),
        id_token=p["idTag"],
        meter_start_wh=int64("meterStart", p["meterStart"]) or 0,
        timestamp=parse_timestamp(p["timestamp"]),
        reservation_id=int32("reservationId", p.get("reservationId")),
    )


def stop_request(p: dict[str, Any]) -> StopRequest:
    """A stop is never refused: an impossible id becomes an orphan, an impossible reading None."""
    meter_stop = p["meterStop"]
    return StopRequest(
        transaction_id=p["transactionId"],
        meter_stop_wh=meter_stop if -MAX_INT64 - 1 <= meter_stop <= MAX_INT64 else None,
        timestamp=parse_timestamp(p["timestamp"]),
        reason=p.get("reason"),
        id_token=p.get("idTag"),
        samples=samples(p.get("transactionData", [])),
    )


def id_tag_info(decision: AuthDecision) -> dict[str, Any]:
    # 1.6 AuthorizationStatus has no NotAtThisTime: a start the sharing rules refuse is Invalid.
    status = (
        AuthStatus.INVALID if decision.status is AuthStatus.NOT_AT_THIS_TIME else decision.status
    )
    info: dict[str, Any] = {"status": status.value}
    if decision.expires_at is not None:
        info["expiryDate"] = isoformat(decision.expires_at)
    if decision.group_id is not None and len(decision.group_id) <= 20:
        # 1.6 parentIdTag is at most 20 characters; a longer group id is left out, not cut
        # (two groups sharing a prefix must not look alike)
        info["parentIdTag"] = decision.group_id
    return info
