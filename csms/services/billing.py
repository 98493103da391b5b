"""Billing a session: metering verdict, tariff in force at the start, bill, CDR or review.

The pure engines decide (csms.metering.rules, csms.billing.pricing); this service gathers
their inputs from the store and files the result. A session that cannot be billed
automatically is queued for review with its cause; it is never billed at zero. A start the
CSMS refused is never billed: it gets no CDR, and a review only if it delivered energy anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from csms import metrics
from csms.billing.cdr import Kind, SessionFacts, bill_record, credit_record, verify_chain
from csms.billing.occupancy import charging_ended_at
from csms.billing.pricing import Allocation, Bill, price, quote
from csms.billing.tariff import DayTypeOf, Tariff, weekday_type
from csms.clock import monotonic, utcnow
from csms.errors import Conflict, CsmsError, InvalidInput, NotFound
from csms.metering.rules import (
    IntervalSample,
    MessageTime,
    MeterCertificate,
    MeterCheck,
    MeteringPolicy,
    MeterSession,
    Reading,
    RegisterConflict,
    RegisterSample,
    Verdict,
    check,
)
from csms.services.events import EventBus
from csms.store.cdrs import CdrStore
from csms.store.metering import MeteringStore, SessionData
from csms.store.tariffs import TariffStore

log = logging.getLogger(__name__)

REGISTER = "Energy.Active.Import.Register"
INTERVAL = "Energy.Active.Import.Interval"
SYSTEM = "system"  # created_by of records the CSMS files on its own
REFUSED = "refused"  # the review cause of a refused start that delivered energy


@dataclass(frozen=True, slots=True)
class Priced:
    """A session run through metering and pricing (not yet filed)."""

    data: SessionData
    meter: MeterCheck
    tariff: Tariff
    bill: Bill
    idle_from: datetime | None


@dataclass(frozen=True, slots=True)
class Closing:
    """What ending a transaction produced: a CDR, or the reason it awaits review."""

    cdr: dict[str, Any] | None
    review: str | None

    @property
    def total(self) -> Decimal | None:
        return None if self.cdr is None else Decimal(self.cdr["total"])


class NotBillable(CsmsError):
    """A session not billed automatically: `cause` is metering, no_tariff, refused or error.
    It carries the station and the metering check when they were known, so filing the review
    reads and checks nothing again."""

    def __init__(
        self,
        cause: str,
        detail: str,
        station_id: str | None = None,
        meter: MeterCheck | None = None,
    ) -> None:
        super().__init__(detail)
        self.cause = cause
        self.detail = detail
        self.station_id = station_id
        self.meter = meter


def meter_session(data: SessionData, now: datetime) -> MeterSession:
    """The metering engine's view of a stored session."""
    tx, station = data.transaction, data.station
    v16 = tx["ocpp_version"] == "1.6"
    power = station.get("rated_power_kw")
    expires = station.get("meter_cert_expires_on")
    return MeterSession(
        started_at=tx["started_at"],
        stopped_at=tx["stopped_at"],
        # 2.0.1 carries no transaction-level values: its samples are the whole story.
        meter_start_wh=tx["meter_start_wh"] if v16 else None,
        meter_stop_wh=tx["meter_stop_wh"] if v16 else None,
        registers=[
            RegisterSample(s["sampled_at"], s["received_at"], s["wh"], s["offline"])
            for s in data.samples
            if s["measurand"] == REGISTER
        ],
        intervals=[
            IntervalSample(s["sampled_at"], s["wh"])
            for s in data.samples
            if s["measurand"] == INTERVAL and s["sampled_at"] >= tx["started_at"]
        ],
        messages=[
            MessageTime(m["station_at"], m["received_at"], bool(m.get("offline")))
            for m in data.messages
        ],
        rated_power_w=None if power is None else int(Decimal(power) * 1000),
        certificate=None
        if expires is None
        else MeterCertificate(station.get("meter_cert_number") or "?", expires),
        conflicts=[
            RegisterConflict(c["sampled_at"], c["stored_wh"], c["other_wh"]) for c in data.conflicts
        ],
    )


def delivered(meter: MeterCheck | None) -> bool:
    """Whether the metering check found energy delivered (> 0 Wh)."""
    return meter is not None and meter.energy_wh is not None and meter.energy_wh > 0


def reasons_of(meter: MeterCheck) -> list[dict[str, str]]:
    return [
        {"code": r.code, "severity": r.severity.value, "message": r.message} for r in meter.reasons
    ]


