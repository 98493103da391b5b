"""What billing needs to know about one session's meter data, and the verdicts it reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from csms.errors import NotFound
from csms.metering.delivery import queued
from csms.store.database import Pool

# The whole-meter import register and interval energy, in Wh, at the outlet (alias `ms`).
ENERGY_WH = """round(CASE ms.unit WHEN 'kWh' THEN ms.value * 1000 ELSE ms.value END)::bigint"""
_SAMPLES = f"""SELECT ms.sampled_at, ms.received_at, ms.measurand, {ENERGY_WH} AS wh,
        COALESCE(te.offline, false) AS offline
    FROM meter_samples ms
    LEFT JOIN transaction_events te
      ON te.transaction_id = ms.transaction_id AND te.received_at = ms.received_at
    WHERE ms.transaction_id = $1 AND ms.phase = '' AND ms.location IN ('', 'Outlet')
      AND ms.unit IN ('', 'Wh', 'kWh') AND ms.value IS NOT NULL
      AND ms.measurand IN ('Energy.Active.Import.Register', 'Energy.Active.Import.Interval')
    ORDER BY ms.id"""
# Register readings delivered again for a stored moment with another value (in Wh; NULL when
# unreadable). The energy is compared in Wh, so a unit change alone is no conflict for money.
_CONFLICTS = """SELECT c.sampled_at,
        round(CASE c.stored_unit WHEN 'kWh' THEN c.stored_value * 1000
              ELSE c.stored_value END)::bigint AS stored_wh,
        round(CASE c.unit WHEN 'kWh' THEN c.value * 1000 ELSE c.value END)::bigint AS other_wh
    FROM meter_sample_conflicts c
    WHERE c.transaction_id = $1 AND c.measurand = 'Energy.Active.Import.Register'
      AND c.phase = '' AND c.location IN ('', 'Outlet') AND c.unit IN ('', 'Wh', 'kWh')
      AND COALESCE(c.stored_unit, '') IN ('', 'Wh', 'kWh')
    ORDER BY c.sampled_at, c.id"""
# When the station's connections opened: the last opening at or before $2 (the earliest
# receipt) and every later one up to $3 (the latest). Data arrived on the connection of the
# latest opening at or before its receipt.
_CONNECTIONS = """SELECT connected_at FROM station_connections
    WHERE station_id = $1 AND connected_at <= $3
      AND connected_at >= COALESCE((SELECT max(connected_at) FROM station_connections
                                    WHERE station_id = $1 AND connected_at <= $2),
                                   '-infinity')
    ORDER BY connected_at"""


@dataclass(frozen=True, slots=True)
class SessionData:
    """A transaction with its station's facts and every stored reading, as rows."""

    transaction: dict[str, Any]
    station: dict[str, Any]
    samples: list[dict[str, Any]]  # energy register / interval readings in arrival order
    messages: list[dict[str, Any]]  # station_at, received_at, offline
    states: list[dict[str, Any]]  # at, state: charging states (2.0.1) or statuses (1.6)
    signed: list[dict[str, Any]]  # signed meter data kept verbatim
    conflicts: list[dict[str, Any]]  # sampled_at, stored_wh, other_wh: register conflicts


class MeteringStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def session(self, transaction_id: int) -> SessionData:
        async with self._pool.acquire() as conn:
            tx = await conn.fetchrow(
                """SELECT id, station_id, ocpp_version, station_tx_id, evse_id, connector_id,
                          id_token, started_at, stopped_at, meter_start_wh, meter_stop_wh,
                          status, stop_reason, orphan, charging_state, created_at, updated_at,
                          price_class, access_reason, auth_status, refused, seq_anomalies
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
                # A 1.6 row is created when its start arrives and last updated when its stop
                # does, unless another stop for it came later (kept as an orphan beside it,
                # noted as conflicting_stop): then when its own stop arrived is not known.
                stop_received = (
                    None if "conflicting_stop" in tx["seq_anomalies"] else tx["updated_at"]
                )
                messages = [
                    {"station_at": tx["started_at"], "received_at": tx["created_at"]},
                    {"station_at": tx["stopped_at"], "received_at": stop_received},
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
            conflicts = await conn.fetch(_CONFLICTS, transaction_id)
            readings = [dict(r) for r in samples]
            times = [dict(m) for m in messages if m["station_at"] and m["received_at"]]
            await _mark_queued(conn, tx["station_id"], readings, times)
        return SessionData(
            transaction=dict(tx),
            station=dict(station) if station is not None else {},
            samples=readings,
            messages=times,
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
            conflicts=[dict(c) for c in conflicts],
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
        """Open transactions of the given stations (for running-cost updates); a refused start
        has no cost to tell."""
        rows = await self._pool.fetch(
            """SELECT id, station_id, station_tx_id, ocpp_version FROM transactions
               WHERE status = 'open' AND NOT orphan AND NOT refused
                 AND station_id = ANY($1::text[])""",
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
            f"""SELECT s.id AS station_id, e.evse_id, ms.sampled_at, {ENERGY_WH} AS wh
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


async def _mark_queued(
    conn: Any, station_id: str, samples: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> None:
    """Mark as offline what was stamped before the connection it arrived on opened (queued
    data, whatever the version): one query for the connections of the received-time range."""
    received = [s["received_at"] for s in samples] + [m["received_at"] for m in messages]
    if not received:
        return
    rows = await conn.fetch(_CONNECTIONS, station_id, min(received), max(received))
    connected = [r["connected_at"] for r in rows]
    for sample in samples:
        late = queued(connected, sample["sampled_at"], sample["received_at"])
        sample["offline"] = bool(sample.get("offline")) or late
    for message in messages:
        late = queued(connected, message["station_at"], message["received_at"])
        message["offline"] = bool(message.get("offline")) or late
