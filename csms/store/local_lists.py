"""Each station's Local Authorization List as the CSMS last learnt it (version and entries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.domain.local_list import KnownList, ListEntry
from csms.store.database import Pool


class LocalListStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def get(self, station_id: str) -> KnownList | None:
        """The station's list, or None when the CSMS never learnt anything of it."""
        row = await self._pool.fetchrow(
            "SELECT version, entries_known FROM local_lists WHERE station_id = $1", station_id
        )
        if row is None:
            return None
        if not row["entries_known"]:
            return KnownList(row["version"], None)
        rows = await self._pool.fetch(
            """SELECT id_token, token_type, status FROM local_list_entries
               WHERE station_id = $1 ORDER BY id_token""",
            station_id,
        )
        entries = {
            r["id_token"]: ListEntry(r["id_token"], r["token_type"], r["status"]) for r in rows
        }
        return KnownList(row["version"], entries)

    async def details(self, station_id: str) -> dict[str, Any] | None:
        """Where the known version came from and when, for the API."""
        row = await self._pool.fetchrow(
            """SELECT version, entries_known, source, command_id, updated_at
               FROM local_lists WHERE station_id = $1""",
            station_id,
        )
        return None if row is None else dict(row)

    async def save(
        self,
        station_id: str,
        known: KnownList,
        *,
        source: str,
        command_id: int | None,
        at: datetime,
    ) -> None:
        """Replace what is known of the station's list, in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO local_lists (station_id, version, entries_known, source,
                       command_id, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (station_id) DO UPDATE SET version = EXCLUDED.version,
                       entries_known = EXCLUDED.entries_known, source = EXCLUDED.source,
                       command_id = EXCLUDED.command_id, updated_at = EXCLUDED.updated_at""",
                station_id,
                known.version,
                known.entries is not None,
                source,
                command_id,
                at,
            )
            await conn.execute("DELETE FROM local_list_entries WHERE station_id = $1", station_id)
            if known.entries:
                await conn.executemany(
                    """INSERT INTO local_list_entries (station_id, id_token, token_type, status)
                       VALUES ($1, $2, $3, $4)""",
                    [
                        (station_id, e.id_token, e.token_type, e.status)
                        for e in known.entries.values()
                        if e.status is not None  # a known list holds no removals
                    ],
                )
