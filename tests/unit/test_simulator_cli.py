"""`csms-sim` command line: one flag per idea in `station` and `fleet`, old spellings still
accepted (with a warning), station ids the CSMS would refuse refused up front (exit 2, one
line, no traceback), and connection failures classified for a person."""

from __future__ import annotations

import argparse
import ssl

import pytest

from csms.domain.station import station_id_problem as csms_rule
from simulators.cli import amain, build_parser
from simulators.station.config import station_id_problem as simulator_rule
from simulators.station.connect import _http_failure, _network_failure, _tls_failure

URL = "ws://127.0.0.1:9000/ocpp"

# Options that mean the same in both subcommands, with a value to give each.
SHARED = {
    "--version": ["2.0.1"],
    "--charger": ["dc60"],
    "--evses": ["2"],
    "--session-length": ["30", "90"],
    "--session-gap": ["5"],
    "--meter-interval": ["15"],
    "--heartbeat": ["60"],
    "--password": ["sixteen-chars-or-more"],
    "--connect-timeout": ["4"],
    "--drain-timeout": ["6"],
    "--seed": ["7"],
    "--duration": ["20"],
    "--log-level": ["info"],
}


def _parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def _both(*argv: str) -> tuple[argparse.Namespace, argparse.Namespace]:
    station = _parse("station", "--url", URL, "--id", "CP-1", *argv)
    fleet = _parse("fleet", "--url", URL, *argv)
    return station, fleet


def test_shared_options_parse_the_same_in_station_and_fleet() -> None:
    argv = [part for option, values in SHARED.items() for part in (option, *values)]
    station, fleet = _both(*argv, "--compression")
    for option in SHARED:
        name = option.lstrip("-").replace("-", "_")
        assert getattr(station, name) == getattr(fleet, name), option
    assert station.session_length == (30.0, 90.0) and station.session_gap == (5.0, 5.0)
    assert station.charger == "dc60" and station.compression is fleet.compression is True


def test_fleet_options_default_to_the_scenario_station_options_to_their_own() -> None:
    station, fleet = _both()
    assert fleet.charger is None and fleet.session_length is None and fleet.version is None
    assert station.charger == "ac7" and station.session_length == (60.0, 60.0)
    assert station.session_gap == (5.0, 5.0) and station.compression is False


def test_sessions_is_a_count_and_session_mode_the_fleet_schedule() -> None:
    assert _parse("station", "--url", URL, "--id", "CP-1", "--sessions", "3").sessions == 3
    assert _parse("fleet", "--url", URL, "--session-mode", "profile").session_mode == "profile"


@pytest.mark.parametrize(
    ("argv", "name", "value", "instead"),
    [
        (["station", "--id", "CP-1", "--power", "dc120"], "charger", "dc120", "--charger"),
        (["station", "--id", "CP-1", "--session-seconds", "2"], "session_length", (2.0, 2.0),
         "--session-length"),
        (["station", "--id", "CP-1", "--gap-seconds", "0.5"], "session_gap", (0.5, 0.5),
         "--session-gap"),
        (["fleet", "--sessions", "continuous"], "session_mode", "continuous", "--session-mode"),
    ],
)  # fmt: skip
def test_old_spellings_still_work_and_say_what_replaces_them(
    argv: list[str],
    name: str,
    value: object,
    instead: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = _parse(argv[0], "--url", URL, *argv[1:])
    assert getattr(args, name) == value
    assert f"deprecated; use {instead}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["station", "--url", URL, "--id", "SZ:SC:1"],
        ["station", "--url", URL, "--id", "x" * 49],
        ["station", "--url", URL, "--id", " CP-1"],  # "CP 1" is allowed (RDAM%20123)
        ["station", "--url", URL, "--id", "CP/1"],
        ["station", "--url", URL, "--id", ""],
        ["station", "--url", "http://127.0.0.1:9000/ocpp", "--id", "CP-1"],
        ["station", "--url", "ws://127.0.0.1:port/ocpp", "--id", "CP-1"],
        ["station", "--url", URL, "--id", "CP-1", "--session-length", "9", "3"],
        ["station", "--url", URL, "--id", "CP-1", "--session-length", "1", "2", "3"],
        ["station", "--url", URL, "--id", "CP-1", "--version", "1.6", "--vendor", "v" * 21],
        ["fleet", "--url", URL, "--id-prefix", "SZ:SC"],
        ["fleet", "--url", URL, "--charger", "ac8"],
    ],
)
async def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = await amain(argv)
    except SystemExit as exit_:
        code = exit_.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "error:" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "station_id",
    ["CP-1", "SZ-Shuocheng-0001", "充电桩-1", "a" * 48, "a" * 49, "", "SZ:SC:1", "a/b", "a b",
     "tab\there", "nl\n", "*-_=+|@.", "%41", "CP-é"],
)  # fmt: skip
def test_the_simulator_refuses_exactly_the_ids_the_csms_refuses(station_id: str) -> None:
    assert (simulator_rule(station_id) is None) == (csms_rule(station_id) is None)


def test_connection_failures_say_why_and_whether_retrying_can_help() -> None:
    wrong = _http_failure(401, "Unauthorized", b"wrong password\n")
    assert wrong.code == "HTTP401" and wrong.final
    assert "wrong or missing password" in wrong.reason and '"wrong password"' in wrong.reason
    unknown = _http_failure(404, "Not Found", b"unknown station CP-9\n")
    assert unknown.final and "does not know this station" in unknown.reason
    busy = _http_failure(503, "Service Unavailable", b"")
    assert not busy.final and busy.reason == "HTTP 503 Service Unavailable"
    refused = _network_failure(ConnectionRefusedError(111, "refused"), URL + "/CP-1")
    assert refused.code == "ConnectionRefused" and not refused.final
    assert "127.0.0.1:9000" in refused.reason
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    verify.verify_message = "unable to get local issuer certificate"
    failure = _tls_failure(verify)
    assert failure.code == "TLSVerifyFailed" and failure.final
    assert "unable to get local issuer certificate" in failure.reason
    assert "--ca-file" in failure.reason
