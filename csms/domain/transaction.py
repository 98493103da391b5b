"""Transactions in version-neutral terms: what starts, updates and ends a charging session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from csms.domain.meter import Sample
from csms.domain.station import ConnectorRef


class EventType(StrEnum):
    STARTED = "Started"
    UPDATED = "Updated"
    ENDED = "Ended"


@dataclass(frozen=True, slots=True)
class StartRequest:
    """1.6 StartTransaction: the CSMS assigns the id."""

    where: ConnectorRef
    id_token: str
    meter_start_wh: int
    timestamp: datetime
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class StopRequest:
    """1.6 StopTransaction: must always be accepted, even for an unknown id."""

    transaction_id: int
    meter_stop_wh: int | None
    timestamp: datetime
    reason: str | None
    id_token: str | None
    samples: list[Sample] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """2.0.1 TransactionEvent: the station names the transaction and numbers its events."""

    station_tx_id: str
    event_type: EventType
    seq_no: int
    timestamp: datetime
    trigger_reason: str
    offline: bool
    where: ConnectorRef | None
    id_token: str | None
    id_token_type: str | None
    charging_state: str | None
    stopped_reason: str | None
    remote_start_id: int | None
    reservation_id: int | None
    samples: list[Sample] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StartOutcome:
    transaction_id: int
    replayed: bool


@dataclass(frozen=True, slots=True)
class StopOutcome:
    """How a 1.6 StopTransaction was applied; `energy_wh` when both meter readings are known."""

    transaction_pk: int
    orphan: bool
    replayed: bool
    where: ConnectorRef | None
    energy_wh: int | None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """How a TransactionEvent was applied: `replayed` means an identical event was stored before;
    `closed_before` that the transaction had already ended when this event came (it is kept and
    does not reopen it); `auth_status` the start decision kept on it, if one was; `after_end`
    that the event is dated after the transaction's end."""

    transaction_pk: int
    replayed: bool
    orphan: bool
    where: ConnectorRef | None
    energy_wh: int | None = None  # when both meter readings are known
    total_cost: Decimal | None = None  # running (Updated) or final (Ended) cost, when known
    closed_before: bool = False
    auth_status: str | None = None
    # dated after its transaction's end (a transactionId reused after a reboot): kept, and
    # neither starts nor authorizes anything of the ended session
    after_end: bool = False