async def verify_chains(cdrs: CdrStore) -> list[dict[str, Any]]:
    """Check every operator's CDR chain; one entry per operator with its problems."""
    out = []
    for head in await cdrs.heads():
        problems: list[str] = []
        last: dict[str, Any] | None = None
        records = 0
        while True:
            page = await cdrs.chain_page(head["operator_id"], last["seq"] if last else 0, 2000)
            if not page:
                break
            problems += [
                f"seq {b.seq} (CDR {b.cdr_id}): {b.problem}" for b in verify_chain(page, last)
            ]
            records += len(page)
            last = page[-1]
        last_seq = last["seq"] if last else 0
        if last_seq != head["seq"] or (last is not None and last["hash"] != head["hash"]):
            problems.append(
                f"the chain ends at seq {last_seq} but its head says {head['seq']}: "
                "records were removed or replaced at the end"
            )
        out.append(
            {
                "operator_id": head["operator_id"],
                "records": records,
                "head_hash": head["hash"],
                "ok": not problems,
                "problems": problems,
            }
        )
    return out


def _price_basis(priced: Priced) -> str:
    """Why this session paid this tariff: its price class, the access reason, the tariff."""
    tx = priced.data.transaction
    who = tx.get("price_class") or "public"
    why = tx.get("access_reason") or "no sharing rule applied"
    return f"{who} price ({why}); tariff {priced.tariff.tariff_id} v{priced.tariff.version}"


