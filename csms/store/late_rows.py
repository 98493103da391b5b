"""Late rows (an offline queue replayed days later) found by what is already written.

A row is late when it was written more than 20 hours after the moment it describes: a
transaction's updated_at against its start, a meter sample's received_at against its
sampled_at, a status's received_at against its status_at. Anything less late is recomputed
by the rollup's hourly catch-up of the last 26 hours. The predicates are those of the partial
indexes of csms/migrations/0009_late_data.sql (keep them identical, or the indexes go unused), so
the hot path pays a comparison per row and an index entry only for late ones.

Each scan looks at the rows written since the last one and marks the local days they touch
in utilization_dirty_days; the rollup takes those days from there. Callers hold the rollup
lock, so scans and rollups never interleave.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeAlias

    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]

# $1, $2: the write-time range (exclusive, inclusive); $3: the time zone of local days;
# $4: how far after its start a session is followed (the rollup looks no further), and how
# long a late status is taken to last.
_MARK_SQL = """
WITH late_tx AS (
    SELECT t.id FROM transactions t
    WHERE t.updated_at > $1 AND t.updated_at <= $2
      AND t.updated_at - t.started_at > interval '20 hours'
    UNION
    SELECT m.transaction_id FROM meter_samples m
    WHERE m.received_at > $1 AND m.received_at <= $2 AND m.transaction_id IS NOT NULL
      AND m.received_at - m.sampled_at > interval '20 hours'
),
spans AS (
    SELECT t.started_at AS t0,
           LEAST(COALESCE(t.stopped_at, t.updated_at), t.started_at + $4::interval) AS t1
    FROM late_tx l JOIN transactions t ON t.id = l.id
    WHERE NOT t.orphan AND t.started_at IS NOT NULL
    UNION ALL
    SELECT h.status_at, LEAST(h.received_at, h.status_at + $4::interval)
    FROM status_history h
    WHERE h.received_at > $1 AND h.received_at <= $2
      AND h.received_at - h.status_at > interval '20 hours'
),
days AS (
    SELECT DISTINCT d::date AS day
    FROM spans CROSS JOIN LATERAL generate_series(
        (t0 AT TIME ZONE $3)::date, (GREATEST(t0, t1) AT TIME ZONE $3)::date,
        interval '1 day') d
),
marked AS (
    INSERT INTO utilization_dirty_days (day, marked_at)
    SELECT day, $2 FROM days
    ON CONFLICT (day) DO NOTHING
    RETURNING 1
),
scanned AS (
    UPDATE utilization_late_scan SET scanned_to = $2 RETURNING 1
)
SELECT (SELECT count(*) FROM days) AS days, (SELECT count(*) FROM marked) AS marked,
       (SELECT count(*) FROM scanned) AS scanned
"""


async def mark_days(conn: Connection, until: datetime, zone: str, follow: timedelta) -> int:
    """Mark the local days of the late rows written since the last scan, up to `until`; how
    many days those rows touch (already marked ones included)."""
    since = await conn.fetchval("SELECT scanned_to FROM utilization_late_scan FOR UPDATE")
    if since is None:  # the row is the migration's; a database restored without it
        await conn.execute("INSERT INTO utilization_late_scan (scanned_to) VALUES ($1)", until)
        return 0
    if until <= since:
        return 0
    row = await conn.fetchrow(_MARK_SQL, since, until, zone, follow)
    assert row is not None
    return int(row["days"])


async def next_day(conn: Connection) -> date | None:
    """The dirty day marked first (then the earliest): every day gets its turn."""
    day: date | None = await conn.fetchval(
        "SELECT day FROM utilization_dirty_days ORDER BY marked_at, day LIMIT 1"
    )
    return day


async def clear_day(conn: Connection, day: date) -> None:
    await conn.execute("DELETE FROM utilization_dirty_days WHERE day = $1", day)
