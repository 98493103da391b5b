"""The log of informative station messages, and the 2.0.1 device model from NotifyReport."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from csms.store.database import Pool


class EventStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def append(
        self, station_id: str, action: str, payload: dict[str, Any], received_at: datetime
    ) -> None:
        await self._pool.execute(
            """INSERT INTO station_events (station_id, action, received_at, payload)
               VALUES ($1, $2, $3, $4)""",
            station_id,
            action,
            received_at,
            payload,
        )

    async def recent(
        self, station_id: str, action: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT id, action, received_at, payload FROM station_events
               WHERE station_id = $1 AND ($2::text IS NULL OR action = $2)
               ORDER BY id DESC LIMIT $3 OFFSET $4""",
            station_id,
            action,
            limit,
            offset,
        )
        return [dict(r) for r in rows]

    async def put_variables(
        self, station_id: str, rows: Sequence[tuple[Any, ...]], at: datetime
    ) -> None:
        """Upsert device-model attributes: (component, component_instance, evse, connector,
        variable, variable_instance, attribute_type, value, mutability, data_type)."""
        if not rows:
            return
        await self._pool.executemany(
            """INSERT INTO station_variables (station_id, component, component_instance, evse_id,
                   connector_id, variable, variable_instance, attribute_type, value, mutability,
                   data_type, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               ON CONFLICT (station_id, component, component_instance, evse_id, connector_id,
                            variable, variable_instance, attribute_type)
               DO UPDATE SET value = EXCLUDED.value, mutability = EXCLUDED.mutability,
                   data_type = EXCLUDED.data_type, updated_at = EXCLUDED.updated_at""",
            [(station_id, *row, at) for row in rows],
        )
