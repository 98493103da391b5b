"""Charge detail records (append-only, hash-chained per operator), the review queue, settlement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from csms.billing.cdr import HASHED_COLUMNS, Kind, chain_hash
from csms.domain.scope import Scope
from csms.errors import Conflict, NotFound
from csms.store.database import Pool
from csms.store.platform_outbox import STREAM_LOCK
from csms.store.scope_sql import scope_args, station_in_scope

CDR_COLUMNS = "id, hash, " + ", ".join(HASHED_COLUMNS)
_INSERT_COLUMNS = (*HASHED_COLUMNS, "hash")
_INSERT = f"""INSERT INTO cdrs ({", ".join(_INSERT_COLUMNS)})
    VALUES ({", ".join(f"${i}" for i in range(1, len(_INSERT_COLUMNS) + 1))})
    RETURNING {CDR_COLUMNS}"""

GROUPS = {"operator": "operator_id", "site": "site_name", "owner": "owner_unit"}
# A refused start (transactions `t`) whose metering check found no energy: billing is done
# with it. One that delivered energy is done only once it has a review.
_REFUSED_DONE = """(t.refused AND EXISTS (SELECT 1 FROM metering_checks m
                                          WHERE m.transaction_id = t.id
                                            AND COALESCE(m.energy_wh, 0) <= 0))"""
PERIODS = ("day", "month")


class CdrStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def append(self, record: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Append to the operator's chain; a second bill of a transaction returns the first,
        and a second credit (or re-bill) of one record is a Conflict.

        The chain head row is locked for the append, so records of one operator get gapless
        sequence numbers and each names its predecessor's hash.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            return await _append(conn, record)

    async def append_all(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Append several records atomically (a credit and its re-bill: both or neither)."""
        async with self._pool.acquire() as conn, conn.transaction():
            return [(await _append(conn, record))[0] for record in records]

    async def get(self, cdr_id: int, *, scope: Scope | None = None) -> dict[str, Any]:
        """The record; NotFound when it does not exist or its station is outside `scope`."""
        row = await self._pool.fetchrow(
            f"""SELECT {CDR_COLUMNS} FROM cdrs
                WHERE id = $1 AND {station_in_scope("cdrs.station_id", 2, 3)}""",
            cdr_id,
            *scope_args(scope),
        )
        if row is None:
            raise NotFound(f"CDR {cdr_id} does not exist")
        return dict(row)

    async def for_transaction(self, transaction_id: int) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"SELECT {CDR_COLUMNS} FROM cdrs WHERE transaction_id = $1 ORDER BY id",
            transaction_id,
        )
        return [dict(r) for r in rows]

    async def corrected(self, cdr_id: int) -> bool:
        """True when a credit already cancels this record."""
        return bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM cdrs WHERE corrects = $1 AND kind = 'credit')",
                cdr_id,
            )
        )

    async def search(
        self,
        *,
        station_id: str | None,
        operator_id: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        offset: int,
        scope: Scope | None = None,
    ) -> list[dict[str, Any]]:
        """Records newest first; only those of stations in `scope` (None: all)."""
        rows = await self._pool.fetch(
            f"""SELECT {CDR_COLUMNS} FROM cdrs
                WHERE ($1::text IS NULL OR station_id = $1)
                  AND ($2::text IS NULL OR operator_id = $2)
                  AND ($3::timestamptz IS NULL OR stopped_at >= $3)
                  AND ($4::timestamptz IS NULL OR stopped_at < $4)
                  AND {station_in_scope("cdrs.station_id", 7, 8)}
                ORDER BY id DESC LIMIT $5 OFFSET $6""",
            station_id,
            operator_id,
            since,
            until,
            limit,
            offset,
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    async def chain_page(self, operator_id: str, after_seq: int, size: int) -> list[dict[str, Any]]:
        """The next `size` records of an operator's chain after `after_seq` (keyset paging,
        so verifying millions of records never holds them all)."""
        rows = await self._pool.fetch(
            f"""SELECT {CDR_COLUMNS} FROM cdrs WHERE operator_id = $1 AND seq > $2
                ORDER BY seq LIMIT $3""",
            operator_id,
            after_seq,
            size,
        )
        return [dict(r) for r in rows]

    async def heads(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT operator_id, seq, hash FROM cdr_chain_heads ORDER BY operator_id"
        )
        return [dict(r) for r in rows]

    async def unbilled(self, before: datetime, limit: int) -> list[int]:
        """Ended transactions last touched in the day before `before` with no CDR or review;
        a refused start whose metering was checked is done (it is never billed)."""
        rows = await self._pool.fetch(
            f"""SELECT t.id FROM transactions t
               WHERE t.status = 'closed' AND t.updated_at < $1
                 AND t.updated_at > $1 - interval '1 day'
                 AND COALESCE(t.stop_reason, '') <> 'Superseded'
                 AND NOT EXISTS (SELECT 1 FROM cdrs c WHERE c.transaction_id = t.id)
                 AND NOT EXISTS (SELECT 1 FROM billing_reviews r WHERE r.transaction_id = t.id)
                 AND NOT {_REFUSED_DONE}
               ORDER BY t.id LIMIT $2""",
            before,
            limit,
        )
        return [r["id"] for r in rows]

    # -- review queue ----------------------------------------------------------------------

    async def queue_review(
        self, transaction_id: int, station_id: str, cause: str, detail: str, at: datetime
    ) -> None:
        """Queue a session for review once; a later attempt refreshes a pending entry's cause."""
        await self._pool.execute(
            """INSERT INTO billing_reviews (transaction_id, station_id, cause, detail, created_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (transaction_id) DO UPDATE SET cause = EXCLUDED.cause,
                   detail = EXCLUDED.detail
               WHERE billing_reviews.status = 'pending'""",
            transaction_id,
            station_id,
            cause,
            detail,
            at,
        )

    async def reviews(
        self, status: str | None, limit: int, offset: int, *, scope: Scope | None = None
    ) -> list[dict[str, Any]]:
        """Reviews, oldest first; only those of stations in `scope` (None: all)."""
        rows = await self._pool.fetch(
            f"""SELECT transaction_id, station_id, cause, detail, status, created_at,
                       resolved_at, resolved_by, note
                FROM billing_reviews WHERE ($1::text IS NULL OR status = $1)
                  AND {station_in_scope("billing_reviews.station_id", 4, 5)}
                ORDER BY created_at, transaction_id LIMIT $2 OFFSET $3""",
            status,
            limit,
            offset,
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    async def review(self, transaction_id: int) -> dict[str, Any]:
        row = await self._pool.fetchrow(
            """SELECT transaction_id, station_id, cause, detail, status, created_at,
                      resolved_at, resolved_by, note
               FROM billing_reviews WHERE transaction_id = $1""",
            transaction_id,
        )
        if row is None:
            raise NotFound(f"transaction {transaction_id} is not in the review queue")
        return dict(row)

    async def resolve_review(
        self, transaction_id: int, status: str, by: str, note: str | None, at: datetime
    ) -> None:
        done = await self._pool.execute(
            """UPDATE billing_reviews SET status = $2, resolved_by = $3, note = $4,
                   resolved_at = $5
               WHERE transaction_id = $1 AND status = 'pending'""",
            transaction_id,
            status,
            by,
            note,
            at,
        )
        if done == "UPDATE 0":
            raise Conflict(f"transaction {transaction_id} has no pending review")

    # -- settlement ------------------------------------------------------------------------

    async def settlement(
        self,
        *,
        group: str,
        period: str,
        time_zone: str,
        since: datetime,
        until: datetime,
        scope: Scope | None = None,
    ) -> list[dict[str, Any]]:
        """Sums of CDRs (credits count negative) per period and group, by local stop time;
        only the records of stations in `scope` (None: all)."""
        column = GROUPS[group]
        if period not in PERIODS:
            raise ValueError(period)
        rows = await self._pool.fetch(
            f"""SELECT date_trunc('{period}', stopped_at AT TIME ZONE $1)::date AS period,
                       operator_id, {column} AS key,
                       count(*) FILTER (WHERE kind = 'bill') AS sessions,
                       count(*) FILTER (WHERE kind = 'credit') AS credits,
                       count(*) FILTER (WHERE kind = 'rebill') AS rebills,
                       sum(energy_wh)::bigint AS energy_wh,
                       sum(energy_money) AS energy_money, sum(service_money) AS service_money,
                       sum(idle_fee) AS idle_money, sum(session_fee) AS session_fees,
                       sum(total) AS total
                FROM cdrs WHERE stopped_at >= $2 AND stopped_at < $3
                  AND {station_in_scope("cdrs.station_id", 4, 5)}
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 NULLS LAST""",
            time_zone,
            since,
            until,
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    async def consistency(
        self, since: datetime, until: datetime, *, scope: Scope | None = None
    ) -> dict[str, Any]:
        """Checks independent of the statement's own sums: every CDR adds up (lines to money
        columns, columns to total, lines to energy), and every ended session in the range has
        a CDR or a review, or is a refused start that delivered nothing (never billed; counted
        apart, never as a session). Only records and sessions of stations in `scope`."""
        row: Any = await self._pool.fetchrow(
            f"""WITH c AS (
                   SELECT c.*, (SELECT COALESCE(sum((l ->> 'energy_money')::numeric), 0)
                                FROM jsonb_array_elements(c.lines) l) AS lines_energy,
                               (SELECT COALESCE(sum((l ->> 'service_money')::numeric), 0)
                                FROM jsonb_array_elements(c.lines) l) AS lines_service,
                               (SELECT COALESCE(sum((l ->> 'energy_wh')::bigint), 0)
                                FROM jsonb_array_elements(c.lines) l) AS lines_wh
                   FROM cdrs c WHERE c.stopped_at >= $1 AND c.stopped_at < $2
                     AND {station_in_scope("c.station_id", 3, 4)}
               )
               SELECT
                 (SELECT count(*) FROM c
                  WHERE total <> energy_money + service_money + idle_fee + session_fee
                     OR energy_money <> lines_energy OR service_money <> lines_service
                     OR energy_wh <> lines_wh) AS cdrs_not_adding_up,
                 (SELECT count(*) FROM transactions t
                  WHERE t.status = 'closed' AND t.stopped_at >= $1 AND t.stopped_at < $2
                    AND {station_in_scope("t.station_id", 3, 4)}
                    AND COALESCE(t.stop_reason, '') <> 'Superseded'
                    AND NOT EXISTS (SELECT 1 FROM cdrs x WHERE x.transaction_id = t.id)
                    AND NOT EXISTS (SELECT 1 FROM billing_reviews r
                                    WHERE r.transaction_id = t.id)
                    AND NOT {_REFUSED_DONE}) AS sessions_unaccounted,
                 (SELECT count(*) FROM transactions t
                  WHERE t.refused AND t.status = 'closed' AND t.stopped_at >= $1
                    AND t.stopped_at < $2
                    AND {station_in_scope("t.station_id", 3, 4)}) AS sessions_refused,
                 (SELECT count(*) FROM billing_reviews r JOIN transactions t
                    ON t.id = r.transaction_id
                  WHERE r.status = 'pending' AND t.stopped_at >= $1
                    AND t.stopped_at < $2
                    AND {station_in_scope("t.station_id", 3, 4)}) AS sessions_in_review""",
            since,
            until,
            *scope_args(scope),
        )
        return dict(row)

    async def totals(
        self, since: datetime, until: datetime, *, scope: Scope | None = None
    ) -> dict[str, Any]:
        """The plain sum of every CDR in the range (of stations in `scope`): what a settlement
        must reconcile to."""
        row = await self._pool.fetchrow(
            f"""SELECT count(*) AS records, COALESCE(sum(energy_wh), 0)::bigint AS energy_wh,
                       COALESCE(sum(total), 0) AS total
                FROM cdrs WHERE stopped_at >= $1 AND stopped_at < $2
                  AND {station_in_scope("cdrs.station_id", 3, 4)}""",
            since,
            until,
            *scope_args(scope),
        )
        assert row is not None
        return dict(row)


async def _append(conn: Any, record: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    operator = record["operator_id"]
    await conn.execute(
        """INSERT INTO cdr_chain_heads (operator_id, seq, hash) VALUES ($1, 0, '')
           ON CONFLICT (operator_id) DO NOTHING""",
        operator,
    )
    head = await conn.fetchrow(
        "SELECT seq, hash FROM cdr_chain_heads WHERE operator_id = $1 FOR UPDATE", operator
    )
    if record["kind"] == Kind.BILL.value:
        existing = await conn.fetchrow(
            f"SELECT {CDR_COLUMNS} FROM cdrs WHERE transaction_id = $1 AND kind = 'bill'",
            record["transaction_id"],
        )
        if existing is not None:
            return dict(existing), False
    elif record["kind"] in (Kind.CREDIT.value, Kind.REBILL.value):
        # Checked again under the head lock (a correction joins its original's chain), so
        # racing credits or re-bills of one record cannot both be filed.
        done = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM cdrs WHERE corrects = $1 AND kind = $2)",
            record["corrects"],
            record["kind"],
        )
        if done:
            verb = "credited" if record["kind"] == Kind.CREDIT.value else "re-billed"
            raise Conflict(f"CDR {record['corrects']} has already been {verb}")
    full = dict(record)
    full["seq"] = head["seq"] + 1
    full["prev_hash"] = head["hash"] or None
    full["hash"] = chain_hash(full)
    row = await conn.fetchrow(_INSERT, *(full[c] for c in _INSERT_COLUMNS))
    await conn.execute(
        "UPDATE cdr_chain_heads SET seq = $2, hash = $3 WHERE operator_id = $1",
        operator,
        full["seq"],
        full["hash"],
    )
    if record["kind"] != Kind.CREDIT.value:
        # monitoring platforms get the order in the transaction that files it; the stream lock
        # keeps the station's records in commit order
        await conn.execute(STREAM_LOCK, record["station_id"])
        await conn.execute(_PUSH_ORDER, row["id"])
    return dict(row), True


# The order as platform-neutral facts: the CDR (money as exact JSON numbers) and the stop reason.
_PUSH_ORDER = """INSERT INTO platform_outbox (platform_id, stream, kind, data, dedupe_key)
    SELECT p.id, c.station_id, 'charge_order',
        jsonb_build_object('cdr', to_jsonb(c) - 'detail' - 'reasons' - 'prev_hash' - 'hash',
                           'stop_reason', t.stop_reason)::text,
        'order:' || c.id
    FROM cdrs c
    JOIN stations s ON s.id = c.station_id AND s.access_mode <> 'private'
    LEFT JOIN transactions t ON t.id = c.transaction_id
    CROSS JOIN platforms p
    WHERE c.id = $1 AND 'charge_order' = ANY (p.kinds)
    ON CONFLICT (platform_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING"""
