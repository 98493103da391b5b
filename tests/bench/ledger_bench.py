"""Ledger benchmark: PostgreSQL's CPU per 1.6 MeterValues for each way the ledger stores samples.

Run with `make bench` or `python -m tests.bench.ledger_bench [--stations N] [--rounds N]`. A
fresh embedded PostgreSQL (temporary directory, every migration applied) gets `--stations`
stations with an open transaction each; then each round stores one MeterValues per station (four
samples: register, power, current, voltage, all new) as one batch, by the hot path's plain
INSERT (ledger_sql.INSERT_NEW_SAMPLES) and by the statement that judges replays
(MOVE_DISTINCT_SAMPLES), alternating, each batch its own commit. The figure is the CPU time of
PostgreSQL's processes (server, backends, WAL writer) per message, read from /proc: it does not
count the load this process puts on the machine, but it does vary with the machine's other load
(compare the two statements within one run). Figures are printed; nothing here fails on a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import psutil

from csms.domain.meter import Sample
from csms.domain.station import ConnectorRef
from csms.store import ledger_sql
from csms.store.database import migrate
from csms.store.embedded import EmbeddedPostgres
from csms.store.ledger import batch_json, sample_rows

STATEMENTS = {
    "plain INSERT (new samples)": ledger_sql.INSERT_NEW_SAMPLES,
    "ON CONFLICT (judges replays)": ledger_sql.MOVE_DISTINCT_SAMPLES,
}
MEASURANDS = (
    ("Energy.Active.Import.Register", "Wh"),
    ("Power.Active.Import", "W"),
    ("Current.Import", "A"),
    ("Voltage", "V"),
)
WHERE = ConnectorRef(1, 1)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its children (PostgreSQL's backends)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.Error:  # a backend that just exited
            continue
        total += times.user + times.system
    return total


def _batch(stations: list[str], transactions: list[int], second: int) -> str:
    """One MeterValues per station, sampled two days ago plus `second` (never stored before)."""
    at = datetime(2026, 11, 2, tzinfo=UTC) + timedelta(seconds=second)
    rows = []
    for station, tx in zip(stations, transactions, strict=True):
        samples = [
            Sample(at, measurand, Decimal(1000 + second), unit, "", "Outlet", "Sample.Periodic")
            for measurand, unit in MEASURANDS
        ]
        rows += sample_rows(station, WHERE, tx, samples, at + timedelta(days=2))
    return batch_json(rows)


async def bench(station_count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="csms-ledger-bench-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp))
        url = await embedded.start()
        try:
            postmaster = int((Path(tmp) / "pgdata" / "postmaster.pid").read_text().split()[0])
            conn = await asyncpg.connect(url)
            try:
                await migrate(conn)
                stations = [f"BENCH-{i:05d}" for i in range(station_count)]
                transactions = []
                for station in stations:
                    await conn.execute("INSERT INTO stations (id) VALUES ($1)", station)
                    transactions.append(
                        await conn.fetchval(
                            "INSERT INTO transactions (station_id, ocpp_version, evse_id,"
                            " connector_id, started_at) VALUES ($1, '1.6', 1, 1, $2)"
                            " RETURNING id",
                            station,
                            datetime(2026, 11, 2, tzinfo=UTC),
                        )
                    )
                cpu: dict[str, list[float]] = {name: [] for name in STATEMENTS}
                wall: dict[str, list[float]] = {name: [] for name in STATEMENTS}
                second = 0
                for round_ in range(rounds + 2):  # the first two warm the plans up
                    for name, statement in STATEMENTS.items():
                        second += 1
                        text = _batch(stations, transactions, second)
                        c0, t0 = _cpu_seconds(postmaster), time.perf_counter()
                        stored = await conn.fetchrow(statement, text)
                        c1, t1 = _cpu_seconds(postmaster), time.perf_counter()
                        assert stored["inserted"] == 4 * station_count, stored
                        if round_ >= 2:
                            cpu[name].append((c1 - c0) / station_count)
                            wall[name].append((t1 - t0) / station_count)
            finally:
                await conn.close()
        finally:
            embedded.stop()
    print(
        f"ledger: storing one 1.6 MeterValues (4 new samples) from each of {station_count}"
        f" stations per batch, {rounds} batches per statement"
    )
    for name in STATEMENTS:  # CPU as a mean: /proc counts in 10 ms ticks, a batch takes ~30 ms
        print(
            f"  {name:30} PostgreSQL CPU {1e6 * statistics.fmean(cpu[name]):5.1f} us"
            f" per message, wall median {1e6 * statistics.median(wall[name]):5.1f} us"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(bench(args.stations, args.rounds))


if __name__ == "__main__":
    main()
