"""`csms-sim fleet` and `csms-sim scenarios`: options, overrides, and the run."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import resource
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from simulators import cli_options
from simulators.fleet import report
from simulators.fleet.progress import ProgressView
from simulators.fleet.runner import run_fleet
from simulators.fleet.scenario import (
    END_CONDITIONS,
    SESSION_MODES,
    ChargerMix,
    Scenario,
    ScenarioError,
    from_toml,
    shipped,
)
from simulators.fleet.scenario import load as load_scenario
from simulators.signals import stop_on_signals
from simulators.station.config import TlsSettings
from simulators.station.connect import ConnectFailed
from simulators.stats import Recorder

# Sockets the simulator needs beyond one per station (stdio, logs, the event loop).
SPARE_FILES = 64


def add_fleet_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "fleet",
        help="run many stations with a scenario and report",
        description="Run a fleet of simulated stations against a CSMS. A scenario (shipped "
        "name or TOML path) sets the fleet; the options below override it. Shows live "
        "progress and ends with a report (console tables, and JSON with --report).",
    )
    cli_options.add_station_options(p, fleet=True)
    p.add_argument("--scenario", default="smoke", help="shipped name or path to a .toml file")
    p.add_argument("--stations", type=int, help="number of stations")
    p.add_argument("--duration", type=cli_options.positive_seconds,
                   help="seconds (with --until accepted: the limit)")  # fmt: skip
    p.add_argument("--until", choices=END_CONDITIONS, help="end after the duration, or once "
                   "every station is Accepted")  # fmt: skip
    p.add_argument("--ramp-rate", type=float, help="stations started per second (0: all at once)")
    p.add_argument("--session-mode", choices=SESSION_MODES,
                   help="when cars come: none, continuous, or profile (the scenario's daily "
                   "profile)")  # fmt: skip
    p.add_argument("--sessions", dest="session_mode", choices=SESSION_MODES,
                   action=cli_options.Deprecated, instead="--session-mode",
                   help=argparse.SUPPRESS)  # fmt: skip
    p.add_argument("--churn-interval", type=float, help="mean seconds between network drops "
                   "per station (0: none)")  # fmt: skip
    p.add_argument("--id-prefix", type=cli_options.station_id, help="station id prefix")
    p.add_argument("--report", type=Path, help="write the JSON report here")
    p.add_argument("--progress", choices=("auto", "live", "plain", "off"), default="auto",
                   help="auto: live panel on a terminal, plain lines otherwise")  # fmt: skip
    p.add_argument("--progress-interval", type=float, default=None,
                   help="seconds between progress updates (plain default 5, live 0.5)")  # fmt: skip
    commands.add_parser("scenarios", help="list the shipped scenarios")


def apply_overrides(scenario: Scenario, args: argparse.Namespace) -> Scenario:
    """The scenario with the command line's overrides (re-validated)."""
    changes: dict[str, Any] = {}
    simple = {
        "stations": "stations",
        "duration": "duration_s",
        "until": "until",
        "ramp_rate": "ramp_rate",
        "session_mode": "session_mode",
        "meter_interval": "meter_interval_s",
        "churn_interval": "churn_interval_s",
        "heartbeat": "heartbeat_s",
        "connect_timeout": "connect_timeout_s",
        "drain_timeout": "drain_timeout_s",
        "compression": "compression",
        "password": "password",
        "id_prefix": "id_prefix",
        "seed": "seed",
    }
    for option, name in simple.items():
        value = getattr(args, option, None)
        if value is not None:
            changes[name] = value
    if args.session_length is not None:
        changes["session_length_s"] = args.session_length
    if args.session_gap is not None:
        changes["session_gap_s"] = args.session_gap
    if args.version is not None:
        changes["versions"] = {args.version: 1.0}
    if args.charger is not None:
        evses = args.evses or next(
            (c.evses for c in scenario.chargers if c.kind == args.charger), 1
        )
        changes["chargers"] = (ChargerMix(args.charger, 1.0, evses),)
    elif args.evses is not None:
        changes["chargers"] = tuple(
            dataclasses.replace(c, evses=args.evses) for c in scenario.chargers
        )
    return dataclasses.replace(scenario, **changes) if changes else scenario


