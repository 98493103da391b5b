"""Safety lockouts (plan 二(六)17): who marked a station hazardous and when, and who lifted it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.scope import Scope
from csms.errors import Conflict, NotFound
from csms.store.database import Pool
from csms.store.scope_sql import scope_args, station_in_scope

_COLUMNS = """id, station_id, hazard, locked_by, locked_at, rectification, lifted_by,
    lifted_at, lifted_at IS NULL AS open"""


class LockoutStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def lock(self, station_id: str, hazard: str, by: str, at: datetime) -> dict[str, Any]:
        """Open a lockout; Conflict when one is open already, NotFound for an unknown station."""
        try:
            row = await self._pool.fetchrow(
                f"""INSERT INTO lockouts (station_id, hazard, locked_by, locked_at)
                    VALUES ($1, $2, $3, $4) RETURNING {_COLUMNS}""",
                station_id,
                hazard,
                by,
                at,
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"station {station_id} is locked out already") from None
        except asyncpg.ForeignKeyViolationError:
            raise NotFound(f"station {station_id} does not exist") from None
        assert row is not None
        return dict(row)

    async def lift(
        self, station_id: str, rectification: str, by: str, at: datetime
    ) -> dict[str, Any]:
        """Close the open lockout with its rectification; Conflict when none is open."""
        row = await self._pool.fetchrow(
            f"""UPDATE lockouts SET rectification = $2, lifted_by = $3,
                    lifted_at = GREATEST($4, locked_at)
                WHERE station_id = $1 AND lifted_at IS NULL RETURNING {_COLUMNS}""",
            station_id,
            rectification,
            by,
            at,
        )
        if row is not None:
            return dict(row)
        if not await self.station_exists(station_id):
            raise NotFound(f"station {station_id} does not exist")
        raise Conflict(f"station {station_id} is not locked out")

    async def hazard(self, station_id: str) -> str | None:
        """The hazard of the station's open lockout, if it has one (one index probe)."""
        found: str | None = await self._pool.fetchval(
            "SELECT hazard FROM lockouts WHERE station_id = $1 AND lifted_at IS NULL", station_id
        )
        return found

    async def search(
        self,
        *,
        station_id: str | None = None,
        open_only: bool | None = None,
        limit: int = 100,
        offset: int = 0,
        scope: Scope | None = None,
    ) -> list[dict[str, Any]]:
        """Lockouts, newest first; `open_only` True: in force, False: lifted; only those of
        stations in `scope` (None: all)."""
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM lockouts
                WHERE ($1::text IS NULL OR station_id = $1)
                  AND ($2::boolean IS NULL OR (lifted_at IS NULL) = $2)
                  AND {station_in_scope("lockouts.station_id", 5, 6)}
                ORDER BY locked_at DESC, id DESC LIMIT $3 OFFSET $4""",
            station_id,
            open_only,
            limit,
            offset,
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    async def count_open(self) -> int:
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM lockouts WHERE lifted_at IS NULL"
        )
        return count

    async def station_exists(self, station_id: str) -> bool:
        return bool(
            await self._pool.fetchval("SELECT true FROM stations WHERE id = $1", station_id)
        )

    async def locked_stations(self) -> list[str]:
        """Stations under a lockout now."""
        rows = await self._pool.fetch("SELECT station_id FROM lockouts WHERE lifted_at IS NULL")
        return [r["station_id"] for r in rows]

    async def stations_ever_locked(self) -> list[str]:
        """Stations with any lockout: the only ones a boot may owe an availability change."""
        rows = await self._pool.fetch("SELECT DISTINCT station_id FROM lockouts")
        return [r["station_id"] for r in rows]

    async def open_sessions(self, station_id: str) -> list[int]:
        """The station's running transactions (a hazard stops them)."""
        rows = await self._pool.fetch(
            """SELECT id FROM transactions
               WHERE station_id = $1 AND status = 'open' AND NOT orphan ORDER BY id""",
            station_id,
        )
        return [r["id"] for r in rows]

    async def operative_owed(self, station_id: str) -> bool:
        """Whether a lift was never acknowledged by the station: its last lockout is lifted and
        the station answered no whole-station Operative since it was locked (it was offline)."""
        owed: bool | None = await self._pool.fetchval(
            """SELECT l.lifted_at IS NOT NULL AND NOT EXISTS (
                       SELECT 1 FROM command_log c
                       WHERE c.station_id = l.station_id AND c.action = 'ChangeAvailability'
                         AND c.status = 'answered' AND c.requested_at >= l.locked_at
                         AND 'Operative' IN (c.request ->> 'type',
                                             c.request ->> 'operationalStatus')
                         AND COALESCE(c.request ->> 'connectorId', '0') = '0'
                         AND c.request -> 'evse' IS NULL)
               FROM lockouts l WHERE l.station_id = $1
               ORDER BY l.locked_at DESC, l.id DESC LIMIT 1""",
            station_id,
        )
        return bool(owed)

    async def log_refusal(
        self,
        *,
        at: datetime,
        station_id: str,
        id_token: str | None,
        context: str,
        reason: str,
        transaction_id: int | None,
    ) -> None:
        """A start refused because of a lockout, in the same log as the sharing refusals."""
        await self._pool.execute(
            """INSERT INTO access_decisions (at, station_id, id_token, context, allowed, reason,
                   transaction_id)
               VALUES ($1, $2, $3, $4, false, $5, $6)""",
            at,
            station_id,
            id_token,
            context,
            reason,
            transaction_id,
        )
