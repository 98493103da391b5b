"""Multi-part station reports per request, and the monitors and display messages they list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from csms.domain.reports import DisplayMessage, Monitor, ReportKind, ReportPart
from csms.store.database import Pool

if TYPE_CHECKING:
    from typing import TypeAlias

    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]

_REPORT_COLUMNS = """station_id, kind, request_id, command_id, requested_by, requested_at, answer,
    parts, completed_at, updated_at"""


class ReportStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def requested(
        self,
        station_id: str,
        kind: ReportKind,
        request_id: int,
        *,
        command_id: int,
        requested_by: str,
        answer: str,
        at: datetime,
    ) -> None:
        """The station answered the request; parts that came before its answer stay."""
        await self._pool.execute(
            """INSERT INTO station_reports (station_id, kind, request_id, command_id,
                   requested_by, requested_at, answer, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $6)
               ON CONFLICT (station_id, kind, request_id) DO UPDATE
               SET command_id = EXCLUDED.command_id, requested_by = EXCLUDED.requested_by,
                   requested_at = EXCLUDED.requested_at, answer = EXCLUDED.answer,
                   updated_at = EXCLUDED.updated_at""",
            station_id,
            kind.value,
            request_id,
            command_id,
            requested_by,
            at,
            answer,
        )

    async def add_part(
        self,
        station_id: str,
        part: ReportPart,
        at: datetime,
        *,
        monitors: Sequence[Monitor] = (),
        messages: Sequence[DisplayMessage] = (),
    ) -> bool:
        """Keep one part and what it lists, in one transaction; False for an identical replay."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO station_reports (station_id, kind, request_id, updated_at)
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
                station_id,
                part.kind.value,
                part.request_id,
                at,
            )
            # Serialise parts of one request: the arrival number below must not race.
            known = await conn.fetchval(
                """SELECT parts FROM station_reports
                   WHERE station_id = $1 AND kind = $2 AND request_id = $3 FOR UPDATE""",
                station_id,
                part.kind.value,
                part.request_id,
            )
            digest = part.digest
            # No seqNo in the message: parts are numbered as they arrive, and a replay is
            # known by its content alone.
            if part.seq_no is None and await conn.fetchval(
                """SELECT EXISTS (SELECT 1 FROM station_report_parts WHERE station_id = $1
                       AND kind = $2 AND request_id = $3 AND digest = $4)""",
                station_id,
                part.kind.value,
                part.request_id,
                digest,
            ):
                return False
            seq_no = part.seq_no if part.seq_no is not None else known
            inserted = await conn.fetchval(
                """INSERT INTO station_report_parts (station_id, kind, request_id, seq_no, tbc,
                       generated_at, received_at, digest, payload)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                   ON CONFLICT (station_id, kind, request_id, seq_no, digest) DO NOTHING
                   RETURNING id""",
                station_id,
                part.kind.value,
                part.request_id,
                seq_no,
                part.tbc,
                part.generated_at,
                at,
                digest,
                part.payload,
            )
            if inserted is None:
                return False
            await conn.execute(
                """UPDATE station_reports SET parts = parts + 1, updated_at = $5,
                       completed_at = CASE WHEN $4 THEN completed_at
                                           ELSE coalesce(completed_at, $5) END
                   WHERE station_id = $1 AND kind = $2 AND request_id = $3""",
                station_id,
                part.kind.value,
                part.request_id,
                part.tbc,
                at,
            )
            await _put_monitors(conn, station_id, monitors, part.request_id, at)
            await _put_messages(conn, station_id, messages, part.request_id, at)
        return True

    async def put_monitors(
        self, station_id: str, monitors: Sequence[Monitor], at: datetime
    ) -> None:
        """Monitors a SetVariableMonitoring command installed (no report request)."""
        async with self._pool.acquire() as conn:
            await _put_monitors(conn, station_id, monitors, None, at)

    async def delete_monitors(self, station_id: str, monitor_ids: Sequence[int]) -> None:
        await self._pool.execute(
            "DELETE FROM station_monitors WHERE station_id = $1 AND monitor_id = ANY($2)",
            station_id,
            list(monitor_ids),
        )

    async def put_messages(
        self, station_id: str, messages: Sequence[DisplayMessage], at: datetime
    ) -> None:
        """Display messages a SetDisplayMessage command put on the station (no report)."""
        async with self._pool.acquire() as conn:
            await _put_messages(conn, station_id, messages, None, at)

    async def delete_message(self, station_id: str, message_id: int) -> None:
        await self._pool.execute(
            "DELETE FROM station_display_messages WHERE station_id = $1 AND message_id = $2",
            station_id,
            message_id,
        )

    async def reports(
        self, station_id: str, kind: ReportKind | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"""SELECT {_REPORT_COLUMNS} FROM station_reports
                WHERE station_id = $1 AND ($2::text IS NULL OR kind = $2)
                ORDER BY updated_at DESC, request_id DESC LIMIT $3 OFFSET $4""",
            station_id,
            None if kind is None else kind.value,
            limit,
            offset,
        )
        return [dict(r) for r in rows]

    async def report(
        self, station_id: str, kind: ReportKind, request_id: int
    ) -> dict[str, Any] | None:
        """The request with its parts in seqNo order (arrival order within a seqNo)."""
        row = await self._pool.fetchrow(
            f"""SELECT {_REPORT_COLUMNS} FROM station_reports
                WHERE station_id = $1 AND kind = $2 AND request_id = $3""",
            station_id,
            kind.value,
            request_id,
        )
        if row is None:
            return None
        parts = await self._pool.fetch(
            """SELECT seq_no, tbc, generated_at, received_at, payload FROM station_report_parts
               WHERE station_id = $1 AND kind = $2 AND request_id = $3 ORDER BY seq_no, id""",
            station_id,
            kind.value,
            request_id,
        )
        return {**dict(row), "part_rows": [dict(p) for p in parts]}

    async def monitors(self, station_id: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT monitor_id, component, component_instance, evse_id, connector_id, variable,
                   variable_instance, monitor_type, value, severity, in_transaction, request_id,
                   updated_at
               FROM station_monitors WHERE station_id = $1 ORDER BY monitor_id""",
            station_id,
        )
        return [dict(r) for r in rows]

    async def display_messages(self, station_id: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT message_id, priority, state, starts_at, ends_at, transaction_id, message,
                   display, request_id, updated_at
               FROM station_display_messages WHERE station_id = $1 ORDER BY message_id""",
            station_id,
        )
        return [dict(r) for r in rows]


