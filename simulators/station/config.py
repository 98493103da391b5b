"""What a simulated station is: identity, hardware, network and timing settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from simulators.backoff import BackoffPolicy
from simulators.meter import KINDS, ChargerKind
from simulators.ocppj import VERSIONS

# 2.0.1 Part 4 §3.1.1: the identity is at most 48 characters, without ':' (it is the Basic user).
MAX_ID_LENGTH = 48


def station_id_problem(station_id: str) -> str | None:
    """Why the CSMS would refuse `station_id` (HTTP 400), or None when it may connect.

    The same rules as the CSMS's gateway (csms.domain.station.station_id_problem; this package
    never imports csms, a test keeps the two in step): the id is the last URL path segment and
    the HTTP Basic user name.
    """
    if not station_id:
        return "the station id is empty"
    if len(station_id) > MAX_ID_LENGTH:
        return f"the station id is longer than {MAX_ID_LENGTH} characters"
    if ":" in station_id:
        return "the station id may not contain ':' (it is the HTTP Basic user name)"
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
class TlsSettings:
    """wss:// settings: the CA that signed the CSMS certificate, and a client certificate
    for security profile 3."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


@dataclass(frozen=True, slots=True)
class StationConfig:
    station_id: str
    url: str  # the CSMS endpoint; the station id is appended as the last path segment
    version: str = "1.6"
    evses: int = 1  # 1.6: connectors 1..n; 2.0.1: EVSEs 1..n with one connector each
    kind: ChargerKind = KINDS["ac7"]
    vendor: str = "CSMS-Sim"
    model: str = "SIM-AC7"
    serial_number: str | None = None
    firmware_version: str = "1.0.0"
    password: str | None = None  # HTTP Basic (security profile 1/2), user = station id
    cpo_name: str = "CSMS-Sim CPO"  # organizationName of its CSRs (1.6 CpoName, A02/A03)
    tls: TlsSettings | None = None
    meter_interval: int = 60  # seconds between periodic meter values during a transaction
    heartbeat_interval: int = 300  # until BootNotification says otherwise
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    connect_timeout: float = 30.0
    call_timeout: float = 30.0  # how long a CALL waits for its answer
    reboot_seconds: float = 3.0  # how long a reset (or firmware install) keeps it offline
    step_seconds: float = 2.0  # duration of each firmware / log upload step
    queue_capacity: int = 10_000  # offline queue: meter values beyond this are shed
    compression: bool = False  # offer permessage-deflate (RFC 7692)
    ping_interval: int = 0  # WebSocket pings from the station (0: only answer the CSMS's)
    offline_unknown_allowed: bool = True  # charge offline for tokens no list knows
    register_wh: int | None = None  # energy register at power-up; None: derived (monotonic)

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise ValueError(f"OCPP version must be one of {', '.join(VERSIONS)}")
        problem = station_id_problem(self.station_id)
        if problem is not None:
            raise ValueError(f"{problem}: {self.station_id!r}")
        if not 1 <= self.evses <= 99:
            raise ValueError("a station has 1..99 EVSEs")
        if self.meter_interval < 1:
            raise ValueError("the meter interval is at least 1 second")
        if self.version == "1.6" and (len(self.vendor) > 20 or len(self.model) > 20):
            raise ValueError("1.6 vendor and model are at most 20 characters (CiString20)")
        if not self.url.startswith(("ws://", "wss://")):
            raise ValueError("the CSMS URL starts with ws:// or wss://")