def raise_file_limit(stations: int) -> str | None:
    """Lift the soft open-files limit to what the fleet needs; a warning if it cannot."""
    needed = stations + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return None
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        return (
            f"open-files limit is {target}; {stations} stations need about {needed} "
            "(raise it with `ulimit -n`)"
        )
    return None


async def run_fleet_command(args: argparse.Namespace) -> int:
    console = Console()
    if not console.is_terminal:
        console = Console(width=132)  # a log file: wide enough for the tables
    try:
        scenario = apply_overrides(load_scenario(args.scenario), args)
    except ScenarioError as exc:
        print(f"csms-sim: {exc}", file=sys.stderr)
        return 2
    warning = raise_file_limit(scenario.stations)
    if warning:
        print(f"csms-sim: warning: {warning}", file=sys.stderr)
    mode = args.progress
    if mode == "auto":
        mode = "live" if console.is_terminal else "plain"
    progress = None
    if mode != "off":
        interval = args.progress_interval or (0.5 if mode == "live" else 5.0)
        progress = ProgressView(console, live=mode == "live", interval=interval)
    tls = TlsSettings(ca_file=args.ca_file) if args.ca_file else None
    interrupted = asyncio.Event()
    stats = Recorder(on_connect_failed=FirstFailures())
    with stop_on_signals(interrupted):
        run = await run_fleet(
            scenario, args.url, stats=stats, progress=progress, tls=tls, stop_early=interrupted
        )
    result = report.build(run)
    report.render(result, console)
    if args.report is not None:
        report.write(result, args.report)
        console.print(f"report written to {args.report}")
    for line in failure_summary(result):
        print(line if line.startswith(" ") else f"csms-sim: {line}", file=sys.stderr)
    stations = result["stations"]
    ok = run.crashed == 0 and stations["never_connected"] == 0
    return 0 if ok and result["sessions"]["undelivered"] == 0 else 1


class FirstFailures:
    """One line on stderr for the first failed connection of each kind (HTTP401, TLS...), at
    any log level; the rest are counted in the report, so 10,000 refusals are not 10,000 lines."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, station_id: str, failure: ConnectFailed) -> None:
        if failure.code in self.seen:
            return
        self.seen.add(failure.code)
        print(
            f"csms-sim: {station_id}: cannot connect: {failure.reason} (stations retry; "
            "further failures are counted in the report)",
            file=sys.stderr,
        )


def failure_summary(result: dict[str, Any]) -> list[str]:
    """What went wrong, in lines a person reads: stations that never connected, and why."""
    stations = result["stations"]
    lines = []
    if stations["never_connected"]:
        lines.append(
            f"{stations['never_connected']} of {stations['launched']} stations never connected:"
        )
        for code, cause in stations["never_connected_by_cause"].items():
            lines.append(f"  {cause['stations']} x {code}: {cause['reason']}")
    if stations["crashed"]:
        lines.append(f"{stations['crashed']} stations crashed (see the log)")
    if result["sessions"]["undelivered"]:
        lines.append(f"{result['sessions']['undelivered']} messages could not be delivered")
    return lines


def show_scenarios() -> int:
    console = Console()
    table = Table(title="shipped scenarios (csms-sim fleet --scenario NAME)")
    table.add_column("name")
    table.add_column("stations", justify="right")
    table.add_column("duration (s)", justify="right")
    table.add_column("description")
    for name, text in sorted(shipped().items()):
        s = from_toml(text, name=name)
        table.add_row(name, str(s.stations), f"{s.duration_s:g}", s.description)
    console.print(table)
    return 0
