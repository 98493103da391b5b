"""Options `csms-sim station` and `csms-sim fleet` share, defined once so that the same idea has
the same flag, meaning and checks in both (issue 14); old spellings stay as hidden aliases.

Bad values are argparse errors (one line, exit status 2), never a traceback: a station id the
CSMS would refuse, a URL that is not ws:// or wss://, a range whose low end is above its high.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from simulators.meter import KINDS
from simulators.ocppj import VERSIONS
from simulators.station.config import station_id_problem

LOG_LEVELS = ("debug", "info", "warning", "error")


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (`prog: error: ... (see prog --help)`), exit 2,
    not the whole usage first; subcommand parsers inherit the class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def station_id(text: str) -> str:
    """argparse type: a station id the CSMS accepts (same rules as its gateway)."""
    problem = station_id_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{problem}: {text!r}")
    return text


def websocket_url(text: str) -> str:
    """argparse type: a ws:// or wss:// URL with a host."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a URL: {text!r} ({exc})") from None
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"not a WebSocket URL: {text!r} (e.g. ws://127.0.0.1:9000/ocpp)"
        )
    return text


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"seconds cannot be negative: {text!r}")
    return value


class SecondsRange(argparse.Action):
    """`SECONDS` (exactly) or `MIN MAX` (drawn at random between them), stored as (min, max)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        seconds = [float(v) for v in values] if isinstance(values, Sequence) else []
        if not 1 <= len(seconds) <= 2:
            parser.error(f"argument {option_string}: give SECONDS, or MIN MAX")
        low, high = seconds[0], seconds[-1]
        if low > high:
            parser.error(f"argument {option_string}: MIN {low:g} is above MAX {high:g}")
        setattr(namespace, self.dest, (low, high))


class Deprecated(argparse.Action):
    """A hidden old spelling: warns once on stderr, then stores into the new option."""

    def __init__(
        self,
        *args: Any,
        instead: str,
        convert: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.instead = instead
        self.convert = convert

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(
            f"csms-sim: warning: {option_string} is deprecated; use {self.instead}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, self.convert(values) if self.convert else values)


def add_log_level(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=default,
        help="log threshold (default warning); accepted before or after the subcommand",
    )


def add_station_options(p: argparse.ArgumentParser, *, fleet: bool) -> None:
    """The options of what each station is and how it charges. In `fleet` they override the
    scenario (default: the scenario's value); in `station` they carry their own defaults."""

    def default(value: Any) -> Any:
        return None if fleet else value

    def told(text: str, value: str) -> str:
        return f"every station: {text}" if fleet else f"{text} (default {value})"

    p.add_argument(
        "--url",
        required=True,
        type=websocket_url,
        help="CSMS endpoint; the station id is appended, e.g. ws://127.0.0.1:9000/ocpp",
    )
    p.add_argument(
        "--version", choices=VERSIONS, default=default("1.6"), help=told("OCPP version", "1.6")
    )
    p.add_argument(
        "--charger", choices=sorted(KINDS), default=default("ac7"), help=told("charger", "ac7")
    )
    p.add_argument(
        "--power",
        dest="charger",
        choices=sorted(KINDS),
        action=Deprecated,
        instead="--charger",
        help=argparse.SUPPRESS,
    )
    p.add_argument(
        "--evses",
        "--connectors",
        type=int,
        default=default(1),
        help=told("EVSEs per station (1.6: connectors)", "1"),
    )
    p.add_argument(
        "--session-length",
        nargs="+",
        type=positive_seconds,
        action=SecondsRange,
        metavar="SECONDS",
        default=default((60.0, 60.0)),
        help=told("how long a car stays: SECONDS, or MIN MAX for a random length", "60"),
    )
    p.add_argument(
        "--session-gap",
        nargs="+",
        type=positive_seconds,
        action=SecondsRange,
        metavar="SECONDS",
        default=default((5.0, 5.0)),
        help=told("pause between cars at one EVSE: SECONDS, or MIN MAX", "5"),
    )
    p.add_argument(
        "--meter-interval",
        type=int,
        default=default(10),
        help=told("seconds between meter values", "10"),
    )
    p.add_argument(
        "--heartbeat",
        type=int,
        default=default(300),
        help=told("heartbeat seconds until the boot answer gives an interval", "300"),
    )
    p.add_argument("--password", help="HTTP Basic password (user = station id)")
    if not fleet:  # a fleet's stations keep the default
        p.add_argument(
            "--cpo-name",
            default="CSMS-Sim CPO",
            help="organizationName of the station's CSRs: the CSMS CA's organization "
            "(default CSMS-Sim CPO)",
        )
    p.add_argument("--ca-file", type=Path, help="CA of the CSMS certificate (wss://)")
    p.add_argument(
        "--connect-timeout",
        type=positive_seconds,
        default=default(30.0),
        help=told("WebSocket handshake timeout in seconds", "30"),
    )
    p.add_argument(
        "--drain-timeout",
        type=positive_seconds,
        default=default(30.0),
        help=told("seconds shutdown may spend delivering what is queued", "30"),
    )
    p.add_argument(
        "--compression",
        action=argparse.BooleanOptionalAction,
        default=default(False),
        help="offer permessage-deflate",
    )
    p.add_argument("--seed", type=int, help="seed (same seed, same cars and cards)")
