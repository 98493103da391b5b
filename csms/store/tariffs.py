"""Tariff versions, their assignment to stations, sites, owners or the network, and sites."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.billing.codec import definition_of, tariff_from
from csms.billing.tariff import Tariff
from csms.errors import Conflict, NotFound
from csms.store.database import Pool

_TARIFF_COLUMNS = """tariff_id, version, name, currency, time_zone, effective_from,
    effective_to, definition, created_by, created_at"""
_ASSIGNMENT_COLUMNS = (
    "id, tariff_id, scope, target, audience, effective_from, effective_to, created_by"
)
# The more specific assignment wins; within a scope, the one that started last.
_SCOPE_RANK = "CASE a.scope WHEN 'station' THEN 1 WHEN 'site' THEN 2 WHEN 'owner' THEN 3 ELSE 4 END"


def tariff_of(row: Any) -> Tariff:
    return tariff_from(
        tariff_id=row["tariff_id"],
        version=row["version"],
        name=row["name"],
        currency=row["currency"],
        time_zone=row["time_zone"],
        effective_from=row["effective_from"],
        effective_to=row["effective_to"],
        definition=row["definition"],
    )


class TariffStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def add_version(
        self, tariff: Tariff, created_by: str, *, new: bool | None = None
    ) -> dict[str, Any]:
        """Store `tariff` as the next version of its id (its own version number is ignored).

        `new=True`: it must be the first version (Conflict if the id exists); `new=False`: the
        id must exist already (NotFound). Checked under the same lock as the numbering.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            # Serialise writers of one tariff id so version numbers never collide.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", tariff.tariff_id)
            version = await conn.fetchval(
                "SELECT COALESCE(max(version), 0) + 1 FROM tariffs WHERE tariff_id = $1",
                tariff.tariff_id,
            )
            if new is True and version != 1:
                raise Conflict(
                    f"tariff {tariff.tariff_id!r} exists; POST /api/v1/tariffs/"
                    f"{tariff.tariff_id}/versions to change it"
                )
            if new is False and version == 1:
                raise NotFound(f"tariff {tariff.tariff_id!r} does not exist")
            row: Any = await conn.fetchrow(
                f"""INSERT INTO tariffs (tariff_id, version, name, currency, time_zone,
                        effective_from, effective_to, definition, created_by)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_TARIFF_COLUMNS}""",
                tariff.tariff_id,
                version,
                tariff.name,
                tariff.currency,
                tariff.time_zone,
                tariff.effective_from,
                tariff.effective_to,
                definition_of(tariff),
                created_by,
            )
        return dict(row)

    async def get(self, tariff_id: str, version: int | None = None) -> dict[str, Any]:
        row = await self._pool.fetchrow(
            f"""SELECT {_TARIFF_COLUMNS} FROM tariffs
                WHERE tariff_id = $1 AND ($2::integer IS NULL OR version = $2)
                ORDER BY version DESC LIMIT 1""",
            tariff_id,
            version,
        )
        if row is None:
            what = f"tariff {tariff_id!r}" + ("" if version is None else f" version {version}")
            raise NotFound(f"{what} does not exist")
        return dict(row)

    async def versions(self, tariff_id: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"SELECT {_TARIFF_COLUMNS} FROM tariffs WHERE tariff_id = $1 ORDER BY version",
            tariff_id,
        )
        return [dict(r) for r in rows]

    async def latest(self, limit: int, offset: int) -> list[dict[str, Any]]:
        """The newest version of every tariff."""
        rows = await self._pool.fetch(
            f"""SELECT DISTINCT ON (tariff_id) {_TARIFF_COLUMNS} FROM tariffs
                ORDER BY tariff_id, version DESC LIMIT $1 OFFSET $2""",
            limit,
            offset,
        )
        return [dict(r) for r in rows]

    async def exists(self, tariff_id: str) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM tariffs WHERE tariff_id = $1)", tariff_id
            )
        )

    async def assign(
        self,
        tariff_id: str,
        scope: str,
        target: str,
        effective_from: datetime,
        effective_to: datetime | None,
        created_by: str,
        audience: str = "all",
    ) -> dict[str, Any]:
        row = await self._pool.fetchrow(
            f"""INSERT INTO tariff_assignments (tariff_id, scope, target, effective_from,
                    effective_to, created_by, audience)
                SELECT $1, $2, $3, $4, $5, $6, $7
                WHERE EXISTS (SELECT 1 FROM tariffs WHERE tariff_id = $1)
                RETURNING {_ASSIGNMENT_COLUMNS}""",
            tariff_id,
            scope,
            target,
            effective_from,
            effective_to,
            created_by,
            audience,
        )
        if row is None:
            raise NotFound(f"tariff {tariff_id!r} does not exist")
        return dict(row)

    async def assignments(
        self, *, scope: str | None = None, target: str | None = None
    ) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"""SELECT {_ASSIGNMENT_COLUMNS} FROM tariff_assignments
                WHERE ($1::text IS NULL OR scope = $1) AND ($2::text IS NULL OR target = $2)
                ORDER BY scope, target, effective_from""",
            scope,
            target,
        )
        return [dict(r) for r in rows]

    async def unassign(self, assignment_id: int) -> None:
        done = await self._pool.execute(
            "DELETE FROM tariff_assignments WHERE id = $1", assignment_id
        )
        if done == "DELETE 0":
            raise NotFound(f"tariff assignment {assignment_id} does not exist")

    async def resolve(
        self, station_id: str, at: datetime, audience: str | None = None
    ) -> Tariff | None:
        """The tariff version a session at `station_id` starting at `at` is billed by.

        The most specific assignment in force wins: station, then site, then owner unit, then
        the network default; within a scope, one for the session's price class (member or
        public) beats one for everybody. If the winner's tariff has no version in force at
        `at`, there is no tariff (never a silent fall-back to a less specific one).
        """
        row = await self._pool.fetchrow(
            f"""WITH chosen AS (
                    SELECT a.tariff_id FROM stations s
                    JOIN tariff_assignments a
                      ON a.effective_from <= $2
                     AND (a.effective_to IS NULL OR $2 < a.effective_to)
                     AND a.audience IN ('all', COALESCE($3, 'public'))
                     AND ((a.scope = 'station' AND a.target = s.id)
                       OR (a.scope = 'site' AND a.target = s.site_name)
                       OR (a.scope = 'owner' AND a.target = s.owner_unit)
                       OR a.scope = 'network')
                    WHERE s.id = $1
                    ORDER BY {_SCOPE_RANK}, a.audience = 'all', a.effective_from DESC, a.id DESC
                    LIMIT 1
                )
                SELECT v.tariff_id, v.version, v.name, v.currency, v.time_zone,
                       v.effective_from, v.effective_to, v.definition
                FROM chosen JOIN tariffs v ON v.tariff_id = chosen.tariff_id
                WHERE v.effective_from <= $2 AND (v.effective_to IS NULL OR $2 < v.effective_to)
                ORDER BY v.version DESC LIMIT 1""",
            station_id,
            at,
            audience,
        )
        return None if row is None else tariff_of(row)

    # -- sites -----------------------------------------------------------------------------

    async def put_site(self, site_name: str, two_part_tariff: bool, notes: str | None) -> None:
        await self._pool.execute(
            """INSERT INTO sites (site_name, two_part_tariff, notes) VALUES ($1, $2, $3)
               ON CONFLICT (site_name) DO UPDATE SET two_part_tariff = EXCLUDED.two_part_tariff,
                   notes = EXCLUDED.notes, updated_at = now()""",
            site_name,
            two_part_tariff,
            notes,
        )

    async def sites(self) -> list[dict[str, Any]]:
        """Every site named by a station or registered on its own, with its station count."""
        rows = await self._pool.fetch(
            """SELECT n.site_name, COALESCE(x.two_part_tariff, false) AS two_part_tariff,
                      x.notes, (SELECT count(*) FROM stations s
                                WHERE s.site_name = n.site_name) AS stations
               FROM (SELECT site_name FROM sites
                     UNION SELECT site_name FROM stations WHERE site_name IS NOT NULL) n
               LEFT JOIN sites x ON x.site_name = n.site_name
               ORDER BY n.site_name"""
        )
        return [dict(r) for r in rows]

    async def site(self, site_name: str) -> dict[str, Any]:
        row: Any = await self._pool.fetchrow(
            """SELECT $1::text AS site_name, COALESCE(x.two_part_tariff, false) AS two_part_tariff,
                      x.notes, x.site_name IS NOT NULL AS registered,
                      (SELECT count(*) FROM stations s WHERE s.site_name = $1) AS stations
               FROM (SELECT 1) one LEFT JOIN sites x ON x.site_name = $1""",
            site_name,
        )
        if not row["registered"] and row["stations"] == 0:
            raise NotFound(f"site {site_name!r} does not exist")
        return {k: row[k] for k in ("site_name", "two_part_tariff", "notes", "stations")}
