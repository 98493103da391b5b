"""Owner units, members, opening schedules, the holiday calendar and the access decision log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from csms.domain.scope import Scope
from csms.errors import Conflict, NotFound
from csms.store.database import Pool
from csms.store.scope_sql import scope_args, station_in_scope, unit_in_scope

UNIT_COLUMNS = """unit_id, name, kind, county, close_policy, close_grace_minutes, close_message,
    opened_on, created_at, updated_at"""
UNIT_FIELDS = (
    "name",
    "kind",
    "county",
    "close_policy",
    "close_grace_minutes",
    "close_message",
    "opened_on",
)
SCHEDULE_COLUMNS = """id, unit_id, station_id, time_zone, effective_from, effective_to, windows,
    exceptions, holidays_open, workday_pattern, created_by, created_at"""


class SharingStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    # -- units -----------------------------------------------------------------------------

    async def create_unit(
        self, unit_id: str, fields: dict[str, Any], members: Sequence[tuple[str, str]]
    ) -> dict[str, Any]:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"""INSERT INTO units (unit_id, {", ".join(UNIT_FIELDS)})
                    VALUES ($1, {", ".join(f"${i + 2}" for i in range(len(UNIT_FIELDS)))})
                    ON CONFLICT (unit_id) DO NOTHING RETURNING {UNIT_COLUMNS}""",
                unit_id,
                *(fields.get(name) for name in UNIT_FIELDS),
            )
            if row is None:
                raise Conflict(f"unit {unit_id!r} already exists")
            await conn.executemany(
                "INSERT INTO unit_members (unit_id, kind, value) VALUES ($1, $2, $3)",
                [(unit_id, kind, value) for kind, value in sorted(set(members))],
            )
        return dict(row)

    async def update_unit(self, unit_id: str, fields: dict[str, Any]) -> None:
        unknown = set(fields) - set(UNIT_FIELDS)
        if unknown:
            raise ValueError(f"not unit fields: {sorted(unknown)}")
        if not fields:
            await self.unit(unit_id)
            return
        names = list(fields)
        status = await self._pool.execute(
            f"""UPDATE units SET {", ".join(f"{n} = ${i + 2}" for i, n in enumerate(names))},
                    updated_at = now() WHERE unit_id = $1""",
            unit_id,
            *(fields[n] for n in names),
        )
        if status == "UPDATE 0":
            raise NotFound(f"unit {unit_id!r} does not exist")

    async def set_members(self, unit_id: str, members: Sequence[tuple[str, str]]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval(
                "SELECT true FROM units WHERE unit_id = $1 FOR UPDATE", unit_id
            ):
                raise NotFound(f"unit {unit_id!r} does not exist")
            await conn.execute("DELETE FROM unit_members WHERE unit_id = $1", unit_id)
            await conn.executemany(
                "INSERT INTO unit_members (unit_id, kind, value) VALUES ($1, $2, $3)",
                [(unit_id, kind, value) for kind, value in sorted(set(members))],
            )

    async def unit(self, unit_id: str, *, scope: Scope | None = None) -> dict[str, Any]:
        """The unit; NotFound when it does not exist or is outside `scope` (None: anywhere)."""
        row = await self._pool.fetchrow(
            f"""SELECT {UNIT_COLUMNS} FROM units
                WHERE unit_id = $1 AND {unit_in_scope("units", 2, 3)}""",
            unit_id,
            *scope_args(scope),
        )
        if row is None:
            raise NotFound(f"unit {unit_id!r} does not exist")
        return dict(row)

    async def units(self, *, scope: Scope | None = None) -> list[dict[str, Any]]:
        """Every unit, or those in `scope`."""
        rows = await self._pool.fetch(
            f"""SELECT {UNIT_COLUMNS} FROM units WHERE {unit_in_scope("units", 1, 2)}
                ORDER BY unit_id""",
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    async def members(self, unit_id: str) -> list[tuple[str, str]]:
        rows = await self._pool.fetch(
            "SELECT kind, value FROM unit_members WHERE unit_id = $1 ORDER BY kind, value", unit_id
        )
        return [(r["kind"], r["value"]) for r in rows]

    async def member_tokens(self, unit_id: str) -> list[dict[str, Any]]:
        """Every live id token that makes someone a member: listed ones and those of listed
        groups (a deleted token is in no local list)."""
        rows = await self._pool.fetch(
            """SELECT t.id_token, t.token_type, t.group_id, t.expires_at, t.blocked
               FROM id_tokens t
               WHERE t.deleted_at IS NULL
                 AND EXISTS (SELECT 1 FROM unit_members m WHERE m.unit_id = $1
                   AND ((m.kind = 'token' AND m.value = t.id_token)
                     OR (m.kind = 'group' AND m.value = t.group_id)))
               ORDER BY t.id_token""",
            unit_id,
        )
        return [dict(r) for r in rows]

    async def stations_listing(self, id_token: str, group_id: str | None) -> list[str]:
        """Non-public stations whose local list names this token (as a member, or through its
        group): the ones to send a new list when it is deleted."""
        rows = await self._pool.fetch(
            """SELECT DISTINCT s.id FROM stations s
               JOIN unit_members m ON m.unit_id = s.owner_unit
               WHERE s.access_mode <> 'public'
                 AND ((m.kind = 'token' AND m.value = $1)
                   OR (m.kind = 'group' AND m.value = $2::text))
               ORDER BY s.id""",
            id_token,
            group_id,
        )
        return [r["id"] for r in rows]

    async def unit_stations(
        self, unit_id: str, *, scope: Scope | None = None
    ) -> list[dict[str, Any]]:
        """The unit's stations (those in `scope`; None: all)."""
        rows = await self._pool.fetch(
            f"""SELECT id, access_mode, connected, ocpp_version FROM stations
                WHERE owner_unit = $1 AND {station_in_scope("stations.id", 2, 3)}
                ORDER BY id""",
            unit_id,
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    # -- stations --------------------------------------------------------------------------

    async def special_stations(self) -> list[str]:
        """Stations the sharing rules concern: not public, or owned by a unit (members may pay
        another price there)."""
        rows = await self._pool.fetch(
            "SELECT id FROM stations WHERE access_mode <> 'public' OR owner_unit IS NOT NULL"
        )
        return [r["id"] for r in rows]

    async def restricted_stations(self) -> list[str]:
        """Stations that are not public: the only ones a boot must configure."""
        rows = await self._pool.fetch("SELECT id FROM stations WHERE access_mode <> 'public'")
        return [r["id"] for r in rows]

    async def station_profile(self, station_id: str) -> dict[str, Any] | None:
        """A station's access mode and owner unit (with its close policy), if it exists."""
        row = await self._pool.fetchrow(
            """SELECT s.id, s.access_mode, s.owner_unit, s.ocpp_version, s.connected,
                      u.unit_id, u.name AS unit_name, u.close_policy, u.close_grace_minutes,
                      u.close_message
               FROM stations s LEFT JOIN units u ON u.unit_id = s.owner_unit
               WHERE s.id = $1""",
            station_id,
        )
        return None if row is None else dict(row)

    async def set_access(self, station_id: str, unit_id: str | None, mode: str) -> None:
        status = await self._pool.execute(
            """UPDATE stations SET owner_unit = $2, access_mode = $3, updated_at = now()
               WHERE id = $1""",
            station_id,
            unit_id,
            mode,
        )
        if status == "UPDATE 0":
            raise NotFound(f"station {station_id} does not exist")

    async def is_member(self, unit_id: str, id_token: str | None, group_id: str | None) -> bool:
        return bool(
            await self._pool.fetchval(
                """SELECT EXISTS (SELECT 1 FROM unit_members WHERE unit_id = $1
                       AND ((kind = 'token' AND value = $2) OR (kind = 'group' AND value = $3)))""",
                unit_id,
                id_token,
                group_id,
            )
        )

    # -- schedules -------------------------------------------------------------------------

    async def add_schedule(self, values: dict[str, Any]) -> dict[str, Any]:
        """Store a schedule unless its dates overlap another of the same unit (or station)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('schedule:' || $1))", values["unit_id"]
            )
            clash = await conn.fetchval(
                """SELECT id FROM schedules
                   WHERE unit_id = $1 AND station_id IS NOT DISTINCT FROM $2
                     AND effective_from <= COALESCE($4::date, 'infinity'::date)
                     AND COALESCE(effective_to, 'infinity'::date) >= $3
                   LIMIT 1""",
                values["unit_id"],
                values["station_id"],
                values["effective_from"],
                values["effective_to"],
            )
            if clash is not None:
                raise Conflict(
                    f"schedule {clash} of the same {'station' if values['station_id'] else 'unit'} "
                    "is in force on some of these dates; end it first (effective_to)"
                )
            row: Any = await conn.fetchrow(
                f"""INSERT INTO schedules (unit_id, station_id, time_zone, effective_from,
                        effective_to, windows, exceptions, holidays_open, workday_pattern,
                        created_by)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    RETURNING {SCHEDULE_COLUMNS}""",
                values["unit_id"],
                values["station_id"],
                values["time_zone"],
                values["effective_from"],
                values["effective_to"],
                values["windows"],
                values["exceptions"],
                values["holidays_open"],
                values["workday_pattern"],
                values["created_by"],
            )
        return dict(row)

    async def schedules(self, unit_id: str, scope: Scope | None = None) -> list[dict[str, Any]]:
        """A unit's schedules; with a scope, the whole unit's and those of its stations in it
        (a county account must not learn of another county's station through its windows)."""
        rows = await self._pool.fetch(
            f"""SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE unit_id = $1
                  AND (station_id IS NULL OR {station_in_scope("schedules.station_id", 2, 3)})
                ORDER BY effective_from, id""",
            unit_id,
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    async def end_schedule(self, unit_id: str, schedule_id: int, last_day: date) -> None:
        status = await self._pool.execute(
            """UPDATE schedules SET effective_to = $3
               WHERE unit_id = $1 AND id = $2 AND effective_from <= $3""",
            unit_id,
            schedule_id,
            last_day,
        )
        if status == "UPDATE 0":
            raise NotFound(
                f"unit {unit_id!r} has no schedule {schedule_id} that starts by {last_day}"
            )

    async def delete_schedule(self, unit_id: str, schedule_id: int) -> None:
        status = await self._pool.execute(
            "DELETE FROM schedules WHERE unit_id = $1 AND id = $2", unit_id, schedule_id
        )
        if status == "DELETE 0":
            raise NotFound(f"unit {unit_id!r} has no schedule {schedule_id}")

    async def schedule_for(self, station_id: str, unit_id: str, day: date) -> dict[str, Any] | None:
        """The station's own schedule in force on `day`, else its unit's."""
        row = await self._pool.fetchrow(
            f"""SELECT {SCHEDULE_COLUMNS} FROM schedules
                WHERE unit_id = $2 AND (station_id = $1 OR station_id IS NULL)
                  AND effective_from <= $3 AND (effective_to IS NULL OR effective_to >= $3)
                ORDER BY station_id NULLS LAST, effective_from DESC LIMIT 1""",
            station_id,
            unit_id,
            day,
        )
        return None if row is None else dict(row)

    # -- calendar --------------------------------------------------------------------------

    async def calendar_document(self) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self._pool.fetchval(
            "SELECT document FROM holiday_calendar WHERE id = 1"
        )
        return doc

    async def put_calendar(self, document: dict[str, Any], by: str) -> None:
        await self._pool.execute(
            """INSERT INTO holiday_calendar (id, document, updated_by) VALUES (1, $1, $2)
               ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document,
                   updated_by = EXCLUDED.updated_by, updated_at = now()""",
            document,
            by,
        )

    # -- decisions and enforcement ---------------------------------------------------------

    async def log_decision(
        self,
        *,
        at: datetime,
        station_id: str,
        unit_id: str | None,
        id_token: str | None,
        context: str,
        allowed: bool,
        reason: str,
        transaction_id: int | None = None,
    ) -> None:
        await self._pool.execute(
            """INSERT INTO access_decisions (at, station_id, unit_id, id_token, context, allowed,
                   reason, transaction_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            at,
            station_id,
            unit_id,
            id_token,
            context,
            allowed,
            reason,
            transaction_id,
        )

    async def decisions(
        self,
        *,
        station_id: str | None,
        unit_id: str | None,
        since: datetime | None,
        limit: int,
        offset: int,
        scope: Scope | None = None,
    ) -> list[dict[str, Any]]:
        """Decisions newest first; only those at stations in `scope` (None: all)."""
        rows = await self._pool.fetch(
            f"""SELECT id, at, station_id, unit_id, id_token, context, allowed, reason,
                       transaction_id
                FROM access_decisions
                WHERE ($1::text IS NULL OR station_id = $1) AND ($2::text IS NULL OR unit_id = $2)
                  AND ($3::timestamptz IS NULL OR at >= $3)
                  AND {station_in_scope("access_decisions.station_id", 6, 7)}
                ORDER BY at DESC, id DESC LIMIT $4 OFFSET $5""",
            station_id,
            unit_id,
            since,
            limit,
            offset,
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    async def record_start(self, transaction_id: int, price_class: str, reason: str) -> None:
        await self._pool.execute(
            """UPDATE transactions SET price_class = $2, access_reason = $3
               WHERE id = $1 AND price_class IS NULL""",
            transaction_id,
            price_class,
            reason,
        )

    async def public_sessions(
        self, station_ids: Sequence[str], retry_before: datetime
    ) -> list[dict[str, Any]]:
        """Open, not yet stop-requested sessions at non-public stations of these ids, with
        their token's group (membership may come from it). A 2.0.1 session that began before
        its token (cable plugged in first) is judged once the token arrives, not as public."""
        rows = await self._pool.fetch(
            """SELECT t.id, t.station_id, t.station_tx_id, t.ocpp_version, t.evse_id,
                      t.id_token, k.group_id, t.started_at, t.price_class, s.access_mode,
                      s.owner_unit
               FROM transactions t JOIN stations s ON s.id = t.station_id
                    LEFT JOIN id_tokens k ON k.id_token = t.id_token
               WHERE t.status = 'open' AND NOT t.orphan
                 AND (t.stop_requested_at IS NULL OR t.stop_requested_at < $2)
                 AND t.id_token IS NOT NULL
                 AND s.access_mode <> 'public' AND t.station_id = ANY($1::text[])
                 AND COALESCE(t.price_class, 'public') = 'public'""",
            list(station_ids),
            retry_before,
        )
        return [dict(r) for r in rows]

    async def claim_stop(self, transaction_id: int, at: datetime, retry_before: datetime) -> int:
        """Claim the next stop attempt of a session: its number, or 0 when another node (or an
        earlier round) asked since `retry_before` and the station still has time to obey."""
        attempt: int | None = await self._pool.fetchval(
            """UPDATE transactions SET stop_requested_at = $2, stop_attempts = stop_attempts + 1
               WHERE id = $1 AND status = 'open'
                 AND (stop_requested_at IS NULL OR stop_requested_at < $3)
               RETURNING stop_attempts""",
            transaction_id,
            at,
            retry_before,
        )
        return attempt or 0

    # -- reports ---------------------------------------------------------------------------

    async def unit_money(
        self, unit_id: str, since: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        """Billed sessions, kWh and revenue by price class (CDRs; credits count negative)."""
        rows = await self._pool.fetch(
            """SELECT COALESCE(detail ->> 'price_class', 'public') AS price_class,
                      count(*) FILTER (WHERE kind = 'bill') AS sessions,
                      COALESCE(sum(energy_wh), 0)::bigint AS energy_wh,
                      COALESCE(sum(total), 0) AS revenue
               FROM cdrs WHERE owner_unit = $1 AND stopped_at >= $2 AND stopped_at < $3
               GROUP BY 1 ORDER BY 1""",
            unit_id,
            since,
            until,
        )
        return [dict(r) for r in rows]

    async def unit_usage(
        self, unit_id: str, since: datetime, until: datetime, now: datetime
    ) -> dict[str, Any]:
        """Sessions by price class (one counts when it lasted over 2 minutes and delivered
        over 0.5 kWh), plugged-in seconds inside the period, and the connector count. A
        refused start is no session (its refusal is counted by `refusals`). An open session
        is plugged in until `now` (the CSMS clock, not the database's)."""
        row: Any = await self._pool.fetchrow(
            """SELECT
                 count(*) FILTER (WHERE COALESCE(t.price_class, 'public') = 'public'
                                  AND t.started_at >= $2 AND t.counts) AS public_sessions,
                 count(*) FILTER (WHERE t.price_class = 'member'
                                  AND t.started_at >= $2 AND t.counts) AS member_sessions,
                 COALESCE(sum(EXTRACT(EPOCH FROM
                     LEAST(COALESCE(t.stopped_at, $4), $3) - GREATEST(t.started_at, $2))), 0)
                   AS busy_seconds
               FROM (SELECT t.*, (t.stopped_at - t.started_at > interval '2 minutes'
                                  AND t.meter_stop_wh - t.meter_start_wh > 500) AS counts
                     FROM transactions t) t
               JOIN stations s ON s.id = t.station_id
               WHERE s.owner_unit = $1 AND NOT t.orphan AND NOT t.refused AND t.started_at < $3
                 AND t.started_at > $2 - interval '31 days'
                 AND COALESCE(t.stopped_at, $4) > $2""",
            unit_id,
            since,
            until,
            now,
        )
        connectors = await self._pool.fetchval(
            """SELECT COALESCE(sum(GREATEST(n, 1)), 0) FROM (
                   SELECT s.id, count(DISTINCT c.evse_id) FILTER (WHERE c.evse_id > 0) AS n
                   FROM stations s LEFT JOIN connectors c ON c.station_id = s.id
                   WHERE s.owner_unit = $1 GROUP BY s.id) per_station""",
            unit_id,
        )
        return {**dict(row), "connectors": int(connectors)}

    async def refusals(self, unit_id: str, since: datetime, until: datetime) -> int:
        """Refused starts; the stops the enforcer asked for are logged too, but refuse no start
        (a backstop stop follows the refusal of the same start, already counted)."""
        count: int = await self._pool.fetchval(
            """SELECT count(*) FROM access_decisions
               WHERE unit_id = $1 AND NOT allowed AND at >= $2 AND at < $3
                 AND context NOT IN ('backstop-stop', 'window-close-stop')""",
            unit_id,
            since,
            until,
        )
        return count
