"""Command logic both versions share: reservation checks, composite schedules, DataTransfer."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from simulators.station.evse import Evse, Reservation

if TYPE_CHECKING:
    from simulators.station.station import Station

VENDOR_ID = "org.csms.sim"  # DataTransfer vendor this firmware understands


def data_transfer(p: dict[str, Any]) -> dict[str, Any]:
    """1.6 §5.6 / 2.0.1 P01: this firmware knows one vendor extension, `Echo`."""
    if p["vendorId"] != VENDOR_ID:
        return {"status": "UnknownVendorId"}
    if p.get("messageId") != "Echo":
        return {"status": "UnknownMessageId"}
    answer: dict[str, Any] = {"status": "Accepted"}
    if "data" in p:
        answer["data"] = p["data"]
    return answer


def reservation_problem(evse: Evse, existing: Reservation | None) -> str | None:
    """Why a connector cannot take a reservation (§5.13 statuses), or None."""
    if evse.faulted:
        return "Faulted"
    if not evse.operative:
        return "Unavailable"
    if not evse.idle or (evse.reservation is not None and evse.reservation is not existing):
        return "Occupied"
    return None


def composite(
    station: Station, evse_id: int, start: datetime, duration: int, unit: str
) -> list[dict[str, Any]]:
    """The composite schedule of an EVSE (0: the station) as chargingSchedulePeriod entries."""
    kind = station.config.kind
    session = station.sessions.get(evse_id)
    rated = kind.rated_w * (len(station.evses) if evse_id == 0 else 1)
    periods = station.profiles.composite(
        evse_id,
        start,
        duration,
        tx_id=None if session is None else session.id_text,
        tx_start=None if session is None else session.started_at,
        to_watts=lambda limit, u, phases: limit if u == "W" else kind.amps_to_watts(limit, phases),
        rated_w=rated,
    )
    out = []
    for offset, watts in periods:
        limit = watts if unit == "W" else kind.watts_to_amps(watts)
        out.append({"startPeriod": offset, "limit": round(limit, 1)})
    return out
