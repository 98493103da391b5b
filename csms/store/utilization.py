"""Utilization rollups (hourly and daily rows recomputed from the raw history) and their queries.

Each hourly row of (station, EVSE, UTC hour) holds:
- sessions / counted_sessions: sessions that started in the hour; counted = longer than 2 min
  and more than 0.5 kWh (energy = the register's rise over the session, meter start to stop);
- busy_seconds: time a session was in progress (open sessions up to now; capped at 3600);
- energy_wh: energy apportioned to the hour by the session's register readings (start, every
  Energy.Active.Import.Register sample, stop), linearly between consecutive readings, so
  with only a start and a stop reading it is apportioned by time;
- online_seconds: on EVSE 0 only, the time the station was connected (its WebSocket sessions);
- fault_seconds: time a connector of the EVSE was Faulted; a station-wide Faulted (1.6
  connector 0) counts for every EVSE of the station, and is also kept on EVSE 0 for reference.
Sessions whose EVSE is unknown are kept on EVSE 0; refused starts are no sessions at all. Daily
rows are the sums of the hourly rows over local days (CSMS time zone). Recomputing a window
gives the same rows (upsert, and rows left without data are deleted), so the job can run any
number of times, on any node. Rows delivered days late mark the days they touch
(late_rows.py), which the maintenance round rolls up again; a daily row that changes in a
month whose final report was filed marks that report stale.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from csms import metrics
from csms.clock import monotonic
from csms.domain.scope import Scope
from csms.monitoring.utilization import (
    COUNTED_MIN_SECONDS,
    COUNTED_MIN_WH,
    HOUR,
    Granularity,
    Grouping,
    days_touched,
    floor_hour,
    local_midnight,
    rollup_window,
)
from csms.store import late_rows
from csms.store.database import Pool
from csms.store.scope_sql import scope_args, station_in_scope

if TYPE_CHECKING:
    from typing import TypeAlias

    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]

_ROLLUP_LOCK = 0x0C5B5_0007  # pg_advisory_xact_lock key: one rollup at a time across nodes
# Sessions that started this long before a window are still looked at (open ones always are).
LOOKBACK = timedelta(hours=48)
RECENT_HOURS = 2  # what every maintenance round recomputes
CATCH_UP_HOURS = 26  # what the first round of each hour recomputes: offline queues arrive late
# Older late rows (late_rows.py) mark their days, rolled up again a few a round. Rows are
# looked for once they are SETTLE old: a row stamped with its write time may commit later.
LATE_DAYS_PER_ROUND = 7
SETTLE = timedelta(minutes=5)

_HOURLY_SQL = """
WITH hours AS (
    SELECT generate_series($1::timestamptz, $2::timestamptz - interval '1 hour',
                           interval '1 hour') AS hour
),
tx AS (
    SELECT * FROM (
        SELECT t.id, t.station_id, COALESCE(t.evse_id, 0) AS evse_id, t.started_at,
               GREATEST(t.started_at, LEAST($3::timestamptz, COALESCE(t.stopped_at,
                   CASE WHEN t.status = 'open' THEN $3::timestamptz ELSE t.updated_at END)))
                   AS ended_at,
               t.meter_start_wh, t.meter_stop_wh
        FROM transactions t
        -- a refused start is kept, never counted (0008): not a session, no busy time or energy
        WHERE NOT t.orphan AND NOT t.refused AND t.started_at IS NOT NULL AND t.started_at < $2
          AND (t.started_at >= $1::timestamptz - $4::interval OR t.status = 'open')
    ) candidates
    WHERE ended_at > $1 OR started_at >= $1
),
points AS (
    SELECT id, started_at AS at, meter_start_wh AS wh FROM tx WHERE meter_start_wh IS NOT NULL
    UNION ALL
    -- LATERAL: one index probe per session, never a scan of every sample
    SELECT tx.id, LEAST(GREATEST(ms.sampled_at, tx.started_at), tx.ended_at), ms.wh
    FROM tx CROSS JOIN LATERAL (
        SELECT m.sampled_at,
               round(CASE m.unit WHEN 'kWh' THEN m.value * 1000 ELSE m.value END)::bigint AS wh
        FROM meter_samples m
        WHERE m.transaction_id = tx.id AND m.measurand = 'Energy.Active.Import.Register'
          AND m.phase = '' AND m.location IN ('', 'Outlet') AND m.unit IN ('', 'Wh', 'kWh')
          AND m.value IS NOT NULL
        OFFSET 0  -- keeps the subquery from being flattened into a join over every sample
    ) ms
    UNION ALL
    SELECT id, ended_at, meter_stop_wh FROM tx WHERE meter_stop_wh IS NOT NULL
),
segments AS (
    SELECT id, lag(at) OVER w AS t0, at AS t1, wh - lag(wh) OVER w AS wh
    FROM points WINDOW w AS (PARTITION BY id ORDER BY at, wh)
),
tx_energy AS (
    SELECT id, sum(wh) AS wh FROM segments WHERE wh > 0 GROUP BY id
),
energy AS (
    SELECT tx.station_id, tx.evse_id, h.hour,
           sum(CASE WHEN s.t1 = s.t0 THEN s.wh
                    ELSE s.wh * extract(epoch FROM LEAST(s.t1, h.hour + interval '1 hour')
                                                   - GREATEST(s.t0, h.hour))
                         / extract(epoch FROM s.t1 - s.t0) END) AS wh
    FROM segments s
    JOIN tx ON tx.id = s.id
    JOIN hours h ON s.t0 < h.hour + interval '1 hour'
                AND (h.hour < s.t1 OR s.t1 = s.t0 AND h.hour <= s.t0)
    WHERE s.wh > 0
    GROUP BY 1, 2, 3
),
busy AS (
    SELECT tx.station_id, tx.evse_id, h.hour,
           LEAST(3600, sum(extract(epoch FROM LEAST(tx.ended_at, h.hour + interval '1 hour')
                                              - GREATEST(tx.started_at, h.hour)))) AS seconds
    FROM tx JOIN hours h ON tx.started_at < h.hour + interval '1 hour' AND tx.ended_at > h.hour
    GROUP BY 1, 2, 3
),
starts AS (
    SELECT tx.station_id, tx.evse_id, date_trunc('hour', tx.started_at, 'UTC') AS hour,
           count(*) AS sessions,
           count(*) FILTER (WHERE extract(epoch FROM tx.ended_at - tx.started_at) > $5
                              AND COALESCE(e.wh, 0) > $6) AS counted
    FROM tx LEFT JOIN tx_energy e ON e.id = tx.id
    WHERE tx.started_at >= $1 AND tx.started_at < $2
    GROUP BY 1, 2, 3
),
online AS (
    SELECT c.station_id, 0 AS evse_id, h.hour,
           LEAST(3600, sum(extract(epoch FROM
               LEAST(COALESCE(c.disconnected_at, $3::timestamptz), $3::timestamptz,
                     h.hour + interval '1 hour')
               - GREATEST(c.connected_at, h.hour)))) AS seconds
    FROM station_connections c
    JOIN hours h ON c.connected_at < h.hour + interval '1 hour'
                AND LEAST(COALESCE(c.disconnected_at, $3::timestamptz), $3::timestamptz) > h.hour
    WHERE c.connected_at < $2 AND (c.disconnected_at IS NULL OR c.disconnected_at > $1)
    GROUP BY 1, 2, 3
),
status_rows AS (
    SELECT h.station_id, h.evse_id, h.connector_id, h.status, h.status_at AS at, h.id
    FROM status_history h WHERE h.status_at >= $1 AND h.status_at < $2
    UNION ALL
    -- the status in force when the window opens, where it is a fault
    SELECT k.station_id, k.evse_id, k.connector_id, p.status, $1::timestamptz, p.id
    FROM connectors k
    JOIN LATERAL (
        SELECT h.status, h.id FROM status_history h
        WHERE h.station_id = k.station_id AND h.evse_id = k.evse_id
          AND h.connector_id = k.connector_id AND h.status_at < $1
        ORDER BY h.status_at DESC, h.id DESC LIMIT 1
    ) p ON p.status = 'Faulted'
),
fault_spans AS (
    SELECT station_id, evse_id, status, at AS t0,
           LEAST(COALESCE(lead(at) OVER (PARTITION BY station_id, evse_id, connector_id
                                         ORDER BY at, id), $2::timestamptz),
                 $2::timestamptz, $3::timestamptz) AS t1
    FROM status_rows
),
fault_own AS (
    SELECT f.station_id, f.evse_id, h.hour,
           LEAST(3600, sum(extract(epoch FROM LEAST(f.t1, h.hour + interval '1 hour')
                                              - GREATEST(f.t0, h.hour)))) AS seconds
    FROM fault_spans f JOIN hours h ON f.t0 < h.hour + interval '1 hour' AND f.t1 > h.hour
    WHERE f.status = 'Faulted' AND f.t1 > f.t0
    GROUP BY 1, 2, 3
),
evses AS (
    SELECT DISTINCT station_id, evse_id FROM connectors WHERE evse_id > 0
),
fault AS (
    SELECT station_id, evse_id, hour, seconds FROM fault_own WHERE evse_id = 0
    UNION ALL
    SELECT e.station_id, e.evse_id, s.hour, LEAST(3600, s.seconds + COALESCE(o.seconds, 0))
    FROM fault_own s
    JOIN evses e ON e.station_id = s.station_id
    LEFT JOIN fault_own o
      ON o.station_id = e.station_id AND o.evse_id = e.evse_id AND o.hour = s.hour
    WHERE s.evse_id = 0
    UNION ALL
    SELECT o.station_id, o.evse_id, o.hour, o.seconds FROM fault_own o
    WHERE o.evse_id > 0 AND NOT EXISTS (
        SELECT 1 FROM fault_own s
        WHERE s.station_id = o.station_id AND s.evse_id = 0 AND s.hour = o.hour)
),
computed AS (
    SELECT station_id, evse_id, hour,
           sum(sessions)::integer AS sessions, sum(counted)::integer AS counted_sessions,
           sum(busy)::double precision AS busy_seconds, round(sum(energy))::bigint AS energy_wh,
           sum(online)::double precision AS online_seconds,
           sum(fault)::double precision AS fault_seconds
    FROM (
        SELECT station_id, evse_id, hour, sessions, counted,
               0::numeric AS busy, 0::numeric AS energy, 0::numeric AS online,
               0::numeric AS fault
        FROM starts
        UNION ALL SELECT station_id, evse_id, hour, 0, 0, seconds, 0, 0, 0 FROM busy
        UNION ALL SELECT station_id, evse_id, hour, 0, 0, 0, wh, 0, 0 FROM energy
        UNION ALL SELECT station_id, evse_id, hour, 0, 0, 0, 0, seconds, 0 FROM online
        UNION ALL SELECT station_id, evse_id, hour, 0, 0, 0, 0, 0, seconds FROM fault
    ) parts
    GROUP BY 1, 2, 3
    HAVING sum(sessions) > 0 OR sum(busy) > 0 OR round(sum(energy)) > 0 OR sum(online) > 0
        OR sum(fault) > 0
),
upserted AS (
    INSERT INTO utilization_hourly AS u (station_id, evse_id, hour, sessions, counted_sessions,
        busy_seconds, energy_wh, online_seconds, fault_seconds)
    SELECT station_id, evse_id, hour, sessions, counted_sessions, busy_seconds, energy_wh,
           online_seconds, fault_seconds
    FROM computed
    ON CONFLICT (station_id, evse_id, hour) DO UPDATE SET
        sessions = EXCLUDED.sessions, counted_sessions = EXCLUDED.counted_sessions,
        busy_seconds = EXCLUDED.busy_seconds, energy_wh = EXCLUDED.energy_wh,
        online_seconds = EXCLUDED.online_seconds, fault_seconds = EXCLUDED.fault_seconds
    WHERE (u.sessions, u.counted_sessions, u.busy_seconds, u.energy_wh, u.online_seconds,
           u.fault_seconds)
          IS DISTINCT FROM (EXCLUDED.sessions, EXCLUDED.counted_sessions, EXCLUDED.busy_seconds,
                            EXCLUDED.energy_wh, EXCLUDED.online_seconds, EXCLUDED.fault_seconds)
    RETURNING 1
),
deleted AS (
    DELETE FROM utilization_hourly u
    WHERE u.hour >= $1 AND u.hour < $2 AND NOT EXISTS (
        SELECT 1 FROM computed c
        WHERE c.station_id = u.station_id AND c.evse_id = u.evse_id AND c.hour = u.hour)
    RETURNING 1
)
SELECT (SELECT count(*) FROM computed) AS computed,
       (SELECT count(*) FROM upserted) AS changed,
       (SELECT count(*) FROM deleted) AS deleted
