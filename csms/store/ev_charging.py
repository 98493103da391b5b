"""What ISO 15118 EVs tell the CSMS through their station: charging needs and planned schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.domain.reports import EvChargingNeeds
from csms.store.database import Pool


class EvChargingStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def add_needs(self, station_id: str, needs: EvChargingNeeds, at: datetime) -> None:
        await self._pool.execute(
            """INSERT INTO ev_charging_needs (station_id, evse_id, requested_transfer,
                   departs_at, max_schedule_tuples, needs, received_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            station_id,
            needs.evse_id,
            needs.requested_transfer,
            needs.departs_at,
            needs.max_schedule_tuples,
            needs.needs,
            at,
        )

    async def add_schedule(
        self,
        station_id: str,
        evse_id: int,
        time_base: datetime,
        schedule: dict[str, Any],
        at: datetime,
    ) -> None:
        await self._pool.execute(
            """INSERT INTO ev_charging_schedules (station_id, evse_id, time_base, schedule,
                   received_at)
               VALUES ($1, $2, $3, $4, $5)""",
            station_id,
            evse_id,
            time_base,
            schedule,
            at,
        )

    async def latest(self, station_id: str) -> list[dict[str, Any]]:
        """Per EVSE, the last needs and the last schedule the EV sent (either may be null)."""
        rows = await self._pool.fetch(
            """WITH needs AS (
                   SELECT DISTINCT ON (evse_id) evse_id, requested_transfer, departs_at,
                          max_schedule_tuples, needs, received_at
                   FROM ev_charging_needs WHERE station_id = $1
                   ORDER BY evse_id, id DESC),
               schedules AS (
                   SELECT DISTINCT ON (evse_id) evse_id, time_base, schedule, received_at
                   FROM ev_charging_schedules WHERE station_id = $1
                   ORDER BY evse_id, id DESC)
               SELECT coalesce(n.evse_id, s.evse_id) AS evse_id, n.requested_transfer,
                      n.departs_at, n.max_schedule_tuples, n.needs,
                      n.received_at AS needs_received_at, s.time_base, s.schedule,
                      s.received_at AS schedule_received_at
               FROM needs n FULL JOIN schedules s ON s.evse_id = n.evse_id
               ORDER BY 1""",
            station_id,
        )
        return [dict(r) for r in rows]
