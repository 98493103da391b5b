"""One charging session from plug-in to unplug, the same for both versions.

Plug in -> authorize -> start -> periodic meter values -> stop -> unplug. The dialect of the
station's version turns each step into messages; they go through the outbox, so a session keeps
running (and metering) while the CSMS is unreachable and its messages replay in order later.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from simulators import timestamps
from simulators.auth_lists import ACCEPTED
from simulators.meter import ChargingModel, Vehicle, electrical
from simulators.station.evse import Evse, Phase
from simulators.station.plug_and_charge import Contract, authorize_by_contract

if TYPE_CHECKING:
    from simulators.station.station import Station


class StopCause(StrEnum):
    """Why a transaction ends, before each version spells it."""

    LOCAL = "Local"  # the driver presented the card again / pressed stop
    EV_DISCONNECTED = "EVDisconnected"  # the car left (cable pulled)
    REMOTE = "Remote"
    HARD_RESET = "HardReset"
    SOFT_RESET = "SoftReset"
    IMMEDIATE_RESET = "ImmediateReset"
    DEAUTHORIZED = "DeAuthorized"
    UNLOCK = "UnlockCommand"
    REBOOT = "Reboot"
    OTHER = "Other"


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """What the driver will do."""

    id_tag: str
    duration_s: float  # how long the car stays if nothing else ends the session
    vehicle: Vehicle = field(default_factory=Vehicle)
    leave: StopCause = StopCause.LOCAL  # how it ends when the time is up
    token_type: str = "ISO14443"
    remote_start_id: int | None = None  # 2.0.1 RequestStartTransaction
    pre_authorized: bool = False  # a remote start the CSMS authorized already
    unplug_delay_s: float = 1.0  # Finishing -> Available
    contract: Contract | None = None  # 2.0.1 Plug & Charge: the EV authorizes by its contract


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything the meter shows at one moment."""

    at: datetime
    register_wh: int
    power_w: float
    offered_w: float
    voltage_v: float
    current_a: float
    soc_percent: float | None


@dataclass(frozen=True, slots=True)
class SessionResult:
    evse: int
    id_tag: str
    authorized: bool
    meter_start_wh: int = 0
    meter_stop_wh: int = 0
    cause: StopCause | None = None
    transaction_ref: str | None = None  # 2.0.1 transactionId or 1.6 placeholder (as text)

    @property
    def energy_wh(self) -> int:
        return self.meter_stop_wh - self.meter_start_wh


@dataclass(eq=False)
class Session:
    evse: Evse
    plan: SessionPlan
    model: ChargingModel
    local_id: int = 0  # 1.6 placeholder until the CSMS's id is known
    tx_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # 2.0.1 transactionId
    real_id: int | None = None  # 1.6 transactionId from the CSMS
    reservation_id: int | None = None
    started_at: datetime = field(default_factory=timestamps.utcnow)
    meter_start_wh: int = 0
    seq_no: int = 0  # 2.0.1: the next TransactionEvent's seqNo
    cause: StopCause | None = None
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    _last_tick: float = 0.0

    def next_seq(self) -> int:
        seq = self.seq_no
        self.seq_no += 1
        return seq

    def request_stop(self, cause: StopCause) -> None:
        """End the session at the next opportunity (the first cause wins)."""
        if self.cause is None:
            self.cause = cause
        self.stopped.set()

    @property
    def id_text(self) -> str:
        """The transaction id as the CSMS sees it (1.6: once known)."""
        if self.real_id is not None:
            return str(self.real_id)
        return self.tx_id


