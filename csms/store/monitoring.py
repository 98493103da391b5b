"""The network as the plan counts it (piles with their planning facts, places, sites, EVs),
and the monthly reports with every version filed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from csms.domain.scope import Scope
from csms.store.database import Pool
from csms.store.scope_sql import scope_args, station_in_scope

_REPORT_COLUMNS = "month, generated_at, generated_by, document, final, version, amended_at"


class MonitoringStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def piles(self) -> list[dict[str, Any]]:
        """Every station with its planning facts, connectors and fast charging; decommissioned
        ones too (the plan counted them on the days they were in service). Lockouts, which
        also decide the days a pile counts, are `lockout_periods`."""
        rows = await self._pool.fetch(
            """SELECT s.id, s.county, s.township, s.village, s.site_name, x.category,
                      s.latitude, s.longitude, s.access_mode, s.commissioned_on,
                      s.decommissioned_at,
                      s.connected, s.rated_power_kw,
                      COALESCE(e.connectors, c.evses, 1) AS connectors,
                      COALESCE(e.fast, false) AS fast
               FROM stations s
               LEFT JOIN sites x ON x.site_name = s.site_name
               LEFT JOIN LATERAL (
                   SELECT count(*)::int AS connectors, bool_or(current = 'DC') AS fast
                   FROM station_equipment q WHERE q.station_id = s.id
                   HAVING count(*) > 0
               ) e ON true
               LEFT JOIN LATERAL (
                   SELECT count(DISTINCT evse_id)::int AS evses FROM connectors k
                   WHERE k.station_id = s.id AND k.evse_id > 0 HAVING count(*) > 0
               ) c ON true
               WHERE s.admin_state <> 'blocked'
               ORDER BY s.id"""
        )
        return [dict(r) for r in rows]

    async def places(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT kind, name, county, township, latitude, longitude, small_car_spaces
               FROM places ORDER BY kind, county, name"""
        )
        return [dict(r) for r in rows]

    async def sites(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT site_name, category, parking_spaces FROM sites ORDER BY site_name"
        )
        return [dict(r) for r in rows]

    async def ev_counts(self, until: date) -> list[dict[str, Any]]:
        """Every EV registration count dated on or before `until` (county, as_of, evs): a
        year-end figure takes each county's latest count as of that year end."""
        rows = await self._pool.fetch(
            """SELECT county, as_of, evs FROM ev_registrations WHERE as_of <= $1
               ORDER BY county, as_of""",
            until,
        )
        return [dict(r) for r in rows]

    async def lockout_periods(self) -> list[dict[str, Any]]:
        """Every safety lockout, lifted or not (station_id, locked_at, lifted_at): a pile is
        counted on the days it was not under one."""
        rows = await self._pool.fetch(
            """SELECT station_id, locked_at, lifted_at FROM lockouts
               ORDER BY station_id, locked_at, id"""
        )
        return [dict(r) for r in rows]

    async def station_counts_as_of(self, day: date, end: datetime) -> dict[str, int]:
        """Stations in service at `end` (the end of local `day`): commissioned by `day` (no
        date: before the plan, as the progress engine reads it) and not decommissioned yet;
        of them, those with a WebSocket session open then, and those under a lockout then."""
        row = await self._pool.fetchrow(
            """SELECT count(*)::int AS stations,
                      count(*) FILTER (WHERE EXISTS (
                          SELECT 1 FROM station_connections c
                          WHERE c.station_id = s.id AND c.connected_at < $2
                            AND (c.disconnected_at IS NULL OR c.disconnected_at >= $2)
                      ))::int AS online,
                      count(*) FILTER (WHERE EXISTS (
                          SELECT 1 FROM lockouts l
                          WHERE l.station_id = s.id AND l.locked_at < $2
                            AND (l.lifted_at IS NULL OR l.lifted_at >= $2)
                      ))::int AS locked
               FROM stations s
               WHERE (s.commissioned_on IS NULL OR s.commissioned_on <= $1)
                 AND (s.decommissioned_at IS NULL OR s.decommissioned_at >= $2)""",
            day,
            end,
        )
        assert row is not None
        return {"stations": row["stations"], "online": row["online"], "locked": row["locked"]}

    async def station_states(self, scope: Scope | None = None) -> list[dict[str, Any]]:
        """Each station in service (in `scope`; None: all), with its live state for the map:
        online, charging, faulted, locked."""
        rows = await self._pool.fetch(
            f"""SELECT s.id, s.county, s.site_name, s.latitude, s.longitude, s.access_mode,
                      s.connected,
                      EXISTS (SELECT 1 FROM transactions t
                              WHERE t.station_id = s.id AND t.status = 'open'
                                AND NOT t.refused) AS charging,
                      EXISTS (SELECT 1 FROM connectors k
                              WHERE k.station_id = s.id AND k.status = 'Faulted') AS faulted,
                      EXISTS (SELECT 1 FROM lockouts l
                              WHERE l.station_id = s.id AND l.lifted_at IS NULL) AS locked
               FROM stations s WHERE s.decommissioned_at IS NULL
                 AND {station_in_scope("s.id", 1, 2)}
               ORDER BY s.id""",
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    # -- monthly reports -------------------------------------------------------------------

    async def save_report(
        self,
        month: str,
        by: str,
        document: dict[str, Any],
        html: str,
        csv: str,
        *,
        at: datetime,
        final: bool,
        after_version: int,
        changes: list[dict[str, Any]] | None = None,
    ) -> int | None:
        """File a version of a month's report, kept with every earlier one: the first
        (`after_version` 0) or the one after `after_version`. None when another version was
        filed meanwhile (another node's round). With `changes` it amends a final report."""
        amended = at if changes else None
        async with self._pool.acquire() as conn, conn.transaction():
            if after_version == 0:
                version = await conn.fetchval(
                    """INSERT INTO monthly_reports (month, generated_at, generated_by, document,
                           html, csv, final, version)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
                       ON CONFLICT (month) DO NOTHING RETURNING version""",
                    month,
                    at,
                    by,
                    document,
                    html,
                    csv,
                    final,
                )
            else:
                version = await conn.fetchval(
                    """UPDATE monthly_reports SET generated_at = $2, generated_by = $3,
                           document = $4, html = $5, csv = $6, final = $7,
                           version = version + 1, amended_at = COALESCE($9, amended_at)
                       WHERE month = $1 AND version = $8 RETURNING version""",
                    month,
                    at,
                    by,
                    document,
                    html,
                    csv,
                    final,
                    after_version,
                    amended,
                )
            if version is None:
                return None
            await conn.execute(
                """INSERT INTO monthly_report_versions (month, version, generated_at,
                       generated_by, final, amended_at, changes, document, html, csv)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
                month,
                version,
                at,
                by,
                final,
                amended,
                changes or None,
                document,
                html,
                csv,
            )
        return int(version)

    async def report(self, month: str) -> dict[str, Any] | None:
        """The current version of a month's report."""
        row = await self._pool.fetchrow(
            f"SELECT {_REPORT_COLUMNS}, html, csv FROM monthly_reports WHERE month = $1", month
        )
        return None if row is None else dict(row)

    async def reports(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT month, generated_at, generated_by, final, version, amended_at
               FROM monthly_reports ORDER BY month DESC"""
        )
        return [dict(r) for r in rows]

    async def report_versions(self, month: str) -> list[dict[str, Any]]:
        """Every version of a month's report, oldest first, without its text."""
        rows = await self._pool.fetch(
            """SELECT version, generated_at, generated_by, final, amended_at, changes
               FROM monthly_report_versions WHERE month = $1 ORDER BY version""",
            month,
        )
        return [dict(r) for r in rows]

    async def report_version(self, month: str, version: int) -> dict[str, Any] | None:
        row = await self._pool.fetchrow(
            """SELECT month, version, generated_at, generated_by, final, amended_at, changes,
                      document, html, csv
               FROM monthly_report_versions WHERE month = $1 AND version = $2""",
            month,
            version,
        )
        return None if row is None else dict(row)

    async def stale_reports(self) -> list[tuple[str, int]]:
        """Months whose final report may be out of date, with their mark count."""
        rows = await self._pool.fetch(
            "SELECT month, marks FROM monthly_report_stale ORDER BY month"
        )
        return [(r["month"], r["marks"]) for r in rows]

    async def clear_stale(self, month: str, marks: int) -> None:
        """Done with a stale month, unless it was marked again since `marks` was read."""
        await self._pool.execute(
            "DELETE FROM monthly_report_stale WHERE month = $1 AND marks = $2", month, marks
        )

    async def lockouts_between(self, since: Any, until: Any) -> list[dict[str, Any]]:
        """Lockouts in force at any time in [since, until), oldest first."""
        rows = await self._pool.fetch(
            """SELECT station_id, hazard, locked_by, locked_at, rectification, lifted_by,
                      lifted_at
               FROM lockouts
               WHERE locked_at < $2 AND (lifted_at IS NULL OR lifted_at >= $1)
               ORDER BY locked_at, id""",
            since,
            until,
        )
        return [dict(r) for r in rows]
