"""Transactions: 1.6 starts/stops with CSMS-assigned ids, 2.0.1 events keyed by the station's id.

Every method is idempotent under replay, which is what an offline queue delivers after a
reconnect (or after our own restart, since all state is here).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from csms.domain.meter import register_wh
from csms.domain.station import MAX_INT64, ConnectorRef
from csms.domain.transaction import (
    EventOutcome,
    EventType,
    StartOutcome,
    StartRequest,
    StopOutcome,
    StopRequest,
    TransactionEvent,
)
from csms.store import platform_outbox
from csms.store.database import Pool

if TYPE_CHECKING:
    from typing import TypeAlias

    from asyncpg.pool import PoolConnectionProxy

    # A pooled or plain connection (the proxy is generic only for the type checker).
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]


_COLUMNS = """id, station_id, ocpp_version, station_tx_id, evse_id, connector_id, id_token,
    id_token_type, stop_id_token, auth_status, started_at, stopped_at, meter_start_wh,
    meter_stop_wh, status, stop_reason, orphan, charging_state, last_seq_no, offline,
    reservation_id, remote_start_id, cost, cost_at"""


_OUTCOME_COLUMNS = "orphan, evse_id, connector_id, meter_start_wh, meter_stop_wh"


def _event_outcome(tx_id: int, replayed: bool, row: Any) -> EventOutcome:
    start, stop = row["meter_start_wh"], row["meter_stop_wh"]
    energy = stop - start if start is not None and stop is not None else None
    return EventOutcome(tx_id, replayed, row["orphan"], _where(row), energy)


def _where(row: Any) -> ConnectorRef | None:
    if row["evse_id"] is None:
        return None
    return ConnectorRef(row["evse_id"], row["connector_id"] or 0)


class TransactionStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def start_v16(
        self, station_id: str, start: StartRequest, auth_status: str
    ) -> StartOutcome:
        """Assign a transaction id, or return the one a previous delivery of this start got."""
        async with self._pool.acquire() as conn, conn.transaction():
            new_id = await conn.fetchval(
                """INSERT INTO transactions (station_id, ocpp_version, evse_id, connector_id,
                       id_token, auth_status, started_at, meter_start_wh, reservation_id)
                   VALUES ($1, '1.6', $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT (station_id, evse_id, id_token, started_at, meter_start_wh)
                       WHERE ocpp_version = '1.6' AND NOT orphan
                   DO NOTHING RETURNING id""",
                station_id,
                start.where.evse_id,
                start.where.connector_id,
                start.id_token,
                auth_status,
                start.timestamp,
                start.meter_start_wh,
                start.reservation_id,
            )
            if new_id is None:
                existing: int = await conn.fetchval(
                    """SELECT id FROM transactions WHERE station_id = $1 AND evse_id = $2
                           AND id_token = $3 AND started_at = $4 AND meter_start_wh = $5
                           AND ocpp_version = '1.6' AND NOT orphan""",
                    station_id,
                    start.where.evse_id,
                    start.id_token,
                    start.timestamp,
                    start.meter_start_wh,
                )
                return StartOutcome(existing, replayed=True)
            # A connector runs one transaction at a time: an older one still open here lost its
            # StopTransaction. Close it so it does not hold its token (ConcurrentTx) forever.
            await conn.execute(
                """UPDATE transactions SET status = 'closed', stop_reason = 'Superseded',
                       updated_at = now()
                   WHERE station_id = $1 AND evse_id = $2 AND status = 'open' AND id <> $3
                     AND ocpp_version = '1.6' AND started_at <= $4""",
                station_id,
                start.where.evse_id,
                new_id,
                start.timestamp,
            )
        return StartOutcome(int(new_id), replayed=False)

    async def stop_v16(self, station_id: str, stop: StopRequest) -> StopOutcome:
        """Close the transaction once; unknown ids become orphans (a stop is never refused)."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = (
                None
                if not 0 < stop.transaction_id <= MAX_INT64
                else await conn.fetchrow(
                    """SELECT id, status, stop_reason, evse_id, meter_start_wh FROM transactions
                   WHERE id = $1 AND station_id = $2 AND ocpp_version = '1.6' AND NOT orphan
                   FOR UPDATE""",
                    stop.transaction_id,
                    station_id,
                )
            )
            if row is not None:
                where = ConnectorRef.from_v16(row["evse_id"])
                replayed = row["status"] == "closed" and row["stop_reason"] != "Superseded"
                if not replayed:
                    await conn.execute(
                        """UPDATE transactions SET status = 'closed', stopped_at = $2,
                               meter_stop_wh = $3, stop_reason = $4, stop_id_token = $5,
                               updated_at = now()
                           WHERE id = $1""",
                        row["id"],
                        stop.timestamp,
                        stop.meter_stop_wh,
                        stop.reason or "Local",
                        stop.id_token,
                    )
                energy = (
                    None
                    if stop.meter_stop_wh is None
                    else stop.meter_stop_wh - row["meter_start_wh"]
                )
                return StopOutcome(row["id"], False, replayed, where, energy)
            orphan_id = await conn.fetchval(
                """INSERT INTO transactions (station_id, ocpp_version, station_tx_id, status,
                       orphan, stopped_at, meter_stop_wh, stop_reason, stop_id_token,
                       meter_start_wh)
                   VALUES ($1, '1.6', $2, 'closed', true, $3, $4, $5, $6, $7)
                   ON CONFLICT (station_id, ocpp_version, station_tx_id)
                       WHERE station_tx_id IS NOT NULL
                   DO NOTHING RETURNING id""",
                station_id,
                str(stop.transaction_id),
                stop.timestamp,
                stop.meter_stop_wh,
                stop.reason or "Local",
                stop.id_token,
                register_wh(stop.samples, last=False),
            )
            if orphan_id is not None:
                return StopOutcome(int(orphan_id), True, False, None, None)
            existing: int = await conn.fetchval(
                """SELECT id FROM transactions WHERE station_id = $1
                       AND ocpp_version = '1.6' AND station_tx_id = $2""",
                station_id,
                str(stop.transaction_id),
            )
            return StopOutcome(existing, True, True, None, None)

    async def find_v16(self, station_id: str, transaction_id: int) -> int | None:
        """The row id of a 1.6 transaction this station owns (the id itself), if it exists."""
        found: int | None = await self._pool.fetchval(
            """SELECT id FROM transactions WHERE id = $1 AND station_id = $2
                   AND ocpp_version = '1.6'""",
            transaction_id,
            station_id,
        )
        return found

    async def apply_event(
        self,
        station_id: str,
        event: TransactionEvent,
        payload: dict[str, Any],
        at: datetime,
        platform_code: int | None = None,
    ) -> EventOutcome:
        """Apply a 2.0.1 TransactionEvent once; a seqNo seen before is a replay, not re-applied.

        `platform_code` (3 charging, 2 occupied): the EVSE's T/CEC status code, recorded and
        queued for monitoring platforms in the same transaction.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            created_id = await conn.fetchval(
                """INSERT INTO transactions (station_id, ocpp_version, station_tx_id, orphan,
                       started_at)
                   VALUES ($1, '2.0.1', $2, $3, $4)
                   ON CONFLICT (station_id, ocpp_version, station_tx_id)
                       WHERE station_tx_id IS NOT NULL
                   DO NOTHING RETURNING id""",
                station_id,
                event.station_tx_id,
                event.event_type is not EventType.STARTED,
                None if event.event_type is EventType.ENDED else event.timestamp,
            )
            tx_id: int = created_id or await conn.fetchval(
                """SELECT id FROM transactions WHERE station_id = $1 AND ocpp_version = '2.0.1'
                       AND station_tx_id = $2 FOR UPDATE""",
                station_id,
                event.station_tx_id,
            )
            inserted = await conn.fetchval(
                """INSERT INTO transaction_events (transaction_id, seq_no, event_type,
                       trigger_reason, event_at, received_at, offline, payload)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT (transaction_id, seq_no) DO NOTHING RETURNING seq_no""",
                tx_id,
                event.seq_no,
                event.event_type.value,
                event.trigger_reason,
                event.timestamp,
                at,
                event.offline,
                payload,
            )
            if inserted is None:
                seen: Any = await conn.fetchrow(
                    f"SELECT {_OUTCOME_COLUMNS} FROM transactions WHERE id = $1", tx_id
                )
                return _event_outcome(tx_id, True, seen)
            row = await self._apply(conn, tx_id, event)
            if event.event_type is EventType.STARTED and row["evse_id"] is not None:
                # An EVSE runs one transaction at a time: an older one still open there lost
                # its Ended event; close it so its token is not held (ConcurrentTx) forever.
                await conn.execute(
                    """UPDATE transactions SET status = 'closed', stop_reason = 'Superseded',
                           updated_at = now()
                       WHERE station_id = $1 AND ocpp_version = '2.0.1' AND evse_id = $2
                         AND status = 'open' AND id <> $3 AND started_at <= $4""",
                    station_id,
                    row["evse_id"],
                    tx_id,
                    event.timestamp,
                )
            if platform_code is not None and row["evse_id"]:
                await platform_outbox.charging(
                    conn,
                    station_id,
                    row["evse_id"],
                    row["connector_id"] or 0,
                    platform_code,
                    at,
                    ended=event.event_type is EventType.ENDED,
                )
        return _event_outcome(tx_id, False, row)

    @staticmethod
    async def _apply(conn: Connection, tx_id: int, event: TransactionEvent) -> Any:
        first_wh = register_wh(event.samples, last=False)
        last_wh = register_wh(event.samples, last=True)
        where = event.where
        started = event.event_type is EventType.STARTED
        ended = event.event_type is EventType.ENDED
        return await conn.fetchrow(
            f"""UPDATE transactions SET
                   orphan = orphan AND NOT $2,
                   started_at = CASE WHEN $2 THEN $3 WHEN $12 THEN started_at
                                     ELSE LEAST(started_at, $3) END,
                   evse_id = COALESCE($4, evse_id),
                   connector_id = COALESCE($5, connector_id),
                   id_token = COALESCE(id_token, $6),
                   id_token_type = COALESCE(id_token_type, $7),
                   charging_state = COALESCE($8, charging_state),
                   remote_start_id = COALESCE(remote_start_id, $9),
                   reservation_id = COALESCE(reservation_id, $10),
                   meter_start_wh = CASE WHEN $2 THEN COALESCE($11, meter_start_wh)
                                         ELSE COALESCE(meter_start_wh, $11) END,
                   meter_stop_wh = CASE WHEN $12 THEN COALESCE($13, meter_stop_wh)
                                        ELSE meter_stop_wh END,
                   status = CASE WHEN $12 THEN 'closed' ELSE status END,
                   stopped_at = CASE WHEN $12 THEN $3 ELSE stopped_at END,
                   stop_reason = CASE WHEN $12 THEN COALESCE($14, 'Local') ELSE stop_reason END,
                   last_seq_no = GREATEST(last_seq_no, $15),
                   offline = offline OR $16,
                   updated_at = now()
               WHERE id = $1 RETURNING {_OUTCOME_COLUMNS}""",
            tx_id,
            started,
            event.timestamp,
            where.evse_id if where else None,
            where.connector_id if where else None,
            event.id_token,
            event.id_token_type,
            event.charging_state,
            event.remote_start_id,
            event.reservation_id,
            first_wh,
            ended,
            last_wh,
            event.stopped_reason,
            event.seq_no,
            event.offline,
        )

    async def get(self, transaction_id: int) -> dict[str, Any] | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM transactions WHERE id = $1", transaction_id
        )
        return None if row is None else dict(row)

    async def search(
        self,
        *,
        station_id: str | None = None,
        id_token: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Transactions, newest first; the time range applies to the start (or stop, for
        orphans that have no start)."""
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM transactions
                WHERE ($1::text IS NULL OR station_id = $1)
                  AND ($2::text IS NULL OR id_token = $2 OR stop_id_token = $2)
                  AND ($3::timestamptz IS NULL OR COALESCE(started_at, stopped_at) >= $3)
                  AND ($4::timestamptz IS NULL OR COALESCE(started_at, stopped_at) < $4)
                  AND ($5::text IS NULL OR status = $5)
                ORDER BY id DESC LIMIT $6 OFFSET $7""",
            station_id,
            id_token,
            since,
            until,
            status,
            limit,
            offset,
        )
        return [dict(r) for r in rows]

    async def samples(self, transaction_id: int, limit: int = 10000) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT sampled_at, evse_id, connector_id, measurand, phase, location, context,
                      unit, value, raw_value, signed_data
               FROM meter_samples WHERE transaction_id = $1
               ORDER BY sampled_at, measurand, phase LIMIT $2""",
            transaction_id,
            limit,
        )
        return [dict(r) for r in rows]

    async def open_for_station(self, station_id: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM transactions
                WHERE station_id = $1 AND status = 'open' ORDER BY id""",
            station_id,
        )
        return [dict(r) for r in rows]

    async def count_open(self) -> int:
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM transactions WHERE status = 'open'"
        )
        return count
