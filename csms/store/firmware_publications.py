"""Firmware a local controller publishes to the stations behind it (2.0.1 L03), per request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from csms.store.database import Pool

# A status sent without a requestId (the schema makes it optional): outside the 32-bit
# integers a station's requestId is (migration 0021).
NO_REQUEST = -(2**32)


class FirmwarePublicationStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def put(
        self,
        station_id: str,
        request_id: int | None,
        status: str,
        locations: Sequence[str],
        at: datetime,
    ) -> None:
        """The latest status; the locations are kept once Published and not lost after."""
        await self._pool.execute(
            """INSERT INTO firmware_publications (station_id, request_id, status, locations,
                   updated_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (station_id, request_id) DO UPDATE
               SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at,
                   locations = CASE WHEN cardinality(EXCLUDED.locations) > 0
                                    THEN EXCLUDED.locations
                                    ELSE firmware_publications.locations END""",
            station_id,
            NO_REQUEST if request_id is None else request_id,
            status,
            list(locations),
            at,
        )

    async def all(self, station_id: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT request_id, status, locations, updated_at FROM firmware_publications
               WHERE station_id = $1 ORDER BY updated_at DESC, request_id DESC""",
            station_id,
        )
        return [
            {**dict(r), "request_id": None if r["request_id"] == NO_REQUEST else r["request_id"]}
            for r in rows
        ]
