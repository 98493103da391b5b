"""What billing needs to know about one session's meter data, and the verdicts it reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from csms.errors import NotFound
from csms.store.database import Pool

# The whole-meter import register and interval energy, in Wh, at the outlet.
_ENERGY_WH = """round(CASE ms.unit WHEN 'kWh' THEN ms.value * 1000 ELSE ms.value END)::bigint"""
_SAMPLES = f"""SELECT ms.sampled_at, ms.received_at, ms.measurand, {_ENERGY_WH} AS wh,
        COALESCE(te.offline, false) AS offline
    FROM meter_samples ms
    LEFT JOIN transaction_events te
      ON te.transaction_id = ms.transaction_id AND te.received_at = ms.received_at
    WHERE ms.transaction_id = $1 AND ms.phase = '' AND ms.location IN ('', 'Outlet')
      AND ms.unit IN ('', 'Wh', 'kWh') AND ms.value IS NOT NULL
      AND ms.measurand IN ('Energy.Active.Import.Register', 'Energy.Active.Import.Interval')
    ORDER BY ms.id"""


@dataclass(frozen=True, slots=True)
class SessionData:
    """A transaction with its station's facts and every stored reading, as rows."""

    transaction: dict[str, Any]
    station: dict[str, Any]
    samples: list[dict[str, Any]]  # energy register / interval readings in arrival order
    messages: list[dict[str, Any]]  # station_at, received_at, offline
    states: list[dict[str, Any]]  # at, state: charging states (2.0.1) or statuses (1.6)
    signed: list[dict[str, Any]]  # signed meter data kept verbatim


class MeteringStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def session(self, transaction_id: int) -> SessionData:
        async with self._pool.acquire() as conn:
            tx = await conn.fetchrow(
                """SELECT id, station_id, ocpp_version, station_tx_id, evse_id, connector_id,
                          id_token, started_at, stopped_at, meter_start_wh, meter_stop_wh,
                          status, stop_reason, orphan, charging_state, created_at, updated_at,
                          price_class, access_reason
                   FROM transactions WHERE id = $1""",
                transaction_id,
            )
            if tx is None:
                raise NotFound(f"transaction {transaction_id} does not exist")
            station = await conn.fetchrow(
                """SELECT id, operator_id, owner_unit, site_name, county, rated_power_kw,
                          meter_cert_number, meter_cert_expires_on
                   FROM stations WHERE id = $1""",
                tx["station_id"],
            )
            samples = await conn.fetch(_SAMPLES, transaction_id)
            if tx["ocpp_version"] == "2.0.1":
                messages: Any = await conn.fetch(
                    """SELECT event_at AS station_at, received_at, offline
                       FROM transaction_events WHERE transaction_id = $1 ORDER BY seq_no""",
                    transaction_id,
                )
                states = await conn.fetch(
                    """SELECT event_at AS at,
                              payload -> 'transactionInfo' ->> 'chargingState' AS state
                       FROM transaction_events
                       WHERE transaction_id = $1
                         AND payload -> 'transactionInfo' ? 'chargingState'
                       ORDER BY event_at, seq_no""",
                    transaction_id,
                )
            else:
                messages = [
                    {"station_at": tx["started_at"], "received_at": tx["created_at"]},
                    {"station_at": tx["stopped_at"], "received_at": tx["updated_at"]},
                ]
                states = await conn.fetch(
                    """SELECT status_at AS at, status AS state FROM status_history
                       WHERE station_id = $1 AND evse_id = $2
                         AND status_at >= $3 AND ($4::timestamptz IS NULL OR status_at <= $4)
                       ORDER BY status_at, id""",
                    tx["station_id"],
                    tx["evse_id"],
                    tx["started_at"],
                    tx["stopped_at"],
                )
            signed = await conn.fetch(
                """SELECT sampled_at, measurand, context, signed_data, raw_value
                   FROM meter_samples
                   WHERE transaction_id = $1
                     AND (signed_data IS NOT NULL OR (value IS NULL AND raw_value IS NOT NULL))
                   ORDER BY sampled_at, id""",
                transaction_id,
            )
        return SessionData(
            transaction=dict(tx),
            station=dict(station) if station is not None else {},
            samples=[dict(r) for r in samples],
            messages=[dict(m) for m in messages if m["station_at"] and m["received_at"]],
            states=[dict(s) for s in states],
            signed=[
                {
                    "sampled_at": s["sampled_at"].isoformat(),
                    "measurand": s["measurand"],
                    "context": s["context"],
                    "signed_meter_value": s["signed_data"],
                    "raw_value": s["raw_value"],
                }
                for s in signed
            ],
        )

    async def record_check(
        self,
        transaction_id: int,
        verdict: str,
        reasons: list[dict[str, str]],
        energy_wh: int | None,
        clock_skew_ms: int | None,
        checked_at: datetime,
    ) -> None:
        await self._pool.execute(
            """INSERT INTO metering_checks (transaction_id, verdict, reasons, energy_wh,
                   clock_skew_ms, checked_at)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (transaction_id) DO UPDATE SET verdict = EXCLUDED.verdict,
                   reasons = EXCLUDED.reasons, energy_wh = EXCLUDED.energy_wh,
                   clock_skew_ms = EXCLUDED.clock_skew_ms, checked_at = EXCLUDED.checked_at""",
            transaction_id,
            verdict,
            reasons,
            energy_wh,
            clock_skew_ms,
            checked_at,
        )

    async def check_of(self, transaction_id: int) -> dict[str, Any] | None:
        row = await self._pool.fetchrow(
            """SELECT verdict, reasons, energy_wh, clock_skew_ms, checked_at
               FROM metering_checks WHERE transaction_id = $1""",
            transaction_id,
        )
        return None if row is None else dict(row)

    async def open_transactions(self, station_ids: list[str]) -> list[dict[str, Any]]:
        """Open transactions of the given stations (for running-cost updates)."""
        rows = await self._pool.fetch(
            """SELECT id, station_id, station_tx_id, ocpp_version FROM transactions
               WHERE status = 'open' AND NOT orphan AND station_id = ANY($1::text[])""",
            station_ids,
        )
        return [dict(r) for r in rows]

    async def set_cost(
        self, transaction_id: int, cost: Decimal | None, at: datetime, *, running: bool = False
    ) -> None:
        """Keep a session's cost; a running cost never overwrites the bill of an ended one."""
        await self._pool.execute(
            """UPDATE transactions SET cost = $2, cost_at = $3
               WHERE id = $1 AND (NOT $4 OR status = 'open')""",
            transaction_id,
            cost,
            at,
            running,
        )

    async def site_registers(
        self, site_name: str, since: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        """Import-register readings of every EVSE (and station meter, EVSE 0) at a site, per
        EVSE in time order: one index range scan per (station, EVSE)."""
        rows = await self._pool.fetch(
            f"""SELECT s.id AS station_id, e.evse_id, ms.sampled_at, {_ENERGY_WH} AS wh
                FROM stations s
                CROSS JOIN LATERAL (
                    -- the station's EVSE ids by a loose index scan: one probe per EVSE
                    WITH RECURSIVE ids AS (
                        SELECT min(evse_id) AS evse_id FROM meter_samples
                        WHERE station_id = s.id
                        UNION ALL
                        SELECT (SELECT min(evse_id) FROM meter_samples
                                WHERE station_id = s.id AND evse_id > ids.evse_id)
                        FROM ids WHERE ids.evse_id IS NOT NULL
                    )
                    SELECT evse_id FROM ids WHERE evse_id IS NOT NULL
                ) e
                JOIN LATERAL (
                    SELECT sampled_at, unit, value FROM meter_samples m
                    WHERE m.station_id = s.id AND m.evse_id = e.evse_id
                      AND m.sampled_at >= $2 AND m.sampled_at < $3
                      AND m.measurand = 'Energy.Active.Import.Register' AND m.phase = ''
                      AND m.location IN ('', 'Outlet') AND m.unit IN ('', 'Wh', 'kWh')
                      AND m.value IS NOT NULL
                ) ms ON true
                WHERE s.site_name = $1
                ORDER BY s.id, e.evse_id, ms.sampled_at""",
            site_name,
            since,
            until,
        )
        return [dict(r) for r in rows]
