"""Reports a station sends in parts for a CSMS request, and what it reports in them.

A 2.0.1 request with a `requestId` (GetBaseReport, GetReport, GetMonitoringReport,
CustomerInformation, GetDisplayMessages, GetChargingProfiles) is answered by the station with
a status, then by one or more notifications carrying the same `requestId`; each but the last
says `tbc` (to be continued). The request is complete once the part with `tbc = false` is in.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class ReportKind(StrEnum):
    DEVICE_MODEL = "device_model"  # GetBaseReport / GetReport -> NotifyReport (B07, B08)
    MONITORING = "monitoring"  # GetMonitoringReport -> NotifyMonitoringReport (N02)
    CUSTOMER_INFORMATION = "customer_information"  # CustomerInformation -> Notify... (N09)
    DISPLAY_MESSAGES = "display_messages"  # GetDisplayMessages -> NotifyDisplayMessages (O04)
    CHARGING_PROFILES = "charging_profiles"  # GetChargingProfiles -> ReportChargingProfiles (K09)


# The command that asks for each kind of report, and the station's answers meaning "parts follow".
REQUESTING_COMMANDS = {
    "get-base-report": ReportKind.DEVICE_MODEL,
    "get-report": ReportKind.DEVICE_MODEL,
    "get-monitoring-report": ReportKind.MONITORING,
    "customer-information": ReportKind.CUSTOMER_INFORMATION,
    "get-display-messages": ReportKind.DISPLAY_MESSAGES,
    "get-charging-profiles": ReportKind.CHARGING_PROFILES,
}
PARTS_FOLLOW = frozenset({"Accepted"})


@dataclass(frozen=True, slots=True)
class ReportPart:
    """One notification of a multi-part report, as the station sent it."""

    kind: ReportKind
    request_id: int
    seq_no: int | None  # NotifyDisplayMessages and ReportChargingProfiles carry none
    tbc: bool
    generated_at: datetime | None
    payload: dict[str, Any]

    @property
    def digest(self) -> str:
        """Identifies the part's content: a replay is identical, a repeated seqNo may not be."""
        text = json.dumps(self.payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class VariableRef:
    """A component's variable as the 2.0.1 device model names it (-1: no EVSE/connector)."""

    component: str
    component_instance: str
    evse_id: int
    connector_id: int
    variable: str
    variable_instance: str


@dataclass(frozen=True, slots=True)
class Monitor:
    """One variable monitor (N02 MonitoringDataType / VariableMonitoringType)."""

    monitor_id: int
    where: VariableRef
    monitor_type: str
    value: Decimal
    severity: int
    in_transaction: bool


@dataclass(frozen=True, slots=True)
class DisplayMessage:
    """One message on the station's display (O04 MessageInfoType)."""

    message_id: int
    priority: str
    state: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    transaction_id: str | None
    message: dict[str, Any]
    display: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class EvChargingNeeds:
    """What an ISO 15118 EV asked for at the start of a session (K15)."""

    evse_id: int
    requested_transfer: str
    departs_at: datetime | None
    max_schedule_tuples: int | None
    needs: dict[str, Any]


MAX_LISTED_GAPS = 100  # missing seqNos listed; the count says how many there are in all


def seq_gaps(seq_nos: list[int], final: int | None) -> tuple[list[int], int]:
    """The seqNos missing from 0 to the last one known (the final part's, else the highest):
    the first MAX_LISTED_GAPS of them, and how many there are.

    2.0.1 numbers parts from 0; a station that skips or repeats numbers still has its parts
    kept, and the gaps say what an operator should not expect to find. A part numbered
    2,147,483,647 is schema-valid: the work and the answer stay bounded by the parts received.
    """
    present = sorted({n for n in seq_nos if n >= 0})
    top = final if final is not None else (present[-1] if present else -1)
    inside = [n for n in present if n <= top]
    listed: list[int] = []
    expected = 0
    for n in [*inside, top + 1]:
        listed.extend(range(expected, min(n, expected + MAX_LISTED_GAPS - len(listed))))
        expected = n + 1
    return listed, max(0, top + 1 - len(inside))


def report_state(answer: str | None, completed: bool) -> str:
    """One word for where a report request stands.

    requested: sent, no answer kept yet; refused: the station said no parts follow
    (EmptyResultSet, Rejected, NotSupported, Unknown, NoProfiles, ...); receiving: parts are
    arriving; complete: the part with tbc = false is in.
    """
    if completed:
        return "complete"
    if answer is None:
        return "requested"
    if answer not in PARTS_FOLLOW:
        return "refused"
    return "receiving"


# Where each kind of report lists its content in a part.
_CONTENT = {
    ReportKind.DEVICE_MODEL: "reportData",
    ReportKind.MONITORING: "monitor",
    ReportKind.DISPLAY_MESSAGES: "messageInfo",
}


def assemble(kind: ReportKind, payloads: list[dict[str, Any]]) -> list[Any] | str:
    """The parts' content as one report, in the order given (seqNo order).

    Customer information is text the station split across parts (N09): joined. Charging
    profiles come per EVSE and limit source (K09): one entry per part.
    """
    if kind is ReportKind.CUSTOMER_INFORMATION:
        return "".join(str(p.get("data", "")) for p in payloads)
    if kind is ReportKind.CHARGING_PROFILES:
        return [
            {
                "evseId": p["evseId"],
                "chargingLimitSource": p["chargingLimitSource"],
                "chargingProfile": p["chargingProfile"],
            }
            for p in payloads
        ]
    field = _CONTENT[kind]
    return [item for p in payloads for item in p.get(field, [])]


@dataclass(frozen=True, slots=True)
class AnswerFacts:
    """What a station's answer to a command tells the CSMS about its reports and state."""

    report: tuple[ReportKind, int, str] | None = None  # kind, requestId, the answer's status
    monitors_set: tuple[Monitor, ...] = ()
    monitors_cleared: tuple[int, ...] = ()
    messages_shown: tuple[DisplayMessage, ...] = ()
    message_cleared: int | None = None

    def __bool__(self) -> bool:
        return bool(
            self.report
            or self.monitors_set
            or self.monitors_cleared
            or self.messages_shown
            or self.message_cleared is not None
        )
