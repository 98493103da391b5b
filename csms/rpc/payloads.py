"""Helpers for building OCPP payloads, and the commands both versions spell identically."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from csms.clock import isoformat

Params = dict[str, Any]
Builder = Callable[[Params], tuple[str, Params]]


def drop_none(payload: Params) -> Params:
    """OCPP optional fields are omitted, never sent as null."""
    return {k: v for k, v in payload.items() if v is not None}


def ocpp_time(value: datetime | None) -> str | None:
    return None if value is None else isoformat(value)


def schedule_periods(periods: list[Params]) -> list[Params]:
    """chargingSchedulePeriod entries: the same shape in 1.6 and 2.0.1."""
    return [
        drop_none(
            {"startPeriod": p["start_s"], "limit": p["limit"], "numberPhases": p.get("phases")}
        )
        for p in periods
    ]


def _cancel_reservation(p: Params) -> tuple[str, Params]:
    return "CancelReservation", {"reservationId": p["reservation_id"]}


def _data_transfer(p: Params) -> tuple[str, Params]:
    return "DataTransfer", drop_none(
        {"vendorId": p["vendor_id"], "messageId": p.get("message_id"), "data": p.get("data")}
    )


def _clear_cache(_p: Params) -> tuple[str, Params]:
    return "ClearCache", {}


SHARED_BUILDERS: dict[str, Builder] = {
    "clear-cache": _clear_cache,
    "cancel-reservation": _cancel_reservation,
    "data-transfer": _data_transfer,
}
