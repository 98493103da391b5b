"""Charging sessions: starts, stops, events and meter values, each idempotent under replay."""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any

from csms import metrics
from csms.clock import monotonic, utcnow
from csms.domain.meter import Sample, register_wh
from csms.domain.station import WHOLE_STATION, ConnectorRef
from csms.domain.token import AuthDecision
from csms.domain.transaction import (
    EventOutcome,
    EventType,
    StartOutcome,
    StartRequest,
    StopRequest,
    TransactionEvent,
)
from csms.services.authorization import AuthorizationService
from csms.services.billing import BillingService
from csms.services.events import EventBus
from csms.services.platforms import PlatformService
from csms.store.ledger import (
    EventWrite,
    Ledger,
    SampleWrite,
    StartWrite,
    StopWrite,
)
from csms.store.transactions import TransactionStore

log = logging.getLogger(__name__)


class TransactionService:
    def __init__(
        self,
        store: TransactionStore,
        ledger: Ledger,
        authorization: AuthorizationService,
        bus: EventBus,
        billing: BillingService,
        *,
        meter_event_interval: float = 10.0,
        platforms: PlatformService | None = None,
    ) -> None:
        self._platforms = platforms
        self._billing = billing
        self._store = store
        self._ledger = ledger
        self._auth = authorization
        self._bus = bus
        self._meter_event_interval = meter_event_interval
        self._last_meter_event: dict[tuple[str, int], float] = {}
        # 1.6 transaction ids known to belong to a station: saves a lookup per MeterValues.
        self._known_v16: dict[str, set[int]] = {}

    async def start_v16(
        self, station_id: str, start: StartRequest
    ) -> tuple[StartOutcome, AuthDecision]:
        decision = await self._auth.authorize(
            start.id_token,
            station_id=station_id,
            where=start.where,
            context="StartTransaction",
            at=start.timestamp,  # an offline start is judged by when it happened
        )
        write = StartWrite(station_id, start, decision.status.value, utcnow())
        await self._ledger.submit(write)
        outcome = write.outcome
        assert outcome is not None
        self._remember(station_id, outcome.transaction_id)
        if not outcome.replayed:
            await self._auth.remember_start(outcome.transaction_id, decision)
            self._started(station_id, outcome.transaction_id, start.where, start.id_token)
        return outcome, decision

    async def stop_v16(self, station_id: str, stop: StopRequest) -> AuthDecision | None:
        """Always accepted (a CSMS cannot refuse a stop); unknown ids are kept as orphans."""
        write = StopWrite(station_id, stop, utcnow())
        await self._ledger.submit(write)  # the stop and its transactionData, in one commit
        outcome = write.outcome
        assert outcome is not None
        if not outcome.replayed:
            self._ended(station_id, outcome.transaction_pk, outcome.energy_wh, stop.reason)
            await self._billing.close(outcome.transaction_pk)
        else:  # billing may not have happened the first time (a failure, a dead node)
            await self._billing.settle(outcome.transaction_pk)
        if stop.id_token is None:
            return None
        return await self._auth.authorize(stop.id_token)

    async def meter_values_v16(
        self,
        station_id: str,
        where: ConnectorRef,
        transaction_id: int | None,
        samples: list[Sample],
    ) -> None:
        """Store samples; a transactionId the station does not own is kept unlinked, not refused."""
        linked = None
        if transaction_id is not None:
            if transaction_id in self._known_v16.get(station_id, ()):
                linked = transaction_id
            else:
                linked = await self._store.find_v16(station_id, transaction_id)
                if linked is not None:
                    self._remember(station_id, linked)
        await self.meter_values(station_id, where, samples, linked)

    def _remember(self, station_id: str, transaction_id: int) -> None:
        known = self._known_v16.setdefault(station_id, set())
        if len(known) >= 64:  # a station runs a handful at a time; old ones just cost a lookup
            known.clear()
        known.add(transaction_id)

    async def meter_values(
        self,
        station_id: str,
        where: ConnectorRef,
        samples: list[Sample],
        transaction_pk: int | None = None,
    ) -> None:
        if samples:
            await self._ledger.submit(
                SampleWrite(station_id, where, transaction_pk, samples, utcnow())
            )
        self._meter_event(station_id, where, samples, transaction_pk)

    async def event(
        self, station_id: str, event: TransactionEvent, payload: dict[str, Any]
    ) -> tuple[EventOutcome, AuthDecision | None]:
        """Apply a 2.0.1 TransactionEvent and its samples in one commit; an identical event
        stored before is a replay and adds nothing (docs/ledger.md)."""
        received = utcnow()
        # An event the station queued while offline is history: the status it reported on
        # reconnecting is newer, so it does not change what platforms are told.
        code = (
            None
            if self._platforms is None or event.offline
            else self._platforms.charging_code(
                event.charging_state, ended=event.event_type is EventType.ENDED
            )
        )
        write = EventWrite(station_id, event, payload, received, code)
        await self._ledger.submit(write)
        outcome = write.outcome
        assert outcome is not None
        where = outcome.where or event.where or WHOLE_STATION
        if not outcome.replayed:
            if event.event_type is EventType.STARTED:
                if not outcome.after_end:  # a reused transactionId starts nothing ended
                    self._started(station_id, outcome.transaction_pk, where, event.id_token)
            elif event.event_type is EventType.ENDED:
                self._ended(
                    station_id, outcome.transaction_pk, outcome.energy_wh, event.stopped_reason
                )
            else:
                self._meter_event(station_id, where, event.samples, outcome.transaction_pk)
        # The start decision is kept before anything bills the session (a late Started may
        # complete an ended one), and made again for a replay that finds none kept (the
        # first delivery failed after its commit).
        decision = None
        if event.id_token is not None:
            # A start for the sharing rules: the Started event, or the authorization that
            # comes after a plug-in start; never a card presented to stop (StopAuthorized).
            starting = (
                (not outcome.replayed or outcome.auth_status is None)
                and not outcome.after_end  # the ended session's decision stands
                and (event.event_type is EventType.STARTED or event.trigger_reason == "Authorized")
            )
            decision = await self._auth.authorize(
                event.id_token,
                station_id=station_id,
                where=outcome.where or event.where,
                context="TransactionEvent" if starting else None,
                at=event.timestamp,
                transaction_id=outcome.transaction_pk,
            )
            if starting:
                await self._store.record_start_auth(outcome.transaction_pk, decision.status.value)
                await self._auth.remember_start(outcome.transaction_pk, decision)
        cost = await self._cost(event, outcome)
        if cost is not None:  # dataclasses.replace costs ~4 us: not when nothing changes
            outcome = replace(outcome, total_cost=cost)
        return outcome, decision

    async def _cost(self, event: TransactionEvent, outcome: EventOutcome) -> Decimal | None:
        """Final cost for an Ended event (billed once), running cost for an Updated one."""
        if outcome.orphan and event.event_type is not EventType.ENDED:
            return None
        if event.event_type is EventType.ENDED:
            if outcome.replayed:
                return (await self._billing.settle(outcome.transaction_pk)).total
            return (await self._billing.close(outcome.transaction_pk)).total
        if outcome.closed_before and not outcome.replayed:
            # A late event (an offline queue's Started or Updated after the Ended): a session
            # nothing could bill yet is billed now; a filed bill stands, the event beside it.
            await self._billing.reconsider(outcome.transaction_pk)
            return None
        if event.event_type is EventType.UPDATED and not outcome.replayed:
            try:
                return await self._billing.running_total(outcome.transaction_pk)
            except Exception:  # the event is stored: a cost we cannot tell is left out
                log.exception("running cost of transaction %s failed", outcome.transaction_pk)
        return None

    def _started(
        self, station_id: str, transaction_pk: int, where: ConnectorRef, id_token: str | None
    ) -> None:
        self._bus.publish(
            "transaction.started",
            station_id,
            transaction_id=transaction_pk,
            evse_id=where.evse_id,
            connector_id=where.connector_id,
            id_token=id_token,
        )

    def _ended(
        self, station_id: str, transaction_pk: int, energy_wh: int | None, reason: str | None
    ) -> None:
        if energy_wh is not None and energy_wh > 0:
            metrics.ENERGY_DELIVERED.inc(energy_wh)
        self._bus.publish(
            "transaction.ended",
            station_id,
            transaction_id=transaction_pk,
            energy_wh=energy_wh,
            reason=reason,
        )

    def _meter_event(
        self,
        station_id: str,
        where: ConnectorRef,
        samples: list[Sample],
        transaction_pk: int | None,
    ) -> None:
        """At most one meter event per EVSE per interval: the feed is for eyes, not for billing."""
        key = (station_id, where.evse_id)
        now = monotonic()
        if now - self._last_meter_event.get(key, -1e9) < self._meter_event_interval:
            return
        register = register_wh(samples, last=True)
        if register is None:
            return
        self._last_meter_event[key] = now
        power = next(
            (
                float(s.value)
                for s in samples
                if s.measurand == "Power.Active.Import"
                and not s.phase
                and s.value is not None
                and s.unit in ("W", "")
            ),
            None,
        )
        self._bus.publish(
            "meter.updated",
            station_id,
            evse_id=where.evse_id,
            transaction_id=transaction_pk,
            register_wh=register,
            power_w=power,
        )

    def forget(self, station_id: str) -> None:
        """Drop rate-limit state of a station that left this node."""
        for key in [k for k in self._last_meter_event if k[0] == station_id]:
            del self._last_meter_event[key]
        self._known_v16.pop(station_id, None)