"""

_DAILY_SQL = """
WITH computed AS (
    SELECT station_id, evse_id, (hour AT TIME ZONE $3)::date AS day,
           sum(sessions)::integer AS sessions, sum(counted_sessions)::integer AS counted_sessions,
           sum(busy_seconds) AS busy_seconds, sum(energy_wh)::bigint AS energy_wh,
           sum(online_seconds) AS online_seconds, sum(fault_seconds) AS fault_seconds
    FROM utilization_hourly
    WHERE hour >= $1 AND hour < $2
    GROUP BY 1, 2, 3
),
upserted AS (
    INSERT INTO utilization_daily AS d (station_id, evse_id, day, sessions, counted_sessions,
        busy_seconds, energy_wh, online_seconds, fault_seconds)
    SELECT station_id, evse_id, day, sessions, counted_sessions, busy_seconds, energy_wh,
           online_seconds, fault_seconds
    FROM computed
    ON CONFLICT (station_id, evse_id, day) DO UPDATE SET
        sessions = EXCLUDED.sessions, counted_sessions = EXCLUDED.counted_sessions,
        busy_seconds = EXCLUDED.busy_seconds, energy_wh = EXCLUDED.energy_wh,
        online_seconds = EXCLUDED.online_seconds, fault_seconds = EXCLUDED.fault_seconds
    WHERE (d.sessions, d.counted_sessions, d.busy_seconds, d.energy_wh, d.online_seconds,
           d.fault_seconds)
          IS DISTINCT FROM (EXCLUDED.sessions, EXCLUDED.counted_sessions, EXCLUDED.busy_seconds,
                            EXCLUDED.energy_wh, EXCLUDED.online_seconds, EXCLUDED.fault_seconds)
    RETURNING d.day
),
deleted AS (
    DELETE FROM utilization_daily d
    WHERE d.day >= $4 AND d.day <= $5 AND NOT EXISTS (
        SELECT 1 FROM computed c
        WHERE c.station_id = d.station_id AND c.evse_id = d.evse_id AND c.day = d.day)
    RETURNING d.day
),
-- a month whose final report was filed and whose figures just changed: the report is stale
stale AS (
    INSERT INTO monthly_report_stale AS s (month)
    SELECT DISTINCT r.month
    FROM (SELECT day FROM upserted UNION SELECT day FROM deleted) c
    JOIN monthly_reports r ON r.month = to_char(c.day, 'YYYY-MM') AND r.final
    ON CONFLICT (month) DO UPDATE SET marks = s.marks + 1
    RETURNING 1
)
SELECT (SELECT count(*) FROM computed) AS computed,
       (SELECT count(*) FROM upserted) AS changed,
       (SELECT count(*) FROM deleted) AS deleted,
       (SELECT count(*) FROM stale) AS stale
