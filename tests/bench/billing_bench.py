"""Billing benchmark: pure pricing and metering per session, and billing sessions on PostgreSQL.

Run with `make bench` or `python -m tests.bench.billing_bench [--sessions N]`. The database
part starts the CSMS in this process on a fresh embedded PostgreSQL (temporary directory),
writes closed 1.6 sessions with one register reading a minute, and times `BillingService.close`
(metering check, tariff lookup, pricing, CDR append to the hash chain) one by one and 16 at a
time. Figures are printed; nothing here fails on a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from csms.billing.codec import tariff_from
from csms.billing.pricing import price
from csms.bootstrap import running
from csms.config import Settings
from csms.metering.rules import MeterSession, RegisterSample, check

DEFINITION = {
    "prices": {
        "sharp": {"energy": "1.0500", "service": "0.8000"},
        "peak": {"energy": "0.9000", "service": "0.8000"},
        "flat": {"energy": "0.6000", "service": "0.6000"},
        "valley": {"energy": "0.3000", "service": "0.4000"},
    },
    "plans": [
        {
            "periods": [
                {"start": "00:00", "end": "07:00", "band": "valley"},
                {"start": "07:00", "end": "10:00", "band": "flat"},
                {"start": "10:00", "end": "12:00", "band": "peak"},
                {"start": "12:00", "end": "18:00", "band": "flat"},
                {"start": "18:00", "end": "20:00", "band": "sharp"},
                {"start": "20:00", "end": "23:00", "band": "peak"},
                {"start": "23:00", "end": "24:00", "band": "valley"},
            ]
        }
    ],
    "idle_fee": {"per_minute": "0.5000", "grace_minutes": 15, "cap": "50.00"},
    "session_fee": "0.00",
}
START = datetime(2026, 11, 2, 5, 30, tzinfo=UTC)  # 13:30 in Shanghai: crosses 18:00 and 20:00


def _registers(minutes: int) -> list[RegisterSample]:
    return [
        RegisterSample(START + timedelta(minutes=m), START + timedelta(minutes=m), 1000 + 120 * m)
        for m in range(minutes + 1)
    ]


def bench_pure(rounds: int) -> None:
    tariff = tariff_from(
        tariff_id="bench",
        version=1,
        name="bench",
        currency="CNY",
        time_zone="Asia/Shanghai",
        effective_from=START - timedelta(days=1),
        effective_to=None,
        definition=DEFINITION,
    )
    print("pure engines (one session, register every minute)")
    for minutes in (60, 480, 1440):
        registers = _registers(minutes)
        session = MeterSession(
            started_at=START,
            stopped_at=registers[-1].sampled_at,
            meter_start_wh=registers[0].wh,
            meter_stop_wh=registers[-1].wh,
            registers=registers,
            rated_power_w=22_000,
        )
        t0 = time.perf_counter()
        for _ in range(rounds):
            checked = check(session)
        t1 = time.perf_counter()
        for _ in range(rounds):
            bill = price(tariff, checked.readings)
        t2 = time.perf_counter()
        print(
            f"  {minutes:>5} readings: check {1e3 * (t1 - t0) / rounds:7.2f} ms, "
            f"price {1e3 * (t2 - t1) / rounds:7.2f} ms, {len(bill.lines)} lines, "
            f"total {bill.total} CNY"
        )


async def bench_database(sessions: int, minutes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="csms-billing-bench-") as tmp:
        settings = replace(
            Settings(host="127.0.0.1", ocpp_port=0, http_port=0, data_dir=Path(tmp)),
            node_id="bench",
            admin_token="bench-admin-token-0123456789",
        )
        async with running(settings) as csms:
            pool = csms.pool
            await pool.execute(
                """INSERT INTO tariffs (tariff_id, version, name, time_zone, effective_from,
                       definition) VALUES ('bench', 1, 'bench', 'Asia/Shanghai', $1, $2)""",
                START - timedelta(days=1),
                DEFINITION,
            )
            await pool.execute(
                """INSERT INTO tariff_assignments (tariff_id, scope, effective_from)
                   VALUES ('bench', 'network', $1)""",
                START - timedelta(days=1),
            )
            await pool.execute("INSERT INTO stations (id, rated_power_kw) VALUES ('BENCH-1', 22)")
            ids = []
            for n in range(sessions):
                start = START + timedelta(days=n % 20, minutes=n)
                tx = await pool.fetchval(
                    """INSERT INTO transactions (station_id, ocpp_version, evse_id, connector_id,
                           id_token, started_at, stopped_at, meter_start_wh, meter_stop_wh,
                           status)
                       VALUES ('BENCH-1', '1.6', 1, 1, 'T', $1, $2, $3, $4, 'closed')
                       RETURNING id""",
                    start,
                    start + timedelta(minutes=minutes),
                    1000,
                    1000 + 120 * minutes,
                )
                await pool.executemany(
                    """INSERT INTO meter_samples (station_id, evse_id, connector_id,
                           transaction_id, sampled_at, received_at, measurand, unit, value)
                       VALUES ('BENCH-1', 1, 1, $1, $2, $2, 'Energy.Active.Import.Register',
                               'Wh', $3)""",
                    [
                        (tx, start + timedelta(minutes=m, seconds=n % 60), Decimal(1000 + 120 * m))
                        for m in range(1, minutes)
                    ],
                )
                ids.append(tx)
            billing = csms.services.billing
            half = len(ids) // 2
            latencies = []
            t0 = time.perf_counter()
            for tx in ids[:half]:
                t = time.perf_counter()
                await billing.close(tx)
                latencies.append(time.perf_counter() - t)
            sequential = time.perf_counter() - t0
            t0 = time.perf_counter()
            pending = list(ids[half:])
            while pending:
                batch, pending = pending[:16], pending[16:]
                await asyncio.gather(*(billing.close(tx) for tx in batch))
            concurrent = time.perf_counter() - t0
            cdrs = await pool.fetchval("SELECT count(*) FROM cdrs")
            chain = await billing.verify()
            print(f"billing ended sessions on PostgreSQL ({minutes} readings each)")
            print(
                f"  one at a time: {half / sequential:7.1f} sessions/s, "
                f"median {1e3 * statistics.median(latencies):.1f} ms, "
                f"p99 {1e3 * sorted(latencies)[int(0.99 * (len(latencies) - 1))]:.1f} ms"
            )
            print(f"  16 at a time:  {(len(ids) - half) / concurrent:7.1f} sessions/s")
            print(f"  CDRs filed: {cdrs}; chain verified: {all(c['ok'] for c in chain)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    bench_pure(args.rounds)
    asyncio.run(bench_database(args.sessions, args.minutes))


if __name__ == "__main__":
    main()
