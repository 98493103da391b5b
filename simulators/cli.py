"""`csms-sim`: run one simulated station, or a fleet of them against a CSMS.

csms-sim station --url ws://127.0.0.1:9000/ocpp --id CP-1 --version 1.6 --sessions 2
csms-sim fleet --url ws://127.0.0.1:9000/ocpp --scenario smoke --report smoke.json
(the options both share are in cli_options.py)
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
from typing import cast

from simulators import cli_options, timestamps
from simulators.backoff import BackoffPolicy
from simulators.meter import KINDS
from simulators.signals import stop_on_signals
from simulators.station.config import StationConfig, TlsSettings
from simulators.station.connect import ConnectFailed
from simulators.station.driver import idle_forever, sequential_sessions
from simulators.station.session import StopCause, describe
from simulators.station.station import Station
from simulators.stats import Recorder


def _station_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "station",
        help="run one station, logging every frame",
        description="Run one simulated charging station. Each OCPP frame is printed as it "
        "goes out (->) or comes in (<-). Stops after --sessions sessions, after --duration "
        "seconds, or on Ctrl-C; open transactions are stopped and delivered first. A refused "
        "connection (wrong password, unknown station, TLS) ends it with exit status 1; one "
        "that may pass (nothing listening yet, a timeout) is retried with back-off.",
    )
    p.add_argument("--id", required=True, dest="station_id", type=cli_options.station_id,
                   help="station id (last path part): at most 48 characters, no ':', '/' "
                   "or spaces")  # fmt: skip
    cli_options.add_station_options(p, fleet=False)
    p.add_argument("--session-seconds", dest="session_length", type=cli_options.positive_seconds,
                   action=cli_options.Deprecated, instead="--session-length",
                   convert=lambda v: (v, v), help=argparse.SUPPRESS)  # fmt: skip
    p.add_argument("--gap-seconds", dest="session_gap", type=cli_options.positive_seconds,
                   action=cli_options.Deprecated, instead="--session-gap",
                   convert=lambda v: (v, v), help=argparse.SUPPRESS)  # fmt: skip
    p.add_argument("--sessions", type=int, default=0, help="run N sessions, then exit (0: none)")
    p.add_argument("--vendor", default="CSMS-Sim")
    p.add_argument("--model", default=None, help="default: SIM-<CHARGER>")
    p.add_argument("--serial", default=None, help="serial number")
    p.add_argument("--firmware", default="1.0.0", help="firmware version")
    p.add_argument("--cert", type=Path, default=None, help="client certificate (profile 3)")
    p.add_argument("--key", type=Path, default=None, help="client certificate key")
    p.add_argument("--id-tag", default=None, help="card to use (default: a random one)")
    p.add_argument(
        "--leave",
        choices=("Local", "EVDisconnected"),
        default="Local",
        help="how a session ends: the card again, or the car unplugging",
    )
    p.add_argument("--duration", type=cli_options.positive_seconds, default=None,
                   help="exit after S seconds")  # fmt: skip
    p.add_argument("--backoff-min", type=float, default=3.0, help="reconnect wait minimum (s)")
    p.add_argument("--backoff-range", type=float, default=3.0, help="reconnect random part (s)")
    p.add_argument("--quiet", action="store_true", help="do not print frames")


def build_parser() -> argparse.ArgumentParser:
    parser = cli_options.Parser(
        prog="csms-sim", description="OCPP charge-point simulators and fleet load tester"
    )
    cli_options.add_log_level(parser, default="warning")
    # Subcommand parsers are cli_options.Parser too (argparse makes them of the parent's class).
    commands = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", required=True),
    )
    _station_parser(commands)
    from simulators.fleet.cli import add_fleet_parsers

    add_fleet_parsers(commands)
    from simulators.demo import add_demo_parser

    add_demo_parser(commands)
    from simulators.platform.cli import add_platform_parser

    add_platform_parser(commands)
    _log_level_everywhere(commands)
    return parser


def _log_level_everywhere(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`--log-level` after the subcommand too (`csms-sim station --log-level info ...`)."""
    for sub in set(commands.choices.values()):
        cli_options.add_log_level(sub, default=argparse.SUPPRESS)
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                _log_level_everywhere(action)


def print_frame(station_id: str, direction: str, text: str) -> None:
    stamp = timestamps.utcnow().strftime("%H:%M:%S.%f")[:-3]
    print(f"{stamp} {station_id} {direction} {text}", flush=True)


def station_config(args: argparse.Namespace) -> StationConfig:
    kind = KINDS[args.charger]
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
        cpo_name=args.cpo_name,
        tls=tls,
        meter_interval=args.meter_interval,
        heartbeat_interval=args.heartbeat,
        backoff=BackoffPolicy(args.backoff_min, args.backoff_range),
        connect_timeout=args.connect_timeout,
        compression=args.compression,
    )


class ConnectWatch:
    """Tells a person about each failed connection (one line on stderr, at any log level),
    and ends the run when the CSMS refused a station that never got in: retrying the same
    password, id or certificate cannot help (a real charger would, but a person is waiting)."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.station: Station | None = None
        self.refused: ConnectFailed | None = None

    def __call__(self, station_id: str, failure: ConnectFailed) -> None:
        give_up = failure.final and self.station is not None and not self.station.ever_connected
        then = "" if give_up else "; retrying"
        print(f"csms-sim: {station_id}: cannot connect: {failure.reason}{then}", file=sys.stderr)
        if give_up:
            self.refused = failure
            self.stop.set()


async def run_station(args: argparse.Namespace) -> int:
    try:
        config = station_config(args)
    except ValueError as exc:  # what argparse cannot check alone (1.6 vendor length, ...)
        print(f"csms-sim station: error: {exc}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    stop = asyncio.Event()
    watch = ConnectWatch(stop)
    station = Station(
        config,
        stats=Recorder(on_connect_failed=watch),
        frame_log=None if args.quiet else print_frame,
        rng=rng,
    )
    watch.station = station
    behaviour = (
        sequential_sessions(
            args.sessions,
            duration_s=args.session_length,
            gap_s=args.session_gap,
            id_tag=args.id_tag,
            leave=StopCause(args.leave),
            rng=rng,
        )
        if args.sessions > 0
        else idle_forever
    )
    with stop_on_signals(stop):
        async with asyncio.TaskGroup() as tasks:
            if args.duration is not None:
                tasks.create_task(_set_after(stop, args.duration))
            await station.run(behaviour, stop=stop, drain_timeout=args.drain_timeout)
            stop.set()
    for result in station.results:
        print(f"session: {describe(result)}", flush=True)
    if not station.ever_connected:
        if watch.refused is None:
            print(f"csms-sim: {station.id}: never connected to {args.url}", file=sys.stderr)
        return 1
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