"""

# What each station could do: its connectors and rated power, from the registered equipment
# (station_equipment) when there is any, else from what it reported and stations.rated_power_kw.
# A station decommissioned before $1 had no capacity in the range and is left out.
_FACTS_SQL = """
SELECT s.id, s.county, si.category, s.rated_power_kw,
       eq.nos AS equipment_nos, eq.powers AS equipment_kw, cn.evses
FROM stations s
LEFT JOIN sites si ON si.site_name = s.site_name
LEFT JOIN (
    SELECT station_id, array_agg(connector_no ORDER BY connector_no) AS nos,
           array_agg(power_kw ORDER BY connector_no) AS powers
    FROM station_equipment GROUP BY station_id
) eq ON eq.station_id = s.id
LEFT JOIN (
    SELECT station_id, array_agg(DISTINCT evse_id ORDER BY evse_id) AS evses
    FROM connectors WHERE evse_id > 0 GROUP BY station_id
) cn ON cn.station_id = s.id
WHERE (s.decommissioned_at IS NULL OR s.decommissioned_at >= $1)
  AND {scope}
ORDER BY s.id
"""

_SUMS_SQL = """
WITH f AS (
    SELECT s.id, s.county, si.category,
           (s.rated_power_kw IS NOT NULL
            OR EXISTS (SELECT 1 FROM station_equipment e WHERE e.station_id = s.id)) AS rated
    FROM stations s LEFT JOIN sites si ON si.site_name = s.site_name
)
SELECT {key} AS key, {evse} AS evse_id, {bucket} AS bucket,
       sum(u.sessions)::bigint AS sessions, sum(u.counted_sessions)::bigint AS counted_sessions,
       sum(u.busy_seconds) AS busy_seconds, sum(u.energy_wh)::bigint AS energy_wh,
       COALESCE(sum(u.energy_wh) FILTER (WHERE f.rated), 0)::bigint AS rated_energy_wh,
       COALESCE(sum(u.online_seconds) FILTER (WHERE u.evse_id = 0), 0) AS online_seconds,
       COALESCE(sum(u.fault_seconds) FILTER (WHERE u.evse_id > 0), 0) AS fault_seconds
