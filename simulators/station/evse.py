"""An EVSE (1.6: a connector) and what it shows: plugged, charging, reserved, available or not.

Pure state; the status each version reports follows from it (1.6 §4.9 ChargePointStatus,
2.0.1 ConnectorStatusEnumType), so it is never set by hand and cannot drift from the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from simulators.meter import ChargerKind, EnergyMeter


class Phase(StrEnum):
    """Where a session is, as far as the connector status is concerned."""

    AUTHORIZING = "authorizing"  # cable in, waiting for a token
    CHARGING = "charging"
    SUSPENDED_EV = "suspended_ev"  # the car draws nothing (full)
    SUSPENDED_EVSE = "suspended_evse"  # the station offers nothing (limit 0)
    FINISHING = "finishing"  # transaction over, cable still in


@dataclass(slots=True)
class Reservation:
    id: int
    id_tag: str
    expires_at: datetime
    group: str | None = None
    evse: int = 0  # 0: any EVSE (1.6 connector 0, 2.0.1 no evseId)


@dataclass(slots=True, eq=False)
class Evse:
    id: int
    kind: ChargerKind
    meter: EnergyMeter
    connector_type: str
    operative: bool = True  # ChangeAvailability, kept across reboots
    pending_operative: bool | None = None  # Scheduled: applies when the transaction ends
    faulted: bool = False
    plugged: bool = False
    phase: Phase | None = None  # None: no session
    in_transaction: bool = False
    reservation: Reservation | None = None
    reported: str | None = None  # the status the CSMS last acknowledged or was sent

    @property
    def idle(self) -> bool:
        """Nothing going on: no cable, no transaction."""
        return not self.plugged and not self.in_transaction and self.phase is None

    @property
    def startable(self) -> bool:
        """A new session could begin here now (for anyone the reservation allows)."""
        return self.operative and not self.faulted and not self.in_transaction

    def status_v16(self) -> str:
        if self.faulted:
            return "Faulted"
        if self.in_transaction:
            if self.phase is Phase.SUSPENDED_EVSE:
                return "SuspendedEVSE"
            if self.phase is Phase.SUSPENDED_EV:
                return "SuspendedEV"
            return "Charging"
        if not self.operative:
            return "Unavailable"
        if self.plugged:
            return "Finishing" if self.phase is Phase.FINISHING else "Preparing"
        if self.reservation is not None:
            return "Reserved"
        return "Available"

    def status_v201(self) -> str:
        if self.faulted:
            return "Faulted"
        if self.in_transaction:
            return "Occupied"
        if not self.operative:
            return "Unavailable"
        if self.plugged:
            return "Occupied"
        if self.reservation is not None:
            return "Reserved"
        return "Available"

    def status(self, version: str) -> str:
        return self.status_v16() if version == "1.6" else self.status_v201()