class BillingService:
    def __init__(
        self,
        metering: MeteringStore,
        tariffs: TariffStore,
        cdrs: CdrStore,
        bus: EventBus,
        *,
        operator_id: str,
        power_tolerance: Decimal,
        cost_interval: float,
        time_zone: str = "Asia/Shanghai",
        day_type_of: DayTypeOf = weekday_type,
    ) -> None:
        self._day_type_of = day_type_of  # the holiday calendar's, so tariffs know 调休 days
        self._metering = metering
        self._tariffs = tariffs
        self._cdrs = cdrs
        self._bus = bus
        self._operator_id = operator_id
        self._policy = MeteringPolicy(power_tolerance=power_tolerance, time_zone=time_zone)
        self._cost_interval = cost_interval
        self._running: dict[int, tuple[float, Decimal | None]] = {}

    # -- pricing ---------------------------------------------------------------------------

    async def _price(
        self,
        transaction_id: int,
        *,
        now: datetime,
        tariff: Tariff | None = None,
        approved: bool = False,
        data: SessionData | None = None,
    ) -> Priced:
        """Meter check, tariff, bill. `approved`: an operator vouches for rejected meter data
        or a refused start (still refused when there is no usable, non-decreasing series).
        `data`: the session as already read by the caller."""
        if data is None:
            data = await self._metering.session(transaction_id)
        tx = data.transaction
        station_id = tx["station_id"]
        if tx["started_at"] is None or tx["orphan"]:
            raise NotBillable(
                "metering", "the transaction's start was never reported (orphan)", station_id
            )
        meter = check(meter_session(data, now), self._policy)
        if tx.get("refused") and not approved:
            raise NotBillable(
                REFUSED,
                f"the start was refused ({tx.get('auth_status')}) yet {meter.energy_wh} Wh "
                "was delivered (charged offline?): approve to bill it, or void it",
                station_id,
                meter,
            )
        usable = bool(meter.readings) and meter.energy_wh is not None and meter.energy_wh >= 0
        if not usable or (meter.verdict is Verdict.REJECTED and not approved):
            raise NotBillable(
                "metering",
                "; ".join(r.message for r in meter.reasons if r.severity == "reject"),
                station_id,
                meter,
            )
        series: tuple[Reading, ...] = meter.readings
        if any(b.wh < a.wh for a, b in pairwise(series)):
            # Approved despite a decreasing register: the operator vouches for the total only,
            # which is then spread over the charging time like a start/stop-only session.
            series = (series[0], series[-1])
        if tariff is None:
            tariff = await self._tariffs.resolve(
                tx["station_id"], tx["started_at"], tx.get("price_class")
            )
        if tariff is None:
            raise NotBillable(
                "no_tariff",
                f"no tariff is in force for station {station_id} at "
                f"{tx['started_at'].isoformat()} (assign one to the station, its site, its "
                "owner unit or the network)",
                station_id,
                meter,
            )
        end = tx["stopped_at"] or now
        states = [(s["at"], s["state"]) for s in data.states if s["state"]]
        idle_from = charging_ended_at(states, series, end)
        if idle_from is not None and idle_from <= series[0].at:
            idle_from = None
        readings = series
        allocation = Allocation.METERED
        if len(readings) == 2:
            # Only start and stop: spread the energy over the time the vehicle was charging.
            charged_until = idle_from or readings[-1].at
            readings = (readings[0], Reading(max(charged_until, readings[0].at), readings[-1].wh))
            allocation = Allocation.ESTIMATED
        bill = price(
            tariff,
            readings,
            allocation=allocation,
            idle_from=idle_from,
            occupied_until=end,
            day_type_of=self._day_type_of,
        )
        return Priced(data, meter, tariff, bill, idle_from)

    def quote(
        self,
        tariff: Tariff,
        start: datetime,
        end: datetime,
        energy_wh: int,
        occupied_until: datetime | None = None,
    ) -> Bill:
        """What a session would cost under `tariff`, with the holiday calendar bills use."""
        return quote(
            tariff,
            start,
            end,
            energy_wh,
            occupied_until=occupied_until,
            day_type_of=self._day_type_of,
        )

    def _facts(self, data: SessionData) -> SessionFacts:
        tx, station = data.transaction, data.station
        return SessionFacts(
            operator_id=station.get("operator_id") or self._operator_id,
            transaction_id=tx["id"],
            station_id=tx["station_id"],
            evse_id=tx["evse_id"],
            connector_id=tx["connector_id"],
            id_token=tx["id_token"],
            site_name=station.get("site_name"),
            owner_unit=station.get("owner_unit"),
            county=station.get("county"),
            started_at=tx["started_at"],
            stopped_at=tx["stopped_at"],
        )

    def _record(
        self,
        priced: Priced,
        *,
        by: str,
        kind: Kind = Kind.BILL,
        corrects: int | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        return bill_record(
            self._facts(priced.data),
            priced.bill,
            verdict=priced.meter.verdict.value,
            reasons=reasons_of(priced.meter),
            idle_from=priced.idle_from,
            signed_data=priced.data.signed,
            created_by=by,
            created_at=utcnow(),
            kind=kind,
            corrects=corrects,
            note=note,
            price_class=priced.data.transaction.get("price_class"),
            price_basis=_price_basis(priced),
        )

    # -- the end of a transaction ----------------------------------------------------------

    async def close(self, transaction_id: int) -> Closing:
        """Check, price and file an ended transaction once; replays get the same CDR.

        A refused start files nothing but its metering check, unless it delivered energy: then
        a person decides (review cause `refused`)."""
        self._running.pop(transaction_id, None)
        now = utcnow()
        try:
            priced = await self._price(transaction_id, now=now)
        except NotBillable as exc:
            if exc.meter is not None:  # keep the verdict of an unbillable session too
                await self._save_check(transaction_id, exc.meter, now)
            if exc.cause == REFUSED and not delivered(exc.meter):
                return Closing(None, None)
            return await self._queue(transaction_id, exc.cause, exc.detail, now, exc.station_id)
        except Exception as exc:  # a bug must not lose the session: a person will look
            log.exception("billing transaction %s failed", transaction_id)
            return await self._queue(transaction_id, "error", f"{type(exc).__name__}: {exc}", now)
        try:
            await self._save_check(transaction_id, priced.meter, now)
            cdr, created = await self._cdrs.append(self._record(priced, by=SYSTEM))
            await self._metering.set_cost(transaction_id, cdr["total"], now)
        except Exception as exc:  # e.g. the database refused: queue it, a person will look
            log.exception("filing the CDR of transaction %s failed", transaction_id)
            return await self._queue(transaction_id, "error", f"{type(exc).__name__}: {exc}", now)
        if created:
            self._filed(cdr)
        return Closing(cdr, None)

    async def reconsider(self, transaction_id: int) -> Closing:
        """An ended session that late data changed (its Started arrived after its Ended): bill
        it now if nothing did yet, and close the review it waited in; a filed bill stands."""
        if await self._cdrs.for_transaction(transaction_id):
            return Closing(None, None)
        try:
            review = await self._cdrs.review(transaction_id)
        except NotFound:
            review = None
        if review is not None and review["status"] != "pending":
            return Closing(None, None)  # an operator decided already (voided it)
        closing = await self.close(transaction_id)
        if closing.cdr is not None and review is not None:
            await self._cdrs.resolve_review(
                transaction_id,
                "billed",
                SYSTEM,
                "billed when late data completed the session",
                utcnow(),
            )
        return closing

    async def settle(self, transaction_id: int) -> Closing:
        """What billing made of an ended transaction, billing it now if nothing did yet (a
        replayed stop after a failure, or a node that died between the stop and the bill)."""
        records = await self._cdrs.for_transaction(transaction_id)
        if records:
            bill = next(r for r in records if r["kind"] == Kind.BILL.value)
            total = sum((Decimal(r["total"]) for r in records), Decimal("0.00"))
            return Closing({**bill, "total": total}, None)
        try:
            review = await self._cdrs.review(transaction_id)
        except NotFound:
            return await self.close(transaction_id)
        return Closing(None, f"{review['cause']}: {review['detail']}")

    async def sweep_unbilled(self, older_than: timedelta, limit: int = 100) -> int:
        """Bill ended transactions that have neither a CDR nor a review; how many it found."""
        found = await self._cdrs.unbilled(utcnow() - older_than, limit)
        for transaction_id in found:
            await self.close(transaction_id)
        return len(found)

    def _filed(self, cdr: dict[str, Any]) -> None:
        """Count and announce a new CDR (bills, credits and re-bills alike)."""
        metrics.CDRS.labels(verdict=cdr["verdict"]).inc()
        self._bus.publish(
            "cdr.created",
            cdr["station_id"],
            transaction_id=cdr["transaction_id"],
            cdr_id=cdr["id"],
            kind=cdr["kind"],
            total=str(cdr["total"]),
            energy_wh=cdr["energy_wh"],
            verdict=cdr["verdict"],
        )

    async def _save_check(self, transaction_id: int, meter: MeterCheck, now: datetime) -> None:
        skew = meter.clock_skew
        await self._metering.record_check(
            transaction_id,
            meter.verdict.value,
            reasons_of(meter),
            meter.energy_wh,
            None if skew is None else int(skew / timedelta(milliseconds=1)),
            now,
        )

    async def _queue(
        self,
        transaction_id: int,
        cause: str,
        detail: str,
        now: datetime,
        station_id: str | None = None,
    ) -> Closing:
        if station_id is None:
            station_id = (await self._metering.session(transaction_id)).transaction["station_id"]
        await self._cdrs.queue_review(transaction_id, station_id, cause, detail, now)
        metrics.BILLING_REVIEWS.labels(cause=cause).inc()
        self._bus.publish(
            "billing.review",
            station_id,
            transaction_id=transaction_id,
            cause=cause,
            detail=detail,
        )
        return Closing(None, f"{cause}: {detail}")

    async def final_total(self, transaction_id: int) -> Decimal | None:
        """The billed total of an ended transaction, the sum of its CDRs."""
        records = await self._cdrs.for_transaction(transaction_id)
        return sum((Decimal(r["total"]) for r in records), Decimal("0.00")) if records else None

    # -- running cost ----------------------------------------------------------------------

    async def running_cost(self, transaction_id: int) -> Priced | None:
        """The bill so far of an open session, or None when it cannot be priced yet."""
        try:
            return await self._price(transaction_id, now=utcnow())
        except NotBillable:
            return None

    async def running_total(self, transaction_id: int, *, fresh: bool = False) -> Decimal | None:
        """The running total, recomputed at most once per cost interval per transaction."""
        now = monotonic()
        cached = self._running.get(transaction_id)
        if not fresh and cached is not None and now - cached[0] < self._cost_interval:
            return cached[1]
        priced = await self.running_cost(transaction_id)
        if priced is not None and priced.data.transaction["status"] != "open":
            return None  # it ended meanwhile: its cost is its bill now, not a running one
        total = None if priced is None else priced.bill.total
        if len(self._running) > 100_000:  # ended transactions are popped; this is a backstop
            self._running.clear()
        self._running[transaction_id] = (now, total)
        if priced is not None and (cached is None or cached[1] != total):
            await self._metering.set_cost(transaction_id, total, utcnow(), running=True)
            self._bus.publish(
                "transaction.cost",
                priced.data.transaction["station_id"],
                transaction_id=transaction_id,
                total=str(total),
                energy_wh=priced.bill.energy_wh,
            )
        return total

    def priced_at(self, transaction_id: int) -> float:
        """When the running cost was last computed (monotonic; never: -inf)."""
        cached = self._running.get(transaction_id)
        return float("-inf") if cached is None else cached[0]

    def last_total(self, transaction_id: int) -> Decimal | None:
        cached = self._running.get(transaction_id)
        return None if cached is None else cached[1]

    async def open_sessions(self, station_ids: list[str]) -> list[dict[str, Any]]:
        return await self._metering.open_transactions(station_ids) if station_ids else []

    async def verify(self) -> list[dict[str, Any]]:
        return await verify_chains(self._cdrs)

    # -- corrections and reviews -----------------------------------------------------------

    async def credit(self, cdr_id: int, by: str, note: str) -> dict[str, Any]:
        """Cancel a bill or re-bill with a negating record (the original stays as it was)."""
        original = await self._cdrs.get(cdr_id)
        if original["kind"] == Kind.CREDIT.value:
            raise Conflict(f"CDR {cdr_id} is itself a credit")
        if await self._cdrs.corrected(cdr_id):
            raise Conflict(f"CDR {cdr_id} has already been credited")
        record, _ = await self._cdrs.append(
            credit_record(original, created_by=by, created_at=utcnow(), note=note)
        )
        self._filed(record)
        await self._refresh_cost(original["transaction_id"])
        return record

    async def _refresh_cost(self, transaction_id: int) -> None:
        """A session's cost is the sum of its CDRs once it has any."""
        await self._metering.set_cost(
            transaction_id, await self.final_total(transaction_id), utcnow()
        )

    async def rebill(
        self,
        transaction_id: int,
        by: str,
        note: str,
        tariff: Tariff | None = None,
        replaces: int | None = None,
    ) -> list[dict[str, Any]]:
        """Bill a session again (by `tariff`, else as resolved): its standing bill is credited
        first; a session whose bill was already credited just gets the new bill."""
        records = await self._cdrs.for_transaction(transaction_id)
        if not records:
            await self._metering.session(transaction_id)  # NotFound for an unknown one
            raise Conflict(
                f"transaction {transaction_id} was never billed: approve its review instead"
            )
        try:
            priced = await self._price(transaction_id, now=utcnow(), tariff=tariff)
        except NotBillable as exc:
            raise Conflict(f"transaction {transaction_id} cannot be billed: {exc.detail}") from None
        standing = await self._standing(transaction_id)
        if replaces is not None and (standing is None or standing["id"] != replaces):
            # Optimistic concurrency: a retried or racing request must not correct twice.
            now_standing = "none" if standing is None else f"CDR {standing['id']}"
            raise Conflict(
                f"CDR {replaces} is not the standing bill any more (it is {now_standing})"
            )
        now = utcnow()
        batch = []
        if standing is not None:
            batch.append(credit_record(standing, created_by=by, created_at=now, note=note))
            corrects = standing["id"]
        else:
            corrects = max(r["id"] for r in records if r["kind"] != Kind.CREDIT.value)
        batch.append(self._record(priced, by=by, kind=Kind.REBILL, corrects=corrects, note=note))
        filed = await self._cdrs.append_all(batch)  # the credit and the re-bill, or neither
        for record in filed:
            self._filed(record)
        await self._refresh_cost(transaction_id)
        return filed

    async def _standing(self, transaction_id: int) -> dict[str, Any] | None:
        """The session's bill or re-bill that no credit cancels."""
        records = await self._cdrs.for_transaction(transaction_id)
        credited = {r["corrects"] for r in records if r["kind"] == Kind.CREDIT.value}
        live = [r for r in records if r["kind"] != Kind.CREDIT.value and r["id"] not in credited]
        return live[-1] if live else None

    async def approve(self, transaction_id: int, by: str, note: str) -> dict[str, Any]:
        """Bill a session held for review as it stands (an operator vouches for the data)."""
        review = await self._cdrs.review(transaction_id)
        if review["status"] != "pending":
            raise Conflict(f"the review of transaction {transaction_id} is {review['status']}")
        now = utcnow()
        data = await self._metering.session(transaction_id)
        if data.transaction["started_at"] is None or data.transaction["status"] != "closed":
            raise Conflict(f"transaction {transaction_id} has no start or has not ended")
        try:
            priced = await self._price(transaction_id, now=now, approved=True, data=data)
        except NotBillable as exc:
            raise Conflict(
                f"transaction {transaction_id} cannot be billed as it stands ({exc.detail}); "
                "assign a tariff, or void it"
            ) from None
        record = self._record(priced, by=by, note=f"approved on review: {note}")
        cdr, created = await self._cdrs.append(record)
        if created:
            self._filed(cdr)
        await self._cdrs.resolve_review(transaction_id, "billed", by, note, now)
        await self._refresh_cost(transaction_id)
        return cdr

    async def void(self, transaction_id: int, by: str, note: str) -> None:
        """Close a review without billing (the session is not charged)."""
        if not note.strip():
            raise InvalidInput("voiding a session needs a note saying why")
        await self._cdrs.review(transaction_id)  # NotFound when it was never queued
        await self._cdrs.resolve_review(transaction_id, "voided", by, note, utcnow())
