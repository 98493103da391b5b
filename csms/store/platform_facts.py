"""What platforms are told about: public piles with their site, equipment, status and energy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from csms.store.database import Pool
from csms.store.metering import ENERGY_WH

# A decommissioned pile is still told about (platforms keep its records) but never open.
_PILES = """SELECT s.id, s.site_name, s.county, s.address, s.latitude, s.longitude, s.vendor,
        s.model, s.rated_power_kw, s.commissioned_on, s.rated_voltage_max_v,
        s.rated_voltage_min_v, s.rated_current_a,
        CASE WHEN s.decommissioned_at IS NULL THEN s.admin_state ELSE 'decommissioned' END
            AS admin_state, s.access_mode,
        s.connected, s.updated_at, si.category, si.parking_spaces
    FROM stations s LEFT JOIN sites si ON si.site_name = s.site_name
    WHERE s.access_mode <> 'private'"""


# Connectors as reported (EVSE > 0) with their station's presence and the open transaction's
# charging state (2.0.1): everything facts.timed_codes needs. $1: station ids.
CONNECTOR_FACTS = """SELECT c.station_id, c.evse_id, c.connector_id, c.status, c.received_at,
        s.connected, s.disconnected_at,
        (SELECT t.charging_state FROM transactions t
          WHERE t.station_id = c.station_id AND t.evse_id = c.evse_id
            AND t.status = 'open' ORDER BY t.id DESC LIMIT 1) AS charging_state
    FROM connectors c JOIN stations s ON s.id = c.station_id
    WHERE c.station_id = ANY ($1::text[]) AND c.evse_id > 0
    ORDER BY c.station_id, c.evse_id, c.connector_id"""


# Sessions with what their live charging data needs, one row per latest sample of a measurand
# and phase (a session without samples has one row of NULLs). $1: the measurands; $2: one
# transaction (any state, for a platform's query) or NULL for every open session.
LIVE_SESSIONS = f"""SELECT t.id AS transaction_id, t.station_id, t.evse_id, t.connector_id,
        t.status, t.started_at, t.charging_state, t.meter_start_wh, s.connected,
        (SELECT c.status FROM connectors c
          WHERE c.station_id = t.station_id AND c.evse_id = t.evse_id
          ORDER BY c.connector_id = COALESCE(t.connector_id, c.connector_id) DESC,
                   c.connector_id LIMIT 1) AS connector_status,
        (SELECT {ENERGY_WH} FROM meter_samples ms
          WHERE ms.transaction_id = t.id AND ms.measurand = 'Energy.Active.Import.Register'
            AND ms.phase = '' AND ms.location IN ('', 'Outlet')
            AND ms.unit IN ('', 'Wh', 'kWh') AND ms.value IS NOT NULL
          ORDER BY ms.sampled_at, ms.id LIMIT 1) AS first_wh,
        m.measurand, m.phase, m.location, m.unit, m.value, m.sampled_at
    FROM transactions t
    JOIN stations s ON s.id = t.station_id
    LEFT JOIN LATERAL (
        SELECT DISTINCT ON (x.measurand, x.phase, x.location)
               x.measurand, x.phase, x.location, x.unit, x.value, x.sampled_at
        FROM meter_samples x
        WHERE x.transaction_id = t.id AND x.value IS NOT NULL AND x.measurand = ANY ($1::text[])
        ORDER BY x.measurand, x.phase, x.location, x.sampled_at DESC, x.id DESC
    ) m ON true
    WHERE ($2::bigint IS NULL AND t.status = 'open' OR t.id = $2)
      AND t.started_at IS NOT NULL AND NOT t.orphan AND NOT t.refused AND t.evse_id > 0
      AND s.access_mode <> 'private' AND s.decommissioned_at IS NULL
    ORDER BY t.station_id, t.evse_id, t.id"""


class PlatformFactsStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def piles(self, station_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Public and shared piles (private ones are not reported), with their site's facts."""
        rows = await self._pool.fetch(
            f"{_PILES} AND ($1::text[] IS NULL OR s.id = ANY ($1::text[])) ORDER BY s.id",
            None if station_ids is None else list(station_ids),
        )
        return [dict(r) for r in rows]

    async def site_piles(self, site_name: str | None, station_id: str) -> list[dict[str, Any]]:
        """The piles of one site (or the lone pile without a site)."""
        rows = await self._pool.fetch(
            f"""{_PILES} AND (s.site_name = $1 OR ($1::text IS NULL AND s.id = $2))
                ORDER BY s.id""",
            site_name,
            station_id,
        )
        return [dict(r) for r in rows]

    async def equipment(self, station_ids: Sequence[str]) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT station_id, connector_no, power_kw, current FROM station_equipment
               WHERE station_id = ANY ($1::text[]) ORDER BY station_id, connector_no""",
            list(station_ids),
        )
        return [dict(r) for r in rows]

    async def connectors(self, station_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Connectors as reported, with what their T/CEC code depends on (facts.timed_codes)."""
        rows = await self._pool.fetch(CONNECTOR_FACTS, list(station_ids))
        return [dict(r) for r in rows]

    async def live_sessions(
        self, measurands: Sequence[str], transaction_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Every open session at a reported pile (or one session, ended or not) with the
        latest sample of each measurand: one query per round of live data."""
        rows = await self._pool.fetch(LIVE_SESSIONS, list(measurands), transaction_id)
        return [dict(r) for r in rows]

    async def energy(
        self, station_ids: Sequence[str], first: date, last: date
    ) -> list[dict[str, Any]]:
        """Wh per station and EVSE over local days [first, last], from the daily rollup."""
        rows = await self._pool.fetch(
            """SELECT station_id, evse_id, sum(energy_wh)::bigint AS energy_wh
               FROM utilization_daily
               WHERE station_id = ANY ($1::text[]) AND day BETWEEN $2 AND $3 AND evse_id > 0
               GROUP BY station_id, evse_id ORDER BY station_id, evse_id""",
            list(station_ids),
            first,
            last,
        )
        return [dict(r) for r in rows]