FROM {table} u JOIN f ON f.id = u.station_id
WHERE {range} AND {scope}
GROUP BY 1, 2, 3
"""
_KEYS = {
    Grouping.CONNECTOR: ("u.station_id", "u.evse_id"),
    Grouping.STATION: ("u.station_id", "0"),
    Grouping.COUNTY: ("f.county", "0"),
    Grouping.CATEGORY: ("f.category", "0"),
}


@dataclass(frozen=True, slots=True)
class RollupResult:
    hours: int  # hourly rows computed
    changed: int  # hourly rows written because they changed
    deleted: int  # hourly rows left without data
    days: int  # daily rows computed
    late_days: int = 0  # local days rolled up again because late rows touched them

    def __add__(self, other: RollupResult) -> RollupResult:
        return RollupResult(
            self.hours + other.hours,
            self.changed + other.changed,
            self.deleted + other.deleted,
            self.days + other.days,
            self.late_days + other.late_days,
        )


NOTHING = RollupResult(0, 0, 0, 0)


class UtilizationStore:
    def __init__(self, pool: Pool, *, time_zone: str = "Asia/Shanghai") -> None:
        self._pool = pool
        self.zone = ZoneInfo(time_zone)
        self._caught_up: datetime | None = None  # the hour of the last catch-up

    async def maintain(self, now: datetime) -> RollupResult | None:
        """The maintenance round (every minute): recompute the last 2 hours, or the last 26
        in the first round of an hour (sessions, samples and statuses an offline station
        delivers late); then the local days that rows written later still touched (an
        offline queue replayed days later), whatever their age. None when another node's
        rollup is running."""
        hour = floor_hour(now)
        hours = RECENT_HOURS if self._caught_up == hour else CATCH_UP_HOURS
        since, until = rollup_window(now, hours)
        started = monotonic()
        done = await self.rollup(since, until, now=now, wait=False)
        metrics.UTILIZATION_ROLLUP_SECONDS.observe(monotonic() - started)
        if done is None:
            return None
        if hours == CATCH_UP_HOURS:
            self._caught_up = hour
        return replace(done, late_days=await self.roll_late(now))

    async def roll_late(self, now: datetime, most: int = LATE_DAYS_PER_ROUND) -> int:
        """Mark the days of late rows written up to SETTLE before `now`, then roll up again
        at most `most` marked days, each in its own transaction; the days rolled. Another
        node's rollup in progress ends the round (the days stay marked for the next)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _ROLLUP_LOCK):
                return 0
            await late_rows.mark_days(conn, now - SETTLE, self.zone.key, LOOKBACK)
        rolled = 0
        while rolled < most:
            async with self._pool.acquire() as conn, conn.transaction():
                if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _ROLLUP_LOCK):
                    break
                day = await late_rows.next_day(conn)
                if day is None:
                    break
                end = local_midnight(day + timedelta(days=1), self.zone)
                await self._rollup_in(conn, local_midnight(day, self.zone), end, now)
                await late_rows.clear_day(conn, day)
            rolled += 1
        metrics.UTILIZATION_LATE_DAYS.inc(rolled)
        return rolled

    async def rollup(
        self, since: datetime, until: datetime, *, now: datetime, wait: bool = True
    ) -> RollupResult | None:
        """Recompute the hourly rows of every UTC hour touching [since, until) and the daily
        rows of the local days those hours fall in. Another node's rollup in progress makes
        this one wait (`wait`) or skip it (None)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if wait:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _ROLLUP_LOCK)
            elif not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _ROLLUP_LOCK):
                return None
            return await self._rollup_in(conn, since, until, now)

    async def _rollup_in(
        self, conn: Connection, since: datetime, until: datetime, now: datetime
    ) -> RollupResult:
        start = floor_hour(since)
        end = floor_hour(until)
        if end < until:
            end += HOUR
        if end <= start:
            return NOTHING
        first, last = days_touched(start, end, self.zone)
        hourly = await conn.fetchrow(
            _HOURLY_SQL,
            start,
            end,
            now,
            LOOKBACK,
            COUNTED_MIN_SECONDS,
            COUNTED_MIN_WH,
        )
        assert hourly is not None
        days = await self._days(conn, first, last)
        return RollupResult(
            int(hourly["computed"]), int(hourly["changed"]), int(hourly["deleted"]), days
        )

    async def rollup_days(self, first: date, last: date) -> int:
        """Recompute the daily rows of the local days first..last from the hourly rows (after
        hourly rows were loaded by other means, or the time zone changed); rows computed."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _ROLLUP_LOCK)
            return await self._days(conn, first, last)

    async def _days(self, conn: Connection, first: date, last: date) -> int:
        """Daily rows of first..last from the hourly rows; a final monthly report whose
        month's rows changed is marked stale (the report service amends it)."""
        daily = await conn.fetchrow(
            _DAILY_SQL,
            local_midnight(first, self.zone),
            local_midnight(last + timedelta(days=1), self.zone),
            self.zone.key,
            first,
            last,
        )
        assert daily is not None
        return int(daily["computed"])

    async def station_facts(self, since: date, scope: Scope | None = None) -> list[dict[str, Any]]:
        """The county, site category, registered equipment and reported EVSEs of every station
        in service on some day from `since` (a local day) on, in `scope` (None: all)."""
        rows = await self._pool.fetch(
            _FACTS_SQL.format(scope=station_in_scope("s.id", 2, 3)),
            local_midnight(since, self.zone),
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    def _sums_query(
        self,
        grouping: Grouping,
        granularity: Granularity,
        since: date,
        until: date,
        scope: Scope | None = None,
    ) -> tuple[str, tuple[Any, ...]]:
        key, evse = _KEYS[grouping]
        if granularity is Granularity.HOUR:
            table, bucket, where = "utilization_hourly", "u.hour", "u.hour >= $1 AND u.hour < $2"
            args: tuple[Any, ...] = (
                local_midnight(since, self.zone),
                local_midnight(until + timedelta(days=1), self.zone),
            )
        else:
            table, where = "utilization_daily", "u.day >= $1 AND u.day <= $2"
            bucket = "u.day" if granularity is Granularity.DAY else "NULL::date"
            args = (since, until)
        sql = _SUMS_SQL.format(
            key=key,
            evse=evse,
            bucket=bucket,
            table=table,
            range=where,
            scope=station_in_scope("u.station_id", 3, 4),
        )
        return sql, (*args, *scope_args(scope))

    async def sums(
        self,
        grouping: Grouping,
        granularity: Granularity,
        since: date,
        until: date,
        scope: Scope | None = None,
    ) -> list[dict[str, Any]]:
        """Sums per group (key, evse_id) and bucket over the local days since..until, of the
        stations in `scope` (None: all)."""
        sql, args = self._sums_query(grouping, granularity, since, until, scope)
        rows = await self._pool.fetch(sql, *args)
        return [dict(r) for r in rows]

    async def explain_sums(
        self, grouping: Grouping, granularity: Granularity, since: date, until: date
    ) -> str:
        """The query plan of `sums` (for benchmarks and checks)."""
        sql, args = self._sums_query(grouping, granularity, since, until)
        rows = await self._pool.fetch("EXPLAIN " + sql, *args)
        return "\n".join(r[0] for r in rows)

    async def live(self, power_since: datetime, scope: Scope | None = None) -> dict[str, Any]:
        """The network now (the stations in `scope`; None: all): stations, connector
        statuses, open sessions, power, lockouts."""
        counties, unit = scope_args(scope)
        async with self._pool.acquire() as conn:
            stations = await conn.fetchrow(
                f"""SELECT count(*) AS total, count(*) FILTER (WHERE connected) AS online
                    FROM stations WHERE decommissioned_at IS NULL
                      AND {station_in_scope("stations.id", 1, 2)}""",
                counties,
                unit,
            )
            statuses = await conn.fetch(
                f"""SELECT status, count(*) AS n FROM connectors WHERE evse_id > 0
                      AND {station_in_scope("connectors.station_id", 1, 2)}
                    GROUP BY status ORDER BY status""",
                counties,
                unit,
            )
            sessions = await conn.fetchrow(
                f"""SELECT count(*) AS open_sessions, count(p.w) AS reporting,
                          sum(p.w) AS watts
                   FROM transactions t
                   LEFT JOIN LATERAL (
                       SELECT CASE m.unit WHEN 'kW' THEN m.value * 1000 ELSE m.value END AS w
                       FROM meter_samples m
                       WHERE m.station_id = t.station_id AND m.evse_id = t.evse_id
                         AND m.sampled_at >= GREATEST($1, t.started_at)
                         AND m.measurand = 'Power.Active.Import' AND m.phase = ''
                         AND m.unit IN ('', 'W', 'kW') AND m.value IS NOT NULL
                       ORDER BY m.sampled_at DESC LIMIT 1
                   ) p ON true
                   WHERE t.status = 'open' AND NOT t.refused
                     AND {station_in_scope("t.station_id", 2, 3)}""",
                power_since,
                counties,
                unit,
            )
            locked: int = await conn.fetchval(
                f"""SELECT count(*) FROM lockouts WHERE lifted_at IS NULL
                      AND {station_in_scope("lockouts.station_id", 1, 2)}""",
                counties,
                unit,
            )
        assert stations is not None and sessions is not None
        watts: Decimal | None = sessions["watts"]
        return {
            "stations": {
                "total": stations["total"],
                "online": stations["online"],
                "offline": stations["total"] - stations["online"],
                "locked": locked,
            },
            "connectors": {r["status"]: r["n"] for r in statuses},
            "open_sessions": sessions["open_sessions"],
            "sessions_reporting_power": sessions["reporting"],
            "power_w": watts,
        }
