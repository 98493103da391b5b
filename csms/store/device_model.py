"""Reads of the 2.0.1 device model as stations reported it (NotifyReport; see EventStore)."""

from __future__ import annotations

from typing import Any

from csms.store.database import Pool


class DeviceModelStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def variables(
        self,
        station_id: str,
        *,
        component: str | None,
        variable: str | None,
        evse_id: int | None,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        """Every reported attribute, ordered by component and variable (-1: not on an EVSE)."""
        rows = await self._pool.fetch(
            """SELECT component, component_instance, evse_id, connector_id, variable,
                   variable_instance, attribute_type, value, mutability, data_type, updated_at
               FROM station_variables
               WHERE station_id = $1 AND ($2::text IS NULL OR component = $2)
                 AND ($3::text IS NULL OR variable = $3)
                 AND ($4::integer IS NULL OR evse_id = $4)
               ORDER BY component, component_instance, evse_id, connector_id, variable,
                        variable_instance, attribute_type
               LIMIT $5 OFFSET $6""",
            station_id,
            component,
            variable,
            evse_id,
            limit,
            offset,
        )
        return [dict(r) for r in rows]
