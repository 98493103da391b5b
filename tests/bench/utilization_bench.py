"""Utilization benchmark: a month of a 4,000-pile network, queried through the store and the API,
and the maintenance rollup over a day of raw sessions, samples, connections and statuses.

Run with `make bench` or `python -m tests.bench.utilization_bench [--stations N] [--days D]`.
It starts the CSMS in this process on a fresh embedded PostgreSQL (temporary directory), writes
a month of hourly rows (one EVSE per pile plus the station's online row) with history around it,
rolls the month up by day, times the queries the monitoring views make (and prints their plans),
then loads a day of raw history and times the maintenance rollup. Figures are printed; nothing
fails on a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from csms.bootstrap import running
from csms.config import Settings
from csms.monitoring.utilization import Granularity, Grouping, local_midnight
from csms.store.utilization import UtilizationStore

COUNTIES = ["朔城区", "平鲁区", "怀仁市", "山阴县", "应县", "右玉县"]
CATEGORIES = ["urban_public_parking", "commercial", "transport_hub", "bus_depot", "other"]
ADMIN = "bench-admin-token-0123456789"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:8.1f} ms"


async def _timed(label: str, work: Any, rounds: int = 3) -> Any:
    """Run `work()` `rounds` times; print the best and the first (cold) time."""
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - started)
    print(f"  {label:<58} first {_ms(times[0])}  best {_ms(min(times))}")
    return result


async def _registry(pool: Any, stations: int) -> list[str]:
    ids = [f"SZ-{n:05d}" for n in range(stations)]
    await pool.executemany(
        "INSERT INTO sites (site_name, category) VALUES ($1, $2)",
        [(f"site-{c}", c) for c in CATEGORIES],
    )
    await pool.executemany(
        "INSERT INTO stations (id, county, site_name) VALUES ($1, $2, $3)",
        [
            (sid, COUNTIES[n % len(COUNTIES)], f"site-{CATEGORIES[n % len(CATEGORIES)]}")
            for n, sid in enumerate(ids)
        ],
    )
    await pool.executemany(
        """INSERT INTO station_equipment (station_id, connector_no, power_kw, current)
           VALUES ($1, 1, $2, $3)""",
        [
            (sid, Decimal(60) if n % 4 == 0 else Decimal(7), "DC" if n % 4 == 0 else "AC")
            for n, sid in enumerate(ids)
        ],
    )
    return ids


_HOURLY_ROWS = """
INSERT INTO utilization_hourly (station_id, evse_id, hour, sessions, counted_sessions,
    busy_seconds, energy_wh, online_seconds, fault_seconds)
SELECT s.id, e.evse_id, h.hour,
       CASE WHEN e.evse_id = 1 THEN (s.n + h.n) % 3 ELSE 0 END,
       CASE WHEN e.evse_id = 1 THEN (s.n + h.n) % 2 ELSE 0 END,
       CASE WHEN e.evse_id = 1 THEN ((s.n * 7 + h.n * 13) % 3600)::float ELSE 0 END,
       CASE WHEN e.evse_id = 1 THEN (s.n * 7 + h.n * 13) % 3600 * 2 ELSE 0 END,
       CASE WHEN e.evse_id = 0 AND (s.n + h.n) % 50 <> 0 THEN 3600 ELSE 0 END,
       CASE WHEN e.evse_id = 1 AND (s.n + h.n) % 97 = 0 THEN 600 ELSE 0 END
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM stations) s
CROSS JOIN (SELECT hour, row_number() OVER (ORDER BY hour) AS n
            FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour',
                                 interval '1 hour') hour) h
CROSS JOIN (VALUES (0), (1)) e (evse_id)
"""
_DAILY_ROWS = """
INSERT INTO utilization_daily (station_id, evse_id, day, sessions, counted_sessions,
    busy_seconds, energy_wh, online_seconds, fault_seconds)
SELECT s.id, e.evse_id, d::date,
       CASE WHEN e.evse_id = 1 THEN 24 ELSE 0 END, CASE WHEN e.evse_id = 1 THEN 12 ELSE 0 END,
       CASE WHEN e.evse_id = 1 THEN 43200 ELSE 0 END, CASE WHEN e.evse_id = 1 THEN 86400 ELSE 0 END,
       CASE WHEN e.evse_id = 0 THEN 84000 ELSE 0 END, 0
