"""Transactions as read by operators and services; the writes go through csms/store/ledger.py."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from csms.domain.scope import Scope
from csms.domain.station import MAX_INT64
from csms.store.database import Pool
from csms.store.scope_sql import scope_args, station_in_scope

if TYPE_CHECKING:
    from typing import TypeAlias

    from asyncpg.pool import PoolConnectionProxy

    # A pooled or plain connection (the proxy is generic only for the type checker).
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]


_COLUMNS = """id, station_id, ocpp_version, station_tx_id, evse_id, connector_id, id_token,
    id_token_type, stop_id_token, auth_status, refused, started_at, stopped_at, meter_start_wh,
    meter_stop_wh, status, stop_reason, orphan, charging_state, last_seq_no, offline,
    reservation_id, remote_start_id, cost, cost_at, seq_anomalies, linked_to"""


class TransactionStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def find_v16(self, station_id: str, transaction_id: int) -> int | None:
        """The row id of a 1.6 transaction this station owns (the id itself), if it exists.
        An id no row can have (beyond 64 bits, or a float a parser made of such a literal)
        is owned by no one."""
        if type(transaction_id) is not int or not 0 < transaction_id <= MAX_INT64:
            return None
        found: int | None = await self._pool.fetchval(
            """SELECT id FROM transactions WHERE id = $1 AND station_id = $2
                   AND ocpp_version = '1.6'""",
            transaction_id,
            station_id,
        )
        return found

    async def record_start_auth(self, transaction_id: int, status: str) -> None:
        """Keep the decision on a 2.0.1 start (the Started event or the authorization after a
        plug-in start): a refused one is never billed nor counted as a session."""
        await self._pool.execute(
            "UPDATE transactions SET auth_status = $2 WHERE id = $1", transaction_id, status
        )

    async def get(
        self, transaction_id: int, *, scope: Scope | None = None
    ) -> dict[str, Any] | None:
        """The transaction; None when it does not exist or its station is outside `scope`."""
        row = await self._pool.fetchrow(
            f"""SELECT {_COLUMNS} FROM transactions
                WHERE id = $1 AND {station_in_scope("transactions.station_id", 2, 3)}""",
            transaction_id,
            *scope_args(scope),
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
        refused: bool | None = None,
        limit: int = 100,
        offset: int = 0,
        scope: Scope | None = None,
    ) -> list[dict[str, Any]]:
        """Transactions, newest first; the time range applies to the start (or stop, for
        orphans that have no start); `refused` keeps only refused starts, or only others;
        only those of stations in `scope` (None: all)."""
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM transactions
                WHERE ($1::text IS NULL OR station_id = $1)
                  AND ($2::text IS NULL OR id_token = $2 OR stop_id_token = $2)
                  AND ($3::timestamptz IS NULL OR COALESCE(started_at, stopped_at) >= $3)
                  AND ($4::timestamptz IS NULL OR COALESCE(started_at, stopped_at) < $4)
                  AND ($5::text IS NULL OR status = $5)
                  AND ($6::boolean IS NULL OR refused = $6)
                  AND {station_in_scope("transactions.station_id", 9, 10)}
                ORDER BY id DESC LIMIT $7 OFFSET $8""",
            station_id,
            id_token,
            since,
            until,
            status,
            refused,
            limit,
            offset,
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    async def conflicts(self, transaction_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        """Samples of the session that came again with another value, beside the stored one."""
        rows = await self._pool.fetch(
            """SELECT sampled_at, received_at, evse_id, connector_id, measurand, phase,
                      location, context, unit, value, raw_value, stored_value, stored_unit
               FROM meter_sample_conflicts WHERE transaction_id = $1
               ORDER BY sampled_at, measurand, phase, id LIMIT $2""",
            transaction_id,
            limit,
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