async def run_session(station: Station, evse: Evse, plan: SessionPlan) -> SessionResult:
    """Drive one session on `evse` to its end; the EVSE must be startable."""
    loop = asyncio.get_running_loop()
    dialect = station.dialect
    evse.plugged = True
    evse.phase = Phase.AUTHORIZING
    station.status_changed(evse)
    if plan.pre_authorized:
        status = ACCEPTED
    elif plan.contract is not None:
        status = await authorize_by_contract(station, plan.contract)
    else:
        status = await station.authorize(plan.id_tag)
    reservation = evse.reservation
    if (
        status == ACCEPTED
        and reservation is not None
        and not station.reservation_allows(reservation, plan.id_tag)
    ):
        status = "Reserved"  # the connector is held for someone else
    if status != ACCEPTED or not evse.startable:
        station.stats.sessions_refused += 1
        await asyncio.sleep(min(plan.unplug_delay_s, plan.duration_s))
        evse.plugged = False
        evse.phase = None
        station.status_changed(evse)
        return SessionResult(evse.id, plan.id_tag, authorized=False)

    session = Session(evse, plan, ChargingModel(evse.kind, plan.vehicle))
    session.local_id = station.outbox.queue.new_placeholder()
    if reservation is not None:
        session.reservation_id = reservation.id
        station.consume_reservation(reservation)
    session.meter_start_wh = evse.meter.reading_wh
    session._last_tick = loop.time()
    evse.in_transaction = True
    evse.phase = Phase.CHARGING
    station.sessions[evse.id] = session
    station.stats.sessions_active += 1
    try:
        first = reading(station, session)
        session.started_at = first.at
        dialect.transaction_started(session, first)
        station.status_changed(evse)
        deadline = loop.time() + plan.duration_s
        next_sample, sampling = _next_sample(station)
        while True:
            wait = max(0.0, min(next_sample, deadline) - loop.time())
            try:
                async with asyncio.timeout(wait):
                    await session.stopped.wait()
            except TimeoutError:
                pass
            now_reading = tick(station, session)
            if session.stopped.is_set():
                break
            if loop.time() >= deadline - 1e-3:
                session.request_stop(plan.leave)
                break
            if loop.time() >= next_sample - 1e-3:
                if sampling:
                    dialect.transaction_updated(session, now_reading, "MeterValuePeriodic")
                next_sample, sampling = _next_sample(station)
        cause = session.cause or StopCause.LOCAL
        if cause is StopCause.EV_DISCONNECTED:
            evse.plugged = False  # the car left first; the stop follows
        final = reading(station, session)
        dialect.transaction_ended(session, final, cause)
    finally:
        station.stats.sessions_active -= 1
        evse.in_transaction = False
        station.sessions.pop(evse.id, None)
        station.profiles.end_transaction(evse.id)
    evse.phase = Phase.FINISHING if evse.plugged else None
    station.transaction_finished(evse)
    station.status_changed(evse)
    if evse.plugged:
        await asyncio.sleep(plan.unplug_delay_s)
        evse.plugged = False
        evse.phase = None
        station.status_changed(evse)
    return SessionResult(
        evse.id,
        plan.id_tag,
        authorized=True,
        meter_start_wh=session.meter_start_wh,
        meter_stop_wh=final.register_wh,
        cause=cause,
        transaction_ref=session.tx_id if station.config.version != "1.6" else None,
    )


def _next_sample(station: Station) -> tuple[float, bool]:
    """When the next periodic sample is due; an interval of 0 turns sampling off (re-read
    every minute, so a changed interval takes effect)."""
    interval = station.dialect.meter_interval()
    now = asyncio.get_running_loop().time()
    return now + (interval if interval > 0 else 60.0), interval > 0


def tick(station: Station, session: Session) -> Reading:
    """Advance the session's physics to now under the current limit; report the state change."""
    loop = asyncio.get_running_loop()
    now = loop.time()
    limit = station.limit_w(session)
    delivered = session.model.advance(max(0.0, now - session._last_tick), limit)
    session._last_tick = now
    session.evse.meter.add(delivered)
    evse = session.evse
    before = evse.phase
    if limit <= 0:
        evse.phase = Phase.SUSPENDED_EVSE
    elif session.model.full:
        evse.phase = Phase.SUSPENDED_EV
    else:
        evse.phase = Phase.CHARGING
    current = reading(station, session)
    if evse.phase is not before and not session.stopped.is_set():
        station.dialect.charging_state_changed(session, current)
        station.status_changed(evse)
    return current


def reading(station: Station, session: Session) -> Reading:
    evse = session.evse
    model = session.model
    values = electrical(evse.kind, model.power_w, model.soc)
    return Reading(
        at=timestamps.utcnow(),
        register_wh=evse.meter.reading_wh,
        power_w=round(model.power_w, 1),
        offered_w=round(station.limit_w(session), 1),
        voltage_v=round(values.voltage_v, 1),
        current_a=round(values.current_a, 2),
        soc_percent=values.soc_percent,
    )


def idle_reading(evse: Evse) -> Reading:
    """What the meter of an EVSE without a session shows."""
    kind = evse.kind
    return Reading(
        at=timestamps.utcnow(),
        register_wh=evse.meter.reading_wh,
        power_w=0.0,
        offered_w=float(kind.rated_w),
        voltage_v=0.0 if kind.is_dc else kind.nominal_voltage,
        current_a=0.0,
        soc_percent=None,
    )


def describe(result: SessionResult) -> dict[str, Any]:
    return {
        "evse": result.evse,
        "idTag": result.id_tag,
        "authorized": result.authorized,
        "meterStart": result.meter_start_wh,
        "meterStop": result.meter_stop_wh,
        "energyWh": result.energy_wh,
        "cause": None if result.cause is None else result.cause.value,
    }
