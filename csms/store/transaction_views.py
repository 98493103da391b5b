"""Transactions as operators read them: the row with its ledger facts (refusal, sequence
anomalies, linked orphan) and the samples that conflicted with stored ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.store.database import Pool

_COLUMNS = """id, station_id, ocpp_version, station_tx_id, evse_id, connector_id, id_token,
    id_token_type, stop_id_token, auth_status, refused, started_at, stopped_at, meter_start_wh,
    meter_stop_wh, status, stop_reason, orphan, charging_state, last_seq_no, offline,
    reservation_id, remote_start_id, cost, cost_at, seq_anomalies, linked_to"""


class TransactionViews:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

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
        refused: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Transactions, newest first; the time range applies to the start (or stop, for
        orphans that have no start); `refused` keeps only refused starts, or only others."""
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM transactions
                WHERE ($1::text IS NULL OR station_id = $1)
                  AND ($2::text IS NULL OR id_token = $2 OR stop_id_token = $2)
                  AND ($3::timestamptz IS NULL OR COALESCE(started_at, stopped_at) >= $3)
                  AND ($4::timestamptz IS NULL OR COALESCE(started_at, stopped_at) < $4)
                  AND ($5::text IS NULL OR status = $5)
                  AND ($6::boolean IS NULL OR refused = $6)
                ORDER BY id DESC LIMIT $7 OFFSET $8""",
            station_id,
            id_token,
            since,
            until,
            status,
            refused,
            limit,
            offset,
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
