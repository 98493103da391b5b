"""Platform push benchmark: how fast the outbox drains to a platform, and what reporting costs
the StatusNotification path.

Run with `make bench` or `python -m tests.bench.platform_bench [--records N] [--streams S]`.
The CSMS runs in this process on a fresh embedded PostgreSQL; the platform simulator runs in
its own process on loopback. Part 1 sends StatusNotifications from one 1.6 station without and
then with a platform configured (down, so nothing is sent meanwhile) and prints round trips
per second. Part 2 queues N status records over S stations while the platform is down, starts
it and times the catch-up (in order per station, one at a time per station), and checks the
platform received each record once. Figures are printed; nothing fails on a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from csms.bootstrap import Running, running
from csms.config import Settings
from tests.ocpp_client import open_client
from tests.platform_support import create_platform, platform_process

PORT = 18790  # the platform process listens here (loopback)


STATUSES = ("Available", "Preparing", "Charging", "SuspendedEV", "Finishing")


async def _catch_up(csms: Running, records: int, streams: int) -> None:
    """The platform (its own process, as in production) is down while N records queue."""
    await csms.pool.execute(
        "INSERT INTO stations (id) SELECT 'B-' || g FROM generate_series(1, $1) g", streams
    )
    started = time.perf_counter()
    await csms.pool.execute(
        """INSERT INTO platform_outbox (platform_id, stream, kind, data)
           SELECT 'province', 'B-' || (g % $2 + 1), 'connector_status',
                  jsonb_build_object('station_id', 'B-' || (g % $2 + 1), 'evse_id', 1,
                      'connector_id', 1, 'code', (ARRAY[1, 2, 3])[g % 3 + 1])::text
           FROM generate_series(1, $1) g""",
        records,
        streams,
    )
    queued = time.perf_counter() - started
    total = await csms.pool.fetchval("SELECT count(*) FROM platform_outbox WHERE state = 'pending'")
    await asyncio.sleep(1.0)  # the lane meets a closed port and backs off
    async with platform_process(PORT) as stats:
        started = time.perf_counter()
        while await csms.pool.fetchval(
            "SELECT count(*) FROM platform_outbox WHERE state = 'pending'"
        ):
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        received = (await stats())["counts"].get("notification_stationStatus", 0)
    pending = total
    print(
        f"catch-up: {records} records over {streams} stations queued in {queued:.2f} s; "
        f"{pending} pending in all, delivered in {elapsed:.2f} s after the platform returned "
        f"= {pending / elapsed:,.0f}/s (platform received {received}, "
        f"{'exactly once' if received == pending else 'MISMATCH'})"
    )


async def _status_rate(csms: Running, station_id: str, count: int) -> float:
    cp = await open_client(csms.ocpp_port, station_id)
    await cp.call("BootNotification", {"chargePointVendor": "B", "chargePointModel": "B"})
    started = time.perf_counter()
    for i in range(count):
        status = STATUSES[i % len(STATUSES)]
        await cp.call(
            "StatusNotification", {"connectorId": 1, "status": status, "errorCode": "NoError"}
        )
    rate = count / (time.perf_counter() - started)
    await cp.close()
    return rate


async def bench(records: int, streams: int, statuses: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory(prefix="csms-platform-bench-") as tmp:
        settings = replace(
            Settings(host="127.0.0.1", ocpp_port=0, http_port=0, data_dir=Path(tmp)),
            push_retry=(0.5, 0.5, 1.0),
            push_poll=0.05,
            push_concurrency=concurrency,
            log_level="warning",
        )
        async with running(settings) as csms:
            without = await _status_rate(csms, "B-STATUS-1", statuses)
            assert csms.generated_admin_key is not None
            await create_platform(
                f"http://127.0.0.1:{csms.http_port}",
                csms.generated_admin_key,
                f"http://127.0.0.1:{PORT}/evcs/v1",
            )
            await asyncio.sleep(0.5)
            # the platform is down: pushes queue but are not sent (this times the OCPP path)
            with_platform = await _status_rate(csms, "B-STATUS-2", statuses)
            print(
                f"StatusNotification round trips, one station: {without:,.0f}/s without a "
                f"platform, {with_platform:,.0f}/s with one (code recorded and push queued in "
                "the same statement; the platform is down meanwhile, so no sending shares the CPU)"
            )
            await _catch_up(csms, records, streams)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--statuses", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32, help="pushes in flight")
    args = parser.parse_args()
    asyncio.run(bench(args.records, args.streams, args.statuses, args.concurrency))


if __name__ == "__main__":
    main()
