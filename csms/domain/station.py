"""Stations, their administrative state, connectors and boot decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from csms.errors import InvalidInput

# 2.0.1 Part 4 §3.1.1: the identity is at most 48 characters and may not contain ':'
# (it is also the HTTP Basic user name, where ':' separates the password).
MAX_STATION_ID_LENGTH = 48
MAX_INT32 = 2**31 - 1  # OCPP integers are 32-bit unless the spec says otherwise
MAX_INT64 = 2**63 - 1


def int32(name: str, value: int | float | None) -> int | None:
    """`value` if it fits an OCPP (and PostgreSQL) integer, else InvalidInput naming the field."""
    return _integer(name, value, MAX_INT32, "32")


def int64(name: str, value: int | float | None) -> int | None:
    return _integer(name, value, MAX_INT64, "64")


def _integer(name: str, value: int | float | None, largest: int, bits: str) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        # JSON Schema takes 2.0 for an integer, and a parser reads one beyond 64 bits as a float
        if not isinstance(value, float) or not value.is_integer():
            raise InvalidInput(f"{name} {value!r} is not an integer")
        value = int(value)
    if not -largest - 1 <= value <= largest:
        raise InvalidInput(f"{name} {value} is out of the {bits}-bit integer range")
    return value


class AdminState(StrEnum):
    """What the operator decided about a station; drives the BootNotification answer."""

    ACTIVE = "active"
    PENDING = "pending"
    BLOCKED = "blocked"


class RegistrationStatus(StrEnum):
    """BootNotification status, spelled the same in 1.6 and 2.0.1."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


def boot_status(state: AdminState) -> RegistrationStatus:
    """Active stations are Accepted; pending ones wait; blocked ones are Rejected."""
    return {
        AdminState.ACTIVE: RegistrationStatus.ACCEPTED,
        AdminState.PENDING: RegistrationStatus.PENDING,
        AdminState.BLOCKED: RegistrationStatus.REJECTED,
    }[state]


def station_id_problem(station_id: str) -> str | None:
    """Why `station_id` cannot name a station, or None when it can."""
    if not station_id:
        return "the station id (last path segment) is empty"
    if len(station_id) > MAX_STATION_ID_LENGTH:
        return f"the station id is longer than {MAX_STATION_ID_LENGTH} characters"
    if ":" in station_id:
        return "the station id may not contain ':'"
    if "/" in station_id:
        return "the station id may not contain '/' (it is the last segment of a URL path)"
    # a space is allowed: 1.6J and 2.0.1 Part 4 §3.1.1 name the station `RDAM 123` in their
    # own example (`.../RDAM%20123`); other whitespace and control characters are not
    if not station_id.isprintable() or any(c.isspace() and c != " " for c in station_id):
        return "the station id may not contain control characters or whitespace but spaces"
    if station_id.strip(" ") != station_id:
        return "the station id may not begin or end with a space"
    return None


@dataclass(frozen=True, slots=True)
class ConnectorRef:
    """Where on a station: 2.0.1 EVSE and connector; 1.6 connector N is EVSE N, connector 1.

    EVSE 0 / connector 0 is the station as a whole (1.6 connectorId 0, 2.0.1 evseId 0).
    """

    evse_id: int
    connector_id: int

    def __post_init__(self) -> None:
        if type(self.evse_id) is not int or type(self.connector_id) is not int:
            # JSON Schema takes 1.0 for an integer: stored as the integer it is
            object.__setattr__(self, "evse_id", int32("evse id", self.evse_id))
            object.__setattr__(self, "connector_id", int32("connector id", self.connector_id))
        if self.evse_id < 0 or self.connector_id < 0:
            raise InvalidInput(
                f"EVSE and connector ids are not negative (got {self.evse_id}/{self.connector_id})"
            )
        int32("evse/connector id", max(self.evse_id, self.connector_id))

    @classmethod
    def from_v16(cls, connector_id: int) -> ConnectorRef:
        return cls(connector_id, 0 if connector_id == 0 else 1)


# The station as a whole, where a sample names no EVSE (1.6 connectorId 0, 2.0.1 evseId 0).
WHOLE_STATION = ConnectorRef(0, 0)


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a station says about itself when it boots."""

    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """One StatusNotification, in either version's vocabulary (kept as the station said it)."""

    where: ConnectorRef
    status: str
    timestamp: datetime
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class StationAuth:
    """What the handshake needs to know about a station."""

    station_id: str
    admin_state: AdminState
    password_hash: str | None
    security_profile: int | None
    decommissioned: bool = False  # refused at the handshake until re-commissioned
    # A rotated password valid next to `password_hash` until the station connects with it
    # (csms.services.passwords); its state is a csms.domain.password.PendingState value.
    pending_password_hash: str | None = None
    pending_password_state: str | None = None
    pending_password_since: datetime | None = None

    @property
    def refusal(self) -> str | None:
        """Why the station may not connect whatever its credentials, or None."""
        if self.decommissioned:
            return f"station {self.station_id} is decommissioned"
        return None
