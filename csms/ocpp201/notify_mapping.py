"""2.0.1 report notifications and EV messages as domain values (payloads are schema-valid)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from csms.domain.reports import (
    DisplayMessage,
    EvChargingNeeds,
    Monitor,
    ReportKind,
    ReportPart,
    VariableRef,
)
from csms.domain.station import int32
from csms.errors import InvalidInput
from csms.rpc.timestamps import parse_timestamp

Payload = dict[str, Any]


def _time(text: str | None) -> Any:
    return None if text is None else parse_timestamp(text)


def _int(name: str, value: int) -> int:
    """An OCPP integer the database can hold (a station may send any JSON integer, 1.0 too)."""
    checked = int32(name, value)
    assert checked is not None
    return checked


def decimal(value: float | int) -> Decimal:
    """A JSON number as the Decimal it was written as (no binary float noise)."""
    return Decimal(str(value))


def part(kind: ReportKind, p: Payload) -> ReportPart:
    """A report notification's place in its request: requestId, seqNo, tbc (default false)."""
    return ReportPart(
        kind=kind,
        request_id=_int("requestId", p["requestId"]),
        seq_no=int32("seqNo", p.get("seqNo")),
        tbc=bool(p.get("tbc", False)),
        generated_at=_time(p.get("generatedAt")),
        payload=p,
    )


def variable_ref(component: Payload, variable: Payload) -> VariableRef:
    evse = component.get("evse") or {}
    return VariableRef(
        component=component["name"],
        component_instance=component.get("instance", ""),
        evse_id=_int("evse.id", evse.get("id", -1)),
        connector_id=_int("evse.connectorId", evse.get("connectorId", -1)),
        variable=variable["name"],
        variable_instance=variable.get("instance", ""),
    )


def monitors(p: Payload) -> list[Monitor]:
    """NotifyMonitoringReport `monitor`: each variable's monitors (N02)."""
    found = []
    for item in p.get("monitor", []):
        where = variable_ref(item["component"], item["variable"])
        for m in item["variableMonitoring"]:
            found.append(
                Monitor(
                    monitor_id=_int("variableMonitoring.id", m["id"]),
                    where=where,
                    monitor_type=m["type"],
                    value=decimal(m["value"]),
                    severity=_int("severity", m["severity"]),
                    in_transaction=m["transaction"],
                )
            )
    return found


def display_messages(p: Payload) -> list[DisplayMessage]:
    """NotifyDisplayMessages `messageInfo` (O04)."""
    return [
        DisplayMessage(
            message_id=_int("messageInfo.id", m["id"]),
            priority=m["priority"],
            state=m.get("state"),
            starts_at=_time(m.get("startDateTime")),
            ends_at=_time(m.get("endDateTime")),
            transaction_id=m.get("transactionId"),
            message=m["message"],
            display=m.get("display"),
        )
        for m in p.get("messageInfo", [])
    ]


def ev_charging_needs(p: Payload) -> EvChargingNeeds:
    """NotifyEVChargingNeeds (K15): EvseId may not be 0."""
    if p["evseId"] <= 0:
        raise InvalidInput("NotifyEVChargingNeeds: evseId must be > 0")
    needs = p["chargingNeeds"]
    return EvChargingNeeds(
        evse_id=_int("evseId", p["evseId"]),
        requested_transfer=needs["requestedEnergyTransfer"],
        departs_at=_time(needs.get("departureTime")),
        max_schedule_tuples=int32("maxScheduleTuples", p.get("maxScheduleTuples")),
        needs=needs,
    )


def ev_charging_schedule(p: Payload) -> tuple[int, Any, Payload]:
    """NotifyEVChargingSchedule (K17): (evseId, timeBase, chargingSchedule); evseId > 0."""
    if p["evseId"] <= 0:
        raise InvalidInput("NotifyEVChargingSchedule: evseId must be > 0")
    return _int("evseId", p["evseId"]), parse_timestamp(p["timeBase"]), p["chargingSchedule"]
