"""`csms report month YYYY-MM` and `csms demo city`: the monthly report and the city demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from csms import bootstrap
from csms.clock import utcnow
from csms.config import RegistrationPolicy, Settings, UnknownTokenPolicy
from csms.domain.period import parse_month
from csms.errors import Conflict
from csms.services.monitoring import build_reports
from csms.store import database
from csms.store.utilization import UtilizationStore


def add_parsers(commands: Any, database_options: Any) -> None:
    report = commands.add_parser("report", help="the monthly progress report")
    kinds = report.add_subparsers(dest="action", required=True)
    month = kinds.add_parser(
        "month", help="generate a month's report (HTML, JSON, CSV) and store it"
    )
    month.add_argument("month", help="YYYY-MM")
    month.add_argument("--out", type=Path, default=Path("."), help="folder for the files")
    database_options(month)
    demo = commands.add_parser(
        "demo",
        help="start the CSMS with a demo network and run its fleet",
        description="city: start the CSMS (embedded PostgreSQL in --data-dir), register a "
        "plausible synthetic network across the plan's six counties through the API, run "
        "the city-day fleet for a compressed day, roll up utilization, file this month's "
        "report, and keep serving the dashboard until Ctrl-C.",
    )
    demo.add_argument("what", choices=["city"])
    demo.add_argument("--stations", type=int, default=120)
    demo.add_argument("--duration", type=float, default=180, help="seconds of fleet run")
    demo.add_argument("--exit", action="store_true", help="stop once the report is filed")
    demo.add_argument("--ocpp-port", type=int, default=9000)
    demo.add_argument("--http-port", type=int, default=8000)
    demo.add_argument(
        "--platform-port",
        type=int,
        default=8090,
        help="run the monitoring-platform simulator here and push to it (0: no platform)",
    )
    database_options(demo)


async def report_month(args: argparse.Namespace, pool: database.Pool, settings: Settings) -> None:
    year, month = parse_month(args.month)
    _, reports = build_reports(pool, settings)
    stored = await reports.generate(year, month, by="cli")
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.out / f"report-{args.month}"
    base.with_suffix(".html").write_text(stored["html"], encoding="utf-8")
    base.with_suffix(".csv").write_text(stored["csv"], encoding="utf-8")
    base.with_suffix(".json").write_text(
        json.dumps(stored["document"], ensure_ascii=False, indent=2, default=str), "utf-8"
    )
    counts = stored["document"]["by_status"]
    print(
        f"report {args.month}: {len(stored['document']['figures'])} figures "
        f"(met {counts['met']}, on track {counts['on_track']}, behind {counts['behind']}); "
        f"written to {base}.html, .json, .csv",
        flush=True,
    )


async def demo_city(args: argparse.Namespace, settings: Settings) -> int:
    """The demo network is synthetic and says so; unknown cards are accepted so the simulated
    drivers can charge."""
    key = settings.admin_token or secrets.token_urlsafe(24)
    settings = replace(
        settings,
        ocpp_port=args.ocpp_port,
        http_port=args.http_port,
        registration=RegistrationPolicy.OPEN,
        unknown_tokens=UnknownTokenPolicy.ACCEPT,
        admin_token=key,
        cost_interval=30.0,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with (
        bootstrap.running(settings) as csms,
        demo_platform(csms, args.platform_port) as platform,
    ):
        api = f"http://127.0.0.1:{csms.http_port}"
        print(f"CSMS up: OCPP ws://127.0.0.1:{csms.ocpp_port}/ocpp, HTTP {api}", flush=True)
        if platform:
            print(f"Pushing to the platform simulator at {platform}", flush=True)
        fleet = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "simulators",
            "demo",
            "city",
            "--url",
            f"ws://127.0.0.1:{csms.ocpp_port}/ocpp",
            "--api",
            api,
            "--key",
            key,
            "--stations",
            str(args.stations),
            "--duration",
            str(args.duration),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        waiter = asyncio.ensure_future(fleet.wait())
        stopper = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            fleet.terminate()
            await fleet.wait()
            waiter.cancel()
            return 130
        stopper.cancel()
        code = waiter.result()
        if code != 0:
            print(f"csms demo: the fleet ended with exit code {code}", file=sys.stderr)
        await csms_rollup(csms, settings)
        today = _today(settings)
        _, reports = build_reports(csms.pool, settings)
        await reports.generate(today[0], today[1], by="demo")
        print(
            f"\nDashboard: {api}/dashboard#key={key}\n"
            f"Report:    {api}/api/v1/reports/monthly/{today[0]:04d}-{today[1]:02d}?format=html "
            f"(Authorization: Bearer {key})",
            flush=True,
        )
        if not args.exit:
            print("serving; Ctrl-C stops", flush=True)
            with contextlib.suppress(asyncio.CancelledError):
                await stop.wait()
    return 0 if code == 0 else 1


# Demo-only keys shared with the platform simulator (never use them for a real platform).
DEMO_PLATFORM = {
    "operator_id": "MA0DEMO01",
    "platform_operator_id": "MA0PLAT01",
    "operator_secret": "demo-operator-secret",
    "data_secret": "demo-data-key-16",
    "data_iv": "demo-data-iv-16b",
    "sig_secret": "demo-sig-secret",
}


@contextlib.asynccontextmanager
async def demo_platform(csms: bootstrap.Running, port: int) -> AsyncIterator[str | None]:
    """`csms-sim platform serve` beside the demo, registered as a platform to push to."""
    if port == 0:
        yield None
        return
    keys = DEMO_PLATFORM
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators",
        "platform",
        "serve",
        "--quiet",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *("--operator-id", keys["operator_id"]),
        *("--platform-operator-id", keys["platform_operator_id"]),
        *("--operator-secret", keys["operator_secret"]),
        *("--data-secret", keys["data_secret"]),
        *("--data-iv", keys["data_iv"]),
        *("--sig-secret", keys["sig_secret"]),
    )
    url = f"http://127.0.0.1:{port}/evcs/v1"
    try:
        with contextlib.suppress(Conflict):  # a demo database from an earlier run has it
            await csms.platforms.create(
                "demo-platform",
                {"name": "监管平台模拟器 (demo)", "base_url": url, **keys},
            )
        yield url
    finally:
        process.terminate()
        await process.wait()


def _today(settings: Settings) -> tuple[int, int]:
    now = utcnow().astimezone(ZoneInfo(settings.time_zone))
    return now.year, now.month


async def csms_rollup(csms: bootstrap.Running, settings: Settings) -> None:
    """Roll utilization up to now so the dashboard and report include the fleet's day."""
    store = UtilizationStore(csms.pool, time_zone=settings.time_zone)
    await store.maintain(utcnow())