async def _put_monitors(
    conn: Connection,
    station_id: str,
    monitors: Sequence[Monitor],
    request_id: int | None,
    at: datetime,
) -> None:
    if not monitors:
        return
    await conn.executemany(
        """INSERT INTO station_monitors (station_id, monitor_id, component, component_instance,
               evse_id, connector_id, variable, variable_instance, monitor_type, value, severity,
               in_transaction, request_id, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (station_id, monitor_id) DO UPDATE
           SET component = EXCLUDED.component,
               component_instance = EXCLUDED.component_instance, evse_id = EXCLUDED.evse_id,
               connector_id = EXCLUDED.connector_id, variable = EXCLUDED.variable,
               variable_instance = EXCLUDED.variable_instance,
               monitor_type = EXCLUDED.monitor_type, value = EXCLUDED.value,
               severity = EXCLUDED.severity, in_transaction = EXCLUDED.in_transaction,
               request_id = EXCLUDED.request_id, updated_at = EXCLUDED.updated_at""",
        [
            (
                station_id,
                m.monitor_id,
                m.where.component,
                m.where.component_instance,
                m.where.evse_id,
                m.where.connector_id,
                m.where.variable,
                m.where.variable_instance,
                m.monitor_type,
                m.value,
                m.severity,
                m.in_transaction,
                request_id,
                at,
            )
            for m in monitors
        ],
    )


async def _put_messages(
    conn: Connection,
    station_id: str,
    messages: Sequence[DisplayMessage],
    request_id: int | None,
    at: datetime,
) -> None:
    if not messages:
        return
    await conn.executemany(
        """INSERT INTO station_display_messages (station_id, message_id, priority, state,
               starts_at, ends_at, transaction_id, message, display, request_id, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (station_id, message_id) DO UPDATE
           SET priority = EXCLUDED.priority, state = EXCLUDED.state,
               starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
               transaction_id = EXCLUDED.transaction_id, message = EXCLUDED.message,
               display = EXCLUDED.display, request_id = EXCLUDED.request_id,
               updated_at = EXCLUDED.updated_at""",
        [
            (
                station_id,
                m.message_id,
                m.priority,
                m.state,
                m.starts_at,
                m.ends_at,
                m.transaction_id,
                m.message,
                m.display,
                request_id,
                at,
            )
            for m in messages
        ],
    )
