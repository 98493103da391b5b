"""Charging sessions: starts, stops, events and meter values, each idempotent under replay."""

from __future__ import annotations

from typing import Any

from csms.clock import utcnow
from csms.domain.meter import Sample
from csms.domain.station import ConnectorRef
from csms.domain.token import AuthDecision
from csms.domain.transaction import (
    EventOutcome,
    StartOutcome,
    StartRequest,
    StopRequest,
    TransactionEvent,
)
from csms.services.authorization import AuthorizationService
from csms.store.meter_writer import MeterWriter, rows_for
from csms.store.transactions import TransactionStore


class TransactionService:
    def __init__(
        self,
        store: TransactionStore,
        writer: MeterWriter,
        authorization: AuthorizationService,
    ) -> None:
        self._store = store
        self._writer = writer
        self._auth = authorization

    async def start_v16(
        self, station_id: str, start: StartRequest
    ) -> tuple[StartOutcome, AuthDecision]:
        decision = await self._auth.authorize(
            start.id_token, station_id=station_id, where=start.where
        )
        outcome = await self._store.start_v16(station_id, start, decision.status.value)
        return outcome, decision

    async def stop_v16(
        self, station_id: str, stop: StopRequest, where_hint: ConnectorRef | None = None
    ) -> AuthDecision | None:
        """Always accepted (a CSMS cannot refuse a stop); unknown ids are kept as orphans."""
        tx_id, _orphan, _replayed = await self._store.stop_v16(station_id, stop)
        if stop.samples:
            row = await self._store.get(tx_id)
            evse = row["evse_id"] if row and row["evse_id"] is not None else None
            where = ConnectorRef.from_v16(evse) if evse is not None else where_hint
            await self._writer.write(
                rows_for(station_id, where or ConnectorRef(0, 0), tx_id, stop.samples, utcnow())
            )
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
            linked = await self._store.find_v16(station_id, transaction_id)
        await self._writer.write(rows_for(station_id, where, linked, samples, utcnow()))

    async def meter_values(
        self, station_id: str, where: ConnectorRef, samples: list[Sample]
    ) -> None:
        await self._writer.write(rows_for(station_id, where, None, samples, utcnow()))

    async def event(
        self, station_id: str, event: TransactionEvent, payload: dict[str, Any]
    ) -> tuple[EventOutcome, AuthDecision | None]:
        """Apply a 2.0.1 TransactionEvent once, and its samples (replays add nothing new)."""
        received = utcnow()
        outcome = await self._store.apply_event(station_id, event, payload, received)
        if event.samples:
            where = outcome.where or event.where or ConnectorRef(0, 0)
            await self._writer.write(
                rows_for(station_id, where, outcome.transaction_pk, event.samples, received)
            )
        decision = None
        if event.id_token is not None:
            decision = await self._auth.authorize(
                event.id_token, station_id=station_id, where=outcome.where or event.where
            )
        return outcome, decision
