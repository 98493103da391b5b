"""`csms-sim`: run one simulated station, or a fleet of them against a CSMS.

csms-sim station --url ws://127.0.0.1:9000/ocpp --id CP-1 --version 1.6 --sessions 2
csms-sim fleet --url ws://127.0.0.1:9000/ocpp --scenario smoke --report smoke.json
csms-sim scenarios
csms-sim platform serve --port 8090
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from simulators import timestamps
from simulators.backoff import BackoffPolicy
from simulators.meter import KINDS
from simulators.ocppj import VERSIONS
from simulators.signals import stop_on_signals
from simulators.station.config import StationConfig, TlsSettings
from simulators.station.driver import idle_forever, sequential_sessions
from simulators.station.session import StopCause, describe
from simulators.station.station import Station


def _station_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "station",
        help="run one station, logging every frame",
        description="Run one simulated charging station. Each OCPP frame is printed as it "
        "goes out (->) or comes in (<-). Stops after --sessions sessions, after --duration "
        "seconds, or on Ctrl-C; open transactions are stopped and delivered first.",
    )
    p.add_argument("--url", required=True, help="CSMS endpoint, e.g. ws://127.0.0.1:9000/ocpp")
    p.add_argument("--id", required=True, dest="station_id", help="station id (last path part)")
    p.add_argument("--version", choices=VERSIONS, default="1.6", help="OCPP version")
    p.add_argument("--evses", "--connectors", type=int, default=1, help="EVSEs (1.6: connectors)")
    p.add_argument("--power", choices=sorted(KINDS), default="ac7", help="charger type")
    p.add_argument("--meter-interval", type=int, default=10, help="seconds between meter values")
    p.add_argument("--heartbeat", type=int, default=300, help="heartbeat until boot says")
    p.add_argument("--vendor", default="CSMS-Sim")
    p.add_argument("--model", default=None, help="default: SIM-<POWER>")
    p.add_argument("--serial", default=None, help="serial number")
    p.add_argument("--firmware", default="1.0.0", help="firmware version")
    p.add_argument("--password", default=None, help="HTTP Basic password (user = station id)")
    p.add_argument("--ca-file", type=Path, default=None, help="CA of the CSMS certificate (wss)")
    p.add_argument("--cert", type=Path, default=None, help="client certificate (profile 3)")
    p.add_argument("--key", type=Path, default=None, help="client certificate key")
    p.add_argument("--sessions", type=int, default=0, help="run N sessions, then exit (0: none)")
    p.add_argument("--session-seconds", type=float, default=60.0, help="length of each session")
    p.add_argument("--gap-seconds", type=float, default=5.0, help="pause between sessions")
    p.add_argument("--id-tag", default=None, help="card to use (default: a random one)")
    p.add_argument(
        "--leave",
        choices=("Local", "EVDisconnected"),
        default="Local",
        help="how a session ends: the card again, or the car unplugging",
    )
    p.add_argument("--duration", type=float, default=None, help="exit after S seconds")
    p.add_argument("--backoff-min", type=float, default=3.0, help="reconnect wait minimum (s)")
    p.add_argument("--backoff-range", type=float, default=3.0, help="reconnect random part (s)")
    p.add_argument("--compression", action="store_true", help="offer permessage-deflate")
    p.add_argument("--seed", type=int, default=None, help="seed for cars and cards")
    p.add_argument("--quiet", action="store_true", help="do not print frames")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csms-sim", description="OCPP charge-point simulators and fleet load tester"
    )
    parser.add_argument("--log-level", default="warning", choices=("debug", "info", "warning"))
    commands = parser.add_subparsers(dest="command", required=True)
    _station_parser(commands)
    from simulators.fleet.cli import add_fleet_parsers

    add_fleet_parsers(commands)
    from simulators.demo import add_demo_parser

    add_demo_parser(commands)
    from simulators.platform.cli import add_platform_parser

    add_platform_parser(commands)
    return parser


def print_frame(station_id: str, direction: str, text: str) -> None:
    stamp = timestamps.utcnow().strftime("%H:%M:%S.%f")[:-3]
    print(f"{stamp} {station_id} {direction} {text}", flush=True)


def station_config(args: argparse.Namespace) -> StationConfig:
    kind = KINDS[args.power]
    tls = None
    if args.ca_file or args.cert:
        tls = TlsSettings(args.ca_file, args.cert, args.key)
    return StationConfig(
        station_id=args.station_id,
        url=args.url,
        version=args.version,
        evses=args.evses,
        kind=kind,
        vendor=args.vendor,
        model=args.model or f"SIM-{kind.name.upper()}",
        serial_number=args.serial,
        firmware_version=args.firmware,
        password=args.password,
        tls=tls,
        meter_interval=args.meter_interval,
        heartbeat_interval=args.heartbeat,
        backoff=BackoffPolicy(args.backoff_min, args.backoff_range),
        compression=args.compression,
    )


async def run_station(args: argparse.Namespace) -> int:
    config = station_config(args)
    rng = random.Random(args.seed)
    station = Station(config, frame_log=None if args.quiet else print_frame, rng=rng)
    behaviour = (
        sequential_sessions(
            args.sessions,
            duration_s=args.session_seconds,
            gap_s=args.gap_seconds,
            id_tag=args.id_tag,
            leave=StopCause(args.leave),
            rng=rng,
        )
        if args.sessions > 0
        else idle_forever
    )
    stop = asyncio.Event()
    with stop_on_signals(stop):
        async with asyncio.TaskGroup() as tasks:
            if args.duration is not None:
                tasks.create_task(_set_after(stop, args.duration))
            await station.run(behaviour, stop=stop)
            stop.set()
    for result in station.results:
        print(f"session: {describe(result)}", flush=True)
    undelivered = len(station.outbox.queue)
    if undelivered:
        print(f"{undelivered} messages could not be delivered", file=sys.stderr)
        return 1
    return 0


async def _set_after(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    event.set()


async def amain(argv: Sequence[str] | None = None) -> int:
    """The command line inside a running event loop (tests call this)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "station":
        return await run_station(args)
    if args.command == "demo":
        from simulators.demo import run_demo

        return await run_demo(args)
    if args.command == "platform":
        from simulators.platform.cli import run_platform_command

        return await run_platform_command(args)
    from simulators.fleet.cli import run_fleet_command, show_scenarios

    if args.command == "scenarios":
        return show_scenarios()
    return await run_fleet_command(args)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        try:
            return runner.run(amain(argv))
        except KeyboardInterrupt:
            return 130
