"""`csms demo city`: a CSMS on its own data with a synthetic network, its fleet and a platform.

The demo keeps to its own data directory (`<data-dir>/demo` unless `--data-dir` names one) and
ignores `DATABASE_URL` (only `--database-url` points it at a server): its invented stations,
tariff and CDR chain must never land in the operator's database, and deleting that folder
removes all of it. A default port that is taken (say by `csms serve`) is swapped for a free one;
a port given on the command line is used as given, and a taken one ends the demo in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import re
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from csms import bootstrap
from csms.clock import utcnow
from csms.config import RegistrationPolicy, Settings, UnknownTokenPolicy
from csms.errors import ConfigError, Conflict
from csms.services.monitoring import build_reports
from csms.startup_errors import redact
from csms.store.utilization import UtilizationStore

PLATFORM_HOST = "127.0.0.1"  # the platform simulator listens on loopback only
# Where the fleet (`csms-sim demo city`) reads its API key (simulators.demo.KEY_ENV): the
# environment, since a command line is readable by every local user through `ps`.
SIM_KEY_ENV = "CSMS_SIM_KEY"
# The CSMS's own secrets, which the fleet child process has no use for.
_NOT_FOR_THE_FLEET = frozenset({"CSMS_ADMIN_TOKEN", "CSMS_SECRET_KEY", "DATABASE_URL"})


@dataclass(frozen=True, slots=True)
class PortOption:
    dest: str
    flag: str
    default: int
    off: str = ""  # what 0 means, when it does not mean "any free port"


PORT_OPTIONS = (
    PortOption("ocpp_port", "--ocpp-port", 9000),
    PortOption("http_port", "--http-port", 8000),
    PortOption("platform_port", "--platform-port", 8090, off="no platform"),
)


def add_parser(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="start the CSMS with a demo network and run its fleet",
        description="city: start the CSMS on the demo's own data (embedded PostgreSQL in "
        "<data-dir>/demo, or --data-dir; DATABASE_URL is not used, only --database-url), "
        "register a plausible synthetic network across the plan's six counties through the "
        "API, run the city-day fleet for a compressed day, roll up utilization, file this "
        "month's report, and keep serving the dashboard until Ctrl-C. Delete the demo's data "
        "directory to remove everything it made. A default port that is taken is replaced by "
        "a free one; a port given here that is taken ends the demo with one line.",
    )
    demo.add_argument("what", choices=["city"])
    demo.add_argument("--stations", type=int, default=120)
    demo.add_argument("--duration", type=float, default=180, help="seconds of fleet run")
    demo.add_argument("--exit", action="store_true", help="stop once the report is filed")
    for opt in PORT_OPTIONS:
        what = f"0: {opt.off}" if opt.off else "0: any free port"
        demo.add_argument(
            opt.flag,
            dest=opt.dest,
            type=int,
            default=None,
            help=f"default {opt.default}, or a free port when it is taken ({what})",
        )
    demo.add_argument(
        "--data-dir",
        help="the demo's data directory (default: <data-dir>/demo, <data-dir> as for "
        "`csms serve`); delete it to remove the demo",
    )
    demo.add_argument(
        "--database-url", help="a PostgreSQL for the demo instead (DATABASE_URL is not used)"
    )


def listen_problem(host: str, port: int) -> str | None:
    """Why nothing can listen on host:port right now, or None when something can (the servers
    set SO_REUSEADDR as this probe does, so a port in TIME_WAIT counts as free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.create_server((host, port), family=family):
            return None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return "the address is already in use"
        return exc.strerror or str(exc)


def choose_ports(
    args: argparse.Namespace, host: str, problem: Callable[[str, int], str | None] = listen_problem
) -> tuple[dict[str, int], list[str]]:
    """The port for each server and notes for the operator; ConfigError for a port given on the
    command line that cannot be listened on."""
    ports: dict[str, int] = {}
    notes: list[str] = []
    for opt in PORT_OPTIONS:
        given: int | None = getattr(args, opt.dest)
        where = PLATFORM_HOST if opt.dest == "platform_port" else host
        if given is not None:
            why = problem(where, given) if given else None
            if why:
                raise ConfigError(
                    f"cannot listen on {where}:{given} ({opt.flag}): {why} (stop what holds "
                    f"it, choose another {opt.flag}, or leave {opt.flag} out to take a free one)"
                )
            ports[opt.dest] = given
        elif problem(where, opt.default):
            ports[opt.dest] = 0
            notes.append(f"port {opt.default} ({opt.flag}) is taken: the demo takes a free one")
        else:
            ports[opt.dest] = opt.default
    return ports, notes


def demo_settings(
    args: argparse.Namespace, settings: Settings, ports: dict[str, int], key: str
) -> Settings:
    """The demo's settings: its own data directory, open registration, unknown cards accepted
    so the simulated drivers can charge."""
    return replace(
        settings,
        data_dir=settings.data_dir if args.data_dir else settings.data_dir / "demo",
        database_url=args.database_url or None,
        ocpp_port=ports["ocpp_port"],
        http_port=ports["http_port"],
        registration=RegistrationPolicy.OPEN,
        unknown_tokens=UnknownTokenPolicy.ACCEPT,
        admin_token=key,
        cost_interval=30.0,
    )


def where_the_data_goes(settings: Settings) -> str:
    if settings.database_url:
        return (
            f"Demo data: the database at {redact(settings.database_url)} (--database-url); "
            "it stays there after the demo"
        )
    return (
        f"Demo data: {settings.data_dir} (its own embedded PostgreSQL; to remove the demo, "
        "stop it and delete that folder)"
    )


async def demo_city(args: argparse.Namespace, settings: Settings) -> int:
    """The demo network is synthetic and says so. Exit code: 0, 1 (the fleet failed or the
    demo could not start), 130 (Ctrl-C)."""
    try:
        ports, notes = choose_ports(args, settings.host)
    except ConfigError as exc:
        print(f"csms demo: {exc}", file=sys.stderr)
        return 1
    # Always a key of its own, never CSMS_ADMIN_TOKEN: the demo prints its key and hands it to
    # the fleet, and a production admin token must be neither shown nor passed around.
    key = secrets.token_urlsafe(24)
    settings = demo_settings(args, settings, ports, key)
    print(where_the_data_goes(settings), flush=True)
    if os.environ.get("DATABASE_URL") and not args.database_url:
        print("DATABASE_URL is not used by the demo (--database-url chooses a server)", flush=True)
    for note in notes:
        print(note, flush=True)
    try:
        return await _run(args, settings, key, ports["platform_port"])
    except ConfigError as exc:
        print(f"csms demo: {exc}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, settings: Settings, key: str, platform_port: int) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # the simulator first: when it cannot start, the CSMS never does (one line, no traceback)
    async with (
        platform_simulator(platform_port if args.platform_port != 0 else None) as platform,
        bootstrap.running(settings) as csms,
    ):
        api = f"http://127.0.0.1:{csms.http_port}"
        dashboard = f"Dashboard: {api}/dashboard#key={key}"
        print(f"CSMS up: OCPP ws://127.0.0.1:{csms.ocpp_port}/ocpp, HTTP {api}", flush=True)
        if platform:
            await register_platform(csms, platform)
            print(f"Pushing to the platform simulator at {platform}", flush=True)
        print(f"{dashboard}\nAPI key:   {key} (admin; valid while the demo runs)", flush=True)
        command, env = fleet_command(args, csms.ocpp_port, api, key)
        fleet = await asyncio.create_subprocess_exec(*command, env=env)
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
        year, month = _this_month(settings)
        _, reports = build_reports(csms.pool, settings)
        await reports.generate(year, month, by="demo")
        print(
            f"\n{dashboard}\n"
            f"Report:    {api}/api/v1/reports/monthly/{year:04d}-{month:02d}?format=html "
            f"(Authorization: Bearer {key})",
            flush=True,
        )
        if not args.exit:
            print("serving; Ctrl-C stops", flush=True)
            with contextlib.suppress(asyncio.CancelledError):
                await stop.wait()
    return 0 if code == 0 else 1


def fleet_command(
    args: argparse.Namespace, ocpp_port: int, api: str, key: str
) -> tuple[list[str], dict[str, str]]:
    """`csms-sim demo city` against this CSMS: its command line and environment. The key goes
    in the environment (CSMS_SIM_KEY): a command line is readable by every local user (`ps`)."""
    command = [
        sys.executable,
        "-m",
        "simulators",
        "demo",
        "city",
        "--url",
        f"ws://127.0.0.1:{ocpp_port}/ocpp",
        "--api",
        api,
        "--stations",
        str(args.stations),
        "--duration",
        str(args.duration),
    ]
    # the CSMS's own secrets stay with it; the fleet needs only the demo key
    env = {k: v for k, v in os.environ.items() if k not in _NOT_FOR_THE_FLEET}
    return command, {**env, "PYTHONUNBUFFERED": "1", SIM_KEY_ENV: key}


# Demo-only keys shared with the platform simulator (never use them for a real platform).
DEMO_PLATFORM = {
    "operator_id": "MA0DEMO01",
    "platform_operator_id": "MA0PLAT01",
    "operator_secret": "demo-operator-secret",
    "data_secret": "demo-data-key-16",
    "data_iv": "demo-data-iv-16b",
    "sig_secret": "demo-sig-secret",
}

_URL = re.compile(r"https?://\S+")


@contextlib.asynccontextmanager
async def platform_simulator(port: int | None) -> AsyncIterator[str | None]:
    """`csms-sim platform serve` beside the demo, and its base URL (port 0: a free port, read
    from the line it prints once it listens); None when not wanted. ConfigError when it cannot
    start."""
    if port is None:
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
        PLATFORM_HOST,
        "--port",
        str(port),
        *("--operator-id", keys["operator_id"]),
        *("--platform-operator-id", keys["platform_operator_id"]),
        *("--operator-secret", keys["operator_secret"]),
        *("--data-secret", keys["data_secret"]),
        *("--data-iv", keys["data_iv"]),
        *("--sig-secret", keys["sig_secret"]),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    forwarder: asyncio.Task[None] | None = None
    try:
        url = await _listening_url(process.stdout, port)
        # what it prints later (its summary at the end) goes where it always went
        forwarder = asyncio.create_task(_forward(process.stdout))
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have ended by itself
            process.terminate()
        await process.wait()
        if forwarder is not None:
            await forwarder  # the pipe is at its end once the process has exited


async def register_platform(csms: bootstrap.Running, url: str) -> None:
    with contextlib.suppress(Conflict):  # a demo database from an earlier run has it
        await csms.platforms.create(
            "demo-platform", {"name": "监管平台模拟器 (demo)", "base_url": url, **DEMO_PLATFORM}
        )


async def _listening_url(stream: asyncio.StreamReader, port: int) -> str:
    """The simulator's base URL from the line it prints once it listens, or ConfigError with
    the last thing it said before it stopped."""
    said: list[str] = []
    try:
        async with asyncio.timeout(30):
            while raw := await stream.readline():
                line = raw.decode(errors="replace").strip()
                if "listening on" in line and (found := _URL.search(line)):
                    return found[0]
                if line:
                    said.append(line.removeprefix("platform: "))
    except TimeoutError:
        said.append("it did not say it listens within 30 s")
    why = said[-1] if said else "it exited without a word"
    raise ConfigError(
        f"the platform simulator did not start on {PLATFORM_HOST}:{port}: {why} "
        "(choose another --platform-port, or 0 for no platform)"
    )


async def _forward(stream: asyncio.StreamReader) -> None:
    while line := await stream.readline():
        sys.stdout.write(line.decode(errors="replace"))
        sys.stdout.flush()


def _this_month(settings: Settings) -> tuple[int, int]:
    now = utcnow().astimezone(ZoneInfo(settings.time_zone))
    return now.year, now.month


async def csms_rollup(csms: bootstrap.Running, settings: Settings) -> None:
    """Roll utilization up to now so the dashboard and report include the fleet's day."""
    store = UtilizationStore(csms.pool, time_zone=settings.time_zone)
    await store.maintain(utcnow())
