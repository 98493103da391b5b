"""An outbox record's facts -> the method and T/CEC Data one platform expects (pure).

The outbox keeps our own JSON; each platform's operator id, spelling and method names are
applied only here, when the record is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from csms.tcec.facts import site_from_data
from csms.tcec.live import charge_status
from csms.tcec.messages import (
    Spelling,
    charge_order,
    connector_code,
    connector_status_info,
    dumps,
    loads,
    station_info,
    station_stats,
)

DEFAULT_METHODS: Mapping[str, str] = {
    "station_info": "notification_stationInfo",
    "connector_status": "notification_stationStatus",
    "charge_order": "notification_charge_order_info",
    "station_stats": "notification_operation_stats_info",
    "charge_status": "notification_equip_charge_status",
}


@dataclass(frozen=True, slots=True)
class Target:
    """What differs between platforms in what they are sent."""

    operator_id: str
    spelling: Spelling = Spelling.STANDARD
    service_tel: str | None = None
    methods: Mapping[str, str] = field(default_factory=dict)

    def method(self, kind: str) -> str:
        return self.methods.get(kind) or DEFAULT_METHODS[kind]


def render(kind: str, data_text: str, target: Target) -> tuple[str, str]:
    """(method, Data JSON text); PushDataError when the facts cannot make a valid message."""
    data: dict[str, Any] = loads(data_text)
    payload: dict[str, Any]
    if kind == "connector_status":
        code = connector_code(data["station_id"], data["evse_id"], data["connector_id"])
        payload = {"ConnectorStatusInfo": connector_status_info(code, int(data["code"]))}
    elif kind == "charge_order":
        cdr = dict(data["cdr"])
        cdr["started_at"] = datetime.fromisoformat(cdr["started_at"])
        cdr["stopped_at"] = datetime.fromisoformat(cdr["stopped_at"])
        payload = charge_order(
            cdr,
            operator_id=target.operator_id,
            connector_id=connector_code(
                cdr["station_id"], cdr["evse_id"] or 1, cdr["connector_id"] or 1
            ),
            stop_reason=data.get("stop_reason"),
            spelling=target.spelling,
        )
    elif kind == "station_info":
        payload = {
            "StationInfo": station_info(
                site_from_data(data),
                operator_id=target.operator_id,
                service_tel=target.service_tel,
            )
        }
    elif kind == "charge_status":
        payload = charge_status(data, operator_id=target.operator_id, spelling=target.spelling)
    elif kind == "station_stats":
        payload = station_stats(
            data["station_code"],
            date.fromisoformat(data["start"]),
            date.fromisoformat(data["end"]),
            [(pile, [(c, int(wh)) for c, wh in conns]) for pile, conns in data["piles"]],
        )
    else:
        raise ValueError(f"unknown outbox kind {kind!r}")
    return target.method(kind), dumps(payload)


def clean(text: str) -> str:
    """A platform's Msg as PostgreSQL text can hold it (no NUL, no lone surrogate)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:1000]


def storable(value: Any) -> Any:
    """JSON that jsonb and our API hold exactly: decimals and odd numbers as text, strings
    without NUL (a platform's answer, or an outbox record's facts)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, float | Decimal):
        return str(value)
    if isinstance(value, dict):
        return {clean(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value