FROM stations s
CROSS JOIN generate_series($1::date, $2::date, interval '1 day') d
CROSS JOIN (VALUES (0), (1)) e (evse_id)
"""


async def bench_month(pool: Any, http: httpx.AsyncClient, ids: list[str], days: int) -> None:
    first_day = date(2026, 1, 1)
    last_day = first_day + timedelta(days=days - 1)
    start = local_midnight(first_day, SHANGHAI)
    end = local_midnight(last_day + timedelta(days=1), SHANGHAI)
    started = time.perf_counter()
    status = await pool.execute(_HOURLY_ROWS, start, end)
    loaded = time.perf_counter() - started
    rows = int(status.split()[-1])
    print(
        f"month of a {len(ids)}-pile network: {rows:,} hourly rows "
        f"({len(ids)} piles x 2 rows (EVSE 1, station online) x {days * 24} hours)"
    )
    print(f"  {'INSERT into utilization_hourly':<58}       {_ms(loaded)}")
    store = UtilizationStore(pool)
    started = time.perf_counter()
    daily = await store.rollup_days(first_day, last_day)
    label = f"daily rollup of the month ({daily:,} daily rows)"
    print(f"  {label:<58}       {_ms(time.perf_counter() - started)}")
    # history around it, so the month is a selective part of the tables: the week before in
    # hourly rows, the 11 months before in daily rows
    await pool.execute(_HOURLY_ROWS, start - timedelta(days=7), start)
    await pool.execute(_DAILY_ROWS, first_day - timedelta(days=335), first_day - timedelta(days=1))
    hourly_total = await pool.fetchval("SELECT count(*) FROM utilization_hourly")
    daily_total = await pool.fetchval("SELECT count(*) FROM utilization_daily")
    await pool.execute("ANALYZE utilization_hourly")
    await pool.execute("ANALYZE utilization_daily")
    print(f"  tables now: {hourly_total:,} hourly rows, {daily_total:,} daily rows (a year)")

    print("store queries (sums only)")
    for grouping, granularity in (
        (Grouping.COUNTY, Granularity.DAY),
        (Grouping.CATEGORY, Granularity.TOTAL),
        (Grouping.STATION, Granularity.TOTAL),
        (Grouping.STATION, Granularity.DAY),
        (Grouping.COUNTY, Granularity.HOUR),
    ):

        async def sums(g: Grouping = grouping, k: Granularity = granularity) -> Any:
            return await store.sums(g, k, first_day, last_day)

        found = await _timed(f"by {grouping.value}, {granularity.value}", sums)
        print(f"    -> {len(found):,} sum rows")

    print("query plans")
    for granularity in (Granularity.DAY, Granularity.HOUR):
        plan = await store.explain_sums(Grouping.COUNTY, granularity, first_day, last_day)
        scans = [line.strip() for line in plan.splitlines() if "Scan" in line]
        print(f"  by county, {granularity.value}:")
        for line in scans:
            print(f"    {line[:110]}")

    print("API (GET /api/v1/monitoring/utilization, HTTP + JSON, whole answer)")
    for by, granularity_name in (
        ("county", "day"),
        ("category", "total"),
        ("county", "hour"),  # a week: hourly figures cover at most 7 days
        ("station", "total"),
        ("station", "day"),
    ):
        params = {
            "since": (
                first_day if granularity_name != "hour" else last_day - timedelta(days=6)
            ).isoformat(),
            "until": last_day.isoformat(),
            "by": by,
            "granularity": granularity_name,
        }

        async def get(p: dict[str, str] = params) -> httpx.Response:
            r = await http.get("/api/v1/monitoring/utilization", params=p)
            assert r.status_code == 200, r.text
            return r

        r = await _timed(f"by {by}, {granularity_name}", get)
        body = r.json()
        print(
            f"    -> {len(body['rows']):,} rows, {len(r.content) / 1e6:.1f} MB; network time "
            f"utilization {body['totals']['time_utilization']}, "
            f"online rate {body['totals']['online_rate']}"
        )


async def bench_rollup(pool: Any, ids: list[str]) -> None:
    """A day of raw history: a 30-minute session per pile and hour with a reading every 5
    minutes, a connection per pile, a fault an hour at every 20th pile."""
    now = datetime.now(UTC)
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=25)
    tx_rows, sample_rows = [], []
    tx_id = 1_000_000
    for n, sid in enumerate(ids):
        for h in range(26):
            begin = first + timedelta(hours=h, minutes=n % 30)
            end = begin + timedelta(minutes=30)
            if end > now:
                continue
            tx_id += 1
            tx_rows.append((tx_id, sid, "1.6", 1, 1, "T", begin, end, 0, 3000, "closed"))
            for m in range(5, 30, 5):
                at = begin + timedelta(minutes=m)
                sample_rows.append(
                    (
                        sid,
                        1,
                        1,
                        tx_id,
                        at,
                        at,
                        "Energy.Active.Import.Register",
                        "Wh",
                        Decimal(m * 100),
                    )
                )
    started = time.perf_counter()
    await pool.copy_records_to_table(
        "transactions",
        records=tx_rows,
        columns=[
            "id",
            "station_id",
            "ocpp_version",
            "evse_id",
            "connector_id",
            "id_token",
            "started_at",
            "stopped_at",
            "meter_start_wh",
            "meter_stop_wh",
            "status",
        ],
    )
    await pool.copy_records_to_table(
        "meter_samples",
        records=sample_rows,
        columns=[
            "station_id",
            "evse_id",
            "connector_id",
            "transaction_id",
            "sampled_at",
            "received_at",
            "measurand",
            "unit",
            "value",
        ],
    )
    await pool.copy_records_to_table(
        "station_connections",
        records=[(sid, "bench", first - timedelta(hours=1)) for sid in ids],
        columns=["station_id", "node_id", "connected_at"],
    )
    statuses = []
    for n, sid in enumerate(ids):
        statuses.append((sid, 1, 1, "Available", first - timedelta(hours=2)))
        if n % 20 == 0:
            statuses.append((sid, 1, 1, "Faulted", first + timedelta(hours=3)))
            statuses.append((sid, 1, 1, "Available", first + timedelta(hours=4)))
    await pool.copy_records_to_table(
        "status_history",
        records=[(*s, s[4]) for s in statuses],
        columns=["station_id", "evse_id", "connector_id", "status", "status_at", "received_at"],
    )
    await pool.executemany(
        """INSERT INTO connectors (station_id, evse_id, connector_id, status, status_at,
               received_at) VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE
               SET status = EXCLUDED.status, status_at = EXCLUDED.status_at""",
        list({s[0]: s for s in sorted(statuses, key=lambda s: s[4])}.values()),
    )
    for table in ("transactions", "meter_samples", "station_connections", "status_history"):
        await pool.execute(f"ANALYZE {table}")
    print(
        f"raw history of the last 26 hours: {len(tx_rows):,} sessions, "
        f"{len(sample_rows):,} register readings, {len(ids):,} connections, "
        f"{len(statuses):,} statuses (loaded in {_ms(time.perf_counter() - started).strip()})"
    )
    store = UtilizationStore(pool)
    print("maintenance rollup (hourly rows from raw history, then the daily rows)")
    for label in (
        "first round of the hour: last 26 hours",
        "every other minute: last 2 hours",
        "the last 2 hours again",
    ):
        while True:  # the CSMS's own maintenance round may hold the rollup lock
            started = time.perf_counter()
            done = await store.maintain(datetime.now(UTC))
            elapsed = time.perf_counter() - started
            if done is not None:
                break
            await asyncio.sleep(0.5)
        detail = f"{done.hours:,} hourly rows ({done.changed:,} written), {done.days:,} daily rows"
        print(f"  {label:<40} {_ms(elapsed)}  ({detail})")


async def main_async(stations: int, days: int) -> None:
    with tempfile.TemporaryDirectory(prefix="csms-bench-util-") as tmp:
        settings = replace(
            Settings(host="127.0.0.1", ocpp_port=0, http_port=0, data_dir=Path(tmp)),
            node_id="bench",
            admin_token=ADMIN,
        )
        async with running(settings) as csms:
            ids = await _registry(csms.pool, stations)
            base = f"http://127.0.0.1:{csms.http_port}"
            headers = {"Authorization": f"Bearer {ADMIN}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
                await bench_month(csms.pool, http, ids, days)
            await bench_rollup(csms.pool, ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=4000)
    parser.add_argument("--days", type=int, default=31)
    args = parser.parse_args()
    asyncio.run(main_async(args.stations, args.days))


if __name__ == "__main__":
    main()
