"""The simulators against the real CSMS: sessions, reconnects, offline replay, commands, a fleet.

Both versions run full sessions; the CSMS drops and refuses connections; an offline queue
replays; every operator command goes through the CSMS's API; a small fleet's report must agree
with what the CSMS stored.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from csms.bootstrap import Running, running
from csms.config import RegistrationPolicy, UnknownTokenPolicy
from csms.domain.password import hash_password
from csms.store.stations import StationStore
from simulators.backoff import BackoffPolicy
from simulators.cli import amain
from simulators.meter import KINDS
from simulators.station.config import StationConfig, TlsSettings
from simulators.station.driver import sequential_sessions
from simulators.station.session import SessionPlan, SessionResult, StopCause
from simulators.station.station import Station
from tests.conftest import Api, make_settings

TIMEOUT = 30.0


@pytest.fixture
async def open_csms(database_url: str) -> AsyncIterator[Running]:
    """The real CSMS, accepting any card (the simulators draw random ones)."""
    settings = make_settings(database_url, unknown_tokens=UnknownTokenPolicy.ACCEPT)
    async with running(settings) as instance:
        yield instance


def url(csms: Running) -> str:
    return f"ws://127.0.0.1:{csms.ocpp_port}/ocpp"


def config(csms: Running, station_id: str, version: str, **changes: Any) -> StationConfig:
    base: dict[str, Any] = {
        "station_id": station_id,
        "url": url(csms),
        "version": version,
        "kind": KINDS["ac7"],
        "meter_interval": 1,
        "backoff": BackoffPolicy(0.2, 0.1, 3),
        "reboot_seconds": 0.2,
        "call_timeout": 10.0,
    }
    base.update(changes)
    return StationConfig(**base)


@asynccontextmanager
async def powered(station: Station) -> AsyncIterator[asyncio.Event]:
    """The station runs (and is online) inside the block; it shuts down gracefully after."""
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(station.run(stop=stop, drain_timeout=10))
        try:
            async with asyncio.timeout(TIMEOUT):
                await station.wait_online()
            yield stop
        finally:
            stop.set()


async def eventually(check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Until `check()` holds: station state has no event to wait on, so poll it."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def periodic_readings(csms: Running, station_id: str) -> int:
    count: int = await csms.pool.fetchval(
        """SELECT count(*) FROM meter_samples WHERE station_id = $1
               AND measurand = 'Energy.Active.Import.Register' AND context = 'Sample.Periodic'""",
        station_id,
    )
    return count


async def test_v16_session_lands_in_the_csms(open_csms: Running) -> None:
    station = Station(config(open_csms, "SIM-16", "1.6", evses=2), rng=random.Random(1))
    # 3.4 s of charging at a 1 s meter interval: at least two periodic readings even when the
    # machine is busy enough to delay a sample by a second
    behaviour = sequential_sessions(
        1, duration_s=3.4, gap_s=0, id_tag="CARD-16", unplug_delay_s=0.2
    )
    async with asyncio.timeout(TIMEOUT):
        await station.run(behaviour)
    [result] = station.results
    assert result.authorized and result.energy_wh > 0 and result.cause is StopCause.LOCAL

    [row] = await open_csms.pool.fetch("SELECT * FROM transactions WHERE station_id = 'SIM-16'")
    assert (row["ocpp_version"], row["status"], row["orphan"]) == ("1.6", "closed", False)
    assert (row["meter_start_wh"], row["meter_stop_wh"]) == (
        result.meter_start_wh,
        result.meter_stop_wh,
    )
    assert (row["id_token"], row["evse_id"], row["stop_reason"]) == ("CARD-16", 1, "Local")
    readings = await periodic_readings(open_csms, "SIM-16")
    assert readings == station.stats.meter_readings >= 2
    unlinked = await open_csms.pool.fetchval(
        "SELECT count(*) FROM meter_samples WHERE station_id = 'SIM-16' AND transaction_id IS NULL"
    )
    assert unlinked == 0
    statuses = await open_csms.pool.fetch(
        "SELECT evse_id, status FROM connectors WHERE station_id = 'SIM-16' ORDER BY evse_id"
    )
    assert [tuple(s) for s in statuses] == [(0, "Available"), (1, "Available"), (2, "Available")]
    station_row = await open_csms.pool.fetchrow("SELECT * FROM stations WHERE id = 'SIM-16'")
    assert station_row is not None
    assert station_row["vendor"] == "CSMS-Sim" and station_row["last_boot_status"] == "Accepted"


async def test_v201_session_lands_in_the_csms(open_csms: Running) -> None:
    station = Station(
        config(open_csms, "SIM-201", "2.0.1", kind=KINDS["dc60"]), rng=random.Random(2)
    )
    behaviour = sequential_sessions(
        1, duration_s=3.4, gap_s=0, id_tag="CARD-201", unplug_delay_s=0.2
    )
    async with asyncio.timeout(TIMEOUT):
        await station.run(behaviour)
    [result] = station.results

    [row] = await open_csms.pool.fetch("SELECT * FROM transactions WHERE station_id = 'SIM-201'")
    assert (row["ocpp_version"], row["status"], row["orphan"]) == ("2.0.1", "closed", False)
    assert row["station_tx_id"] == result.transaction_ref
    assert (row["meter_start_wh"], row["meter_stop_wh"]) == (
        result.meter_start_wh,
        result.meter_stop_wh,
    )
    assert (row["id_token"], row["stop_reason"]) == ("CARD-201", "Local")
    events = await open_csms.pool.fetch(
        "SELECT seq_no, event_type FROM transaction_events WHERE transaction_id = $1 "
        "ORDER BY seq_no",
        row["id"],
    )
    assert [e["seq_no"] for e in events] == list(range(len(events)))
    types = [e["event_type"] for e in events]
    assert types[0] == "Started" and types[-1] == "Ended" and set(types[1:-1]) == {"Updated"}
    assert await periodic_readings(open_csms, "SIM-201") == station.stats.meter_readings >= 2


async def test_reconnects_with_back_off_after_the_csms_drops_it(open_csms: Running) -> None:
    backoff = BackoffPolicy(wait_minimum=0.5, random_range=0.1, repeat_times=3)
    station = Station(config(open_csms, "SIM-RC", "1.6", backoff=backoff), rng=random.Random(3))
    loop = asyncio.get_running_loop()
    async with powered(station):
        connection = open_csms.gateway.registry.get("SIM-RC")
        assert connection is not None
        dropped_at = loop.time()
        await connection.websocket.close()
        await eventually(lambda: station.stats.reconnects == 1 and station.online)
        assert loop.time() - dropped_at >= 0.5  # Part 4 §5.3: RetryBackOffWaitMinimum first
        # a reconnect after a network drop is not a reboot: no second BootNotification
        assert station.stats.outbound["BootNotification"].sent == 1
        assert "currentTime" in (await station.call("Heartbeat", {}) or {})
    sessions = await open_csms.pool.fetch(
        "SELECT connected_at, disconnected_at FROM station_connections "
        "WHERE station_id = 'SIM-RC' ORDER BY connected_at"
    )
    assert len(sessions) == 2
    gap = (sessions[1]["connected_at"] - sessions[0]["disconnected_at"]).total_seconds()
    assert gap >= 0.45


async def test_back_off_doubles_while_the_csms_refuses() -> None:
    """Failed attempts double the wait (RetryBackOffRepeatTimes caps it); success resets it."""
    attempts: list[float] = []
    loop = asyncio.get_running_loop()

    def refuse_three(connection: ServerConnection, request: Request) -> Response | None:
        attempts.append(loop.time())
        if 2 <= len(attempts) <= 4:
            return connection.respond(503, "busy\n")
        return None

    async def answer(ws: ServerConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            reply = {"status": "Accepted", "currentTime": "2026-05-01T00:00:00Z", "interval": 300}
            await ws.send(
                json.dumps([3, frame[1], reply if frame[2] == "BootNotification" else {}])
            )
            if frame[2] == "BootNotification" and len(attempts) == 1:
                await ws.close()  # drop the first connection right after the boot

    async with serve(
        answer,
        "127.0.0.1",
        0,
        subprotocols=[Subprotocol("ocpp1.6")],
        process_request=refuse_three,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        policy = BackoffPolicy(wait_minimum=0.2, random_range=0.0, repeat_times=2)
        station = Station(
            StationConfig("SIM-BO", f"ws://127.0.0.1:{port}/ocpp", backoff=policy),
            rng=random.Random(4),
        )
        async with powered(station):
            await eventually(lambda: len(attempts) == 5 and station.online)
    gaps = [round(b - a, 1) for a, b in itertools.pairwise(attempts[1:])]
    assert gaps == [0.4, 0.8, 0.8]  # 0.2 x 2, x 4, then capped at two doublings
    assert station.stats.errors["HTTP503"] == 3 and station.stats.reconnects == 1


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_offline_queue_replays_without_loss_or_duplicates(
    open_csms: Running, version: str
) -> None:
    """Session A starts online and ends during an outage; session B starts during it.

    Everything they did offline is queued and replayed in order after the reconnect; 1.6
    messages of B carry a placeholder until the replayed StartTransaction is answered.
    """
    station_id = f"SIM-OFF-{version}"
    station = Station(
        config(open_csms, station_id, version, evses=2, backoff=BackoffPolicy(0.2, 0.1, 2)),
        rng=random.Random(5),
    )
    async with powered(station):
        a = station.start_session(1, SessionPlan("CARD-A", duration_s=3.0, unplug_delay_s=0.2))
        await asyncio.sleep(1.2)
        station.simulate_outage(2.0)
        await asyncio.sleep(0.3)
        assert not station.online
        b = station.start_session(2, SessionPlan("CARD-B", duration_s=3.0, unplug_delay_s=0.2))
        async with asyncio.timeout(TIMEOUT):
            results: list[SessionResult | None] = [await a, await b]
        await eventually(lambda: len(station.outbox.queue) == 0)
    stats = station.stats
    assert stats.reconnects == 1 and stats.queued_offline >= 4
    assert stats.sessions_started == stats.sessions_completed == 2 and stats.shed == 0

    rows = await open_csms.pool.fetch(
        "SELECT * FROM transactions WHERE station_id = $1 ORDER BY id_token", station_id
    )
    assert [r["id_token"] for r in rows] == ["CARD-A", "CARD-B"]  # none lost, none twice
    for row, result in zip(rows, results, strict=True):
        assert result is not None and result.authorized
        assert (row["status"], row["orphan"]) == ("closed", False)
        assert (row["meter_start_wh"], row["meter_stop_wh"]) == (
            result.meter_start_wh,
            result.meter_stop_wh,
        )
    unlinked = await open_csms.pool.fetchval(
        "SELECT count(*) FROM meter_samples WHERE station_id = $1 AND transaction_id IS NULL",
        station_id,
    )
    assert unlinked == 0  # every replayed reading found its transaction
    assert await periodic_readings(open_csms, station_id) == stats.meter_readings
    if version == "2.0.1":
        for row in rows:
            events = await open_csms.pool.fetch(
                "SELECT seq_no, event_type, offline FROM transaction_events "
                "WHERE transaction_id = $1 ORDER BY seq_no",
                row["id"],
            )
            assert [e["seq_no"] for e in events] == list(range(len(events)))
            assert events[0]["event_type"] == "Started" and events[-1]["event_type"] == "Ended"
            assert any(e["offline"] for e in events) and row["offline"]
        started_b = await open_csms.pool.fetchval(
            "SELECT offline FROM transaction_events WHERE transaction_id = $1 AND seq_no = 0",
            rows[1]["id"],
        )
        assert started_b  # B began while the CSMS was unreachable


FLEET = """
name = "test-fleet"
stations = 20
duration = 5
seed = 11
id_prefix = "FLEET"

[ramp]
rate = 40

[versions]
"1.6" = 0.5
"2.0.1" = 0.5

[chargers]
ac7 = { share = 0.5, evses = 2 }
dc60 = { share = 0.5, evses = 1 }

[sessions]
mode = "continuous"
length = [2, 4]
gap = [0.5, 1.5]
meter_interval = 1
leave = { Local = 0.5, EVDisconnected = 0.5 }

[churn]
interval = 4
offline = [0.5, 1.5]

[network]
backoff = { minimum = 0.2, range = 0.2, repeat = 2 }
"""


async def test_fleet_report_matches_the_database(open_csms: Running, tmp_path: Path) -> None:
    scenario = tmp_path / "fleet.toml"
    scenario.write_text(FLEET, encoding="utf-8")
    out = tmp_path / "report.json"
    argv = ["fleet", "--url", url(open_csms), "--scenario", str(scenario)]
    async with asyncio.timeout(45):
        code = await amain([*argv, "--report", str(out), "--progress", "off"])
    report = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0, report
    pool = open_csms.pool
    stations, sessions = report["stations"], report["sessions"]
    assert stations["launched"] == stations["accepted"] == 20
    assert stations["by_version"] == {"1.6": 10, "2.0.1": 10}
    assert sessions["undelivered"] == 0 and sessions["completed"] > 10

    assert await pool.fetchval("SELECT count(*) FROM stations WHERE id LIKE 'FLEET-%'") == 20
    counts = await pool.fetchrow(
        """SELECT count(*) AS started,
                  count(*) FILTER (WHERE status = 'closed') AS closed,
                  count(*) FILTER (WHERE orphan) AS orphans,
                  coalesce(sum(meter_stop_wh - meter_start_wh), 0) AS energy
           FROM transactions WHERE station_id LIKE 'FLEET-%'"""
    )
    assert counts is not None and counts["orphans"] == 0
    assert counts["started"] == sessions["started"]
    assert counts["closed"] == sessions["completed"] == sessions["started"]
    assert counts["energy"] == report["energy"]["delivered_wh"] > 0
    readings = await pool.fetchval(
        """SELECT count(*) FROM meter_samples WHERE station_id LIKE 'FLEET-%'
               AND measurand = 'Energy.Active.Import.Register' AND context = 'Sample.Periodic'"""
    )
    assert readings == sessions["meter_readings"]
    by_version = {
        row["ocpp_version"]: row["count"]
        for row in await pool.fetch(
            "SELECT ocpp_version, count(*) FROM transactions WHERE station_id LIKE 'FLEET-%' "
            "GROUP BY ocpp_version"
        )
    }
    assert by_version["1.6"] == report["messages"]["StartTransaction"]["ok"]
    assert report["errors"] == {}
    for action, figures in report["messages"].items():
        assert figures["latency_ms"]["p50"] is not None, action
        assert figures["latency_ms"]["p50"] <= figures["latency_ms"]["p99"]


async def test_cli_station_runs_its_sessions_and_exits(
    open_csms: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["station", "--url", url(open_csms), "--id", "SIM-CLI", "--version", "2.0.1"]
    argv += ["--sessions", "2", "--session-length", "1.2", "--session-gap", "0.1"]
    async with asyncio.timeout(TIMEOUT):
        assert await amain([*argv, "--meter-interval", "1", "--leave", "EVDisconnected"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("session:") == 2
    assert '-> [2,"1","BootNotification"' in printed  # every frame is logged
    reasons = await open_csms.pool.fetch(
        "SELECT stop_reason FROM transactions WHERE station_id = 'SIM-CLI' AND status = 'closed'"
    )
    assert [r["stop_reason"] for r in reasons] == ["EVDisconnected", "EVDisconnected"]


async def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run `csms-sim` in-process; its exit status and what it wrote on stderr."""
    async with asyncio.timeout(TIMEOUT):
        code = await amain(argv)
    return code, capsys.readouterr().err


async def test_cli_station_refused_by_the_csms_says_why_in_one_line(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong password (401) and an unknown station under closed registration (404): one line
    naming the cause at the default log level, exit status 1, no retrying forever."""
    settings = make_settings(database_url, registration=RegistrationPolicy.CLOSED)
    async with running(settings) as csms:
        password = hash_password("sixteen-chars-or-more")
        await StationStore(csms.pool).create("SIM-PW", password_hash=password, security_profile=1)
        station = ["station", "--url", url(csms), "--quiet", "--duration", "20"]
        code, err = await _cli(
            [*station, "--id", "SIM-PW", "--password", "wrong-password!!"], capsys
        )
        assert code == 1
        assert err.splitlines() == [
            "csms-sim: SIM-PW: cannot connect: HTTP 401 Unauthorized: wrong or missing password "
            '(--password; the Basic user is the station id) (the CSMS says "wrong password")'
        ]
        code, err = await _cli([*station, "--id", "SIM-NEW"], capsys)
        assert code == 1 and len(err.splitlines()) == 1, err
        assert "HTTP 404" in err and "does not know this station" in err


async def test_cli_station_tls_and_refused_connections_say_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSMS certificate the station cannot verify ends the run (exit 1); nothing listening
    is retried with one line per attempt, and a station that never got in exits 1."""
    ca = trustme.CA()  # the station is not given it: it cannot verify the CSMS
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)

    async def unused(ws: ServerConnection) -> None:
        raise AssertionError("the handshake must not succeed")

    async with serve(unused, "127.0.0.1", 0, ssl=context) as server:
        port = server.sockets[0].getsockname()[1]
        argv = ["station", "--url", f"wss://127.0.0.1:{port}/ocpp", "--id", "SIM-TLS", "--quiet"]
        code, err = await _cli(argv, capsys)
    assert code == 1 and len(err.splitlines()) == 1, err
    assert "TLS certificate verify failed" in err and "--ca-file" in err
    # the port is free again: connection refused, retried until --duration
    argv = ["station", "--url", f"ws://127.0.0.1:{port}/ocpp", "--id", "SIM-OFF", "--quiet"]
    argv += ["--duration", "1", "--backoff-min", "0.3", "--backoff-range", "0"]
    code, err = await _cli(argv, capsys)
    lines = err.splitlines()
    assert code == 1 and len(lines) >= 2, err
    assert all("connection refused" in line and line.endswith("; retrying") for line in lines[:-1])
    assert lines[-1] == f"csms-sim: SIM-OFF: never connected to ws://127.0.0.1:{port}/ocpp"


async def test_cli_fleet_summarises_stations_that_never_connected(
    csms: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    """Registered stations, a wrong password: every one is refused; the fleet says so once
    while running, sums it up at the end, and exits 1."""
    stations = StationStore(csms.pool)
    for n in range(1, 4):
        password = hash_password("sixteen-chars-or-more")
        await stations.create(f"SIMPW-{n:05d}", password_hash=password, security_profile=1)
    argv = ["fleet", "--url", url(csms), "--stations", "3", "--duration", "1.5", "--progress"]
    argv += ["off", "--id-prefix", "SIMPW", "--password", "not-the-password", "--ramp-rate", "0"]
    code, err = await _cli(argv, capsys)
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith("csms-sim: SIMPW-0000") and "HTTP 401" in lines[0]
    assert lines[1:] == [
        "csms-sim: 3 of 3 stations never connected:",
        "  3 x HTTP401: HTTP 401 Unauthorized: wrong or missing password (--password; the Basic "
        'user is the station id) (the CSMS says "wrong password")',
    ]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_every_operator_command_is_answered(csms: Running, api: Api, version: str) -> None:
    """The CSMS's operator API sends each command; the simulator answers as a charger would,
    and the follow-ups (sessions, statuses, firmware, logs, reboots) reach the CSMS."""
    for token, blocked in (("CARD-C", False), ("CARD-X", True)):
        created = await api.post("/api/v1/tokens", json={"id_token": token, "blocked": blocked})
        assert created.status_code == 201, created.text
    station_id = f"SIM-API-{version}"
    station = Station(
        config(csms, station_id, version, evses=2, step_seconds=0.05), rng=random.Random(7)
    )
    v16 = version == "1.6"

    async def command(name: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = await api.post(f"/api/v1/stations/{station_id}/commands/{name}", json=body)
        assert reply.status_code == 200, (name, reply.text)
        response: dict[str, Any] = reply.json()["response"]
        return response

    async def until(sql: str, expected: Any) -> None:
        async with asyncio.timeout(10):
            while (await csms.pool.fetchval(sql, station_id)) != expected:
                await asyncio.sleep(0.05)

    accepted = {"status": "Accepted"}
    async with powered(station):
        await until("SELECT count(*) FROM connectors WHERE station_id = $1", 3 if v16 else 2)

        assert await command("remote-start", {"id_token": "CARD-C", "evse_id": 1}) == accepted
        await until("SELECT count(*) FROM transactions WHERE station_id = $1", 1)
        tx = await csms.pool.fetchval(
            "SELECT id FROM transactions WHERE station_id = $1", station_id
        )
        assert await command("remote-stop", {"transaction_id": tx}) == accepted
        await until(
            "SELECT stop_reason FROM transactions WHERE station_id = $1 AND status = 'closed'",
            "Remote",
        )

        off = {"operative": False, "evse_id": 2}
        assert await command("change-availability", off) == accepted
        await until(
            "SELECT status FROM connectors WHERE station_id = $1 AND evse_id = 2", "Unavailable"
        )
        assert await command("change-availability", {**off, "operative": True}) == accepted
        assert await command("unlock-connector", {"evse_id": 2}) == {"status": "Unlocked"}
        for message in ("Heartbeat", "StatusNotification", "MeterValues"):
            assert await command("trigger-message", {"message": message}) == accepted

        if v16:
            config_answer = await command(
                "get-configuration", {"keys": ["HeartbeatInterval", "NoSuchKey"]}
            )
            assert config_answer == {
                "configurationKey": [
                    {"key": "HeartbeatInterval", "readonly": False, "value": "60"}
                ],
                "unknownKey": ["NoSuchKey"],
            }
            change = {"key": "MeterValueSampleInterval", "value": "30"}
            assert await command("set-configuration", change) == accepted
        else:
            got = await command("get-configuration", {"keys": ["OCPPCommCtrlr.HeartbeatInterval"]})
            [result] = got["getVariableResult"]
            assert (result["attributeStatus"], result["attributeValue"]) == ("Accepted", "60")
            change = {"key": "SampledDataCtrlr.TxUpdatedInterval", "value": "30"}
            [changed] = (await command("set-configuration", change))["setVariableResult"]
            assert changed["attributeStatus"] == "Accepted"

        assert await command("clear-cache", {}) == accepted
        local_list = {"version": 4, "id_tokens": ["CARD-C", "CARD-X"]}
        assert await command("send-local-list", local_list) == accepted
        raw = await api.post(f"/api/v1/stations/{station_id}/ocpp/GetLocalListVersion", json={})
        assert raw.json()["response"] == ({"listVersion": 4} if v16 else {"versionNumber": 4})

        later = "2030-01-01T00:00:00+08:00"
        reservation = {"reservation_id": 5, "id_token": "CARD-C", "expires_at": later, "evse_id": 1}
        await until(  # the driver has unplugged after the remote stop
            "SELECT status FROM connectors WHERE station_id = $1 AND evse_id = 1", "Available"
        )
        assert await command("reserve-now", reservation) == accepted
        await until(
            "SELECT status FROM connectors WHERE station_id = $1 AND evse_id = 1", "Reserved"
        )
        assert await command("cancel-reservation", {"reservation_id": 5}) == accepted
        assert await command("cancel-reservation", {"reservation_id": 5}) == {"status": "Rejected"}

        profile = {
            "id": 7,
            "stack_level": 0,
            "purpose": "station_max",
            "kind": "Absolute",
            "schedule": {
                "rate_unit": "W",
                "periods": [{"start_s": 0, "limit": 5000.0}],
                "start": "2026-01-01T00:00:00+08:00",
            },
        }
        assert await command("set-charging-profile", {"evse_id": 0, "profile": profile}) == accepted
        composite = await command(
            "get-composite-schedule", {"evse_id": 1, "duration_s": 600, "rate_unit": "W"}
        )
        schedule = composite["chargingSchedule"] if v16 else composite["schedule"]
        assert composite["status"] == "Accepted"
        assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 5000.0}]
        assert await command("clear-charging-profile", {"profile_id": 7}) == accepted

        echo = {"vendor_id": "org.csms.sim", "message_id": "Echo", "data": "hi"}
        assert await command("data-transfer", echo) == {"status": "Accepted", "data": "hi"}
        unknown_vendor = {"vendor_id": "com.acme", "message_id": "Echo"}
        assert await command("data-transfer", unknown_vendor) == {"status": "UnknownVendorId"}

        logs = await command("get-diagnostics", {"location": "ftp://logs.example/up"})
        assert logs["fileName" if v16 else "filename"].endswith(".log")
        progress = "diagnostics_status" if v16 else "log_status"
        await until(f"SELECT {progress} FROM stations WHERE id = $1", "Uploaded")

        boots = await csms.pool.fetchval(
            "SELECT count(*) FROM station_connections WHERE station_id = $1", station_id
        )
        due_now = "2020-01-01T00:00:00+08:00"
        firmware = {"location": "https://fw.example/sim-2.0.0.bin", "retrieve_at": due_now}
        assert await command("update-firmware", firmware) == ({} if v16 else accepted)
        await until("SELECT firmware_status FROM stations WHERE id = $1", "Installed")
        await until("SELECT firmware_version FROM stations WHERE id = $1", "2.0.0")

        assert await command("reset", {"kind": "hard"}) == accepted
        await until("SELECT count(*) FROM station_connections WHERE station_id = $1", boots + 2)
        if not v16:
            report = await api.post(
                f"/api/v1/stations/{station_id}/ocpp/GetBaseReport",
                json={"requestId": 1, "reportBase": "FullInventory"},
            )
            assert report.json()["response"] == accepted
            await until(
                "SELECT value FROM station_variables WHERE station_id = $1 "
                "AND component = 'SecurityCtrlr' AND variable = 'Identity'",
                station_id,
            )
        await until(
            "SELECT count(*) FROM connectors WHERE station_id = $1 AND status = 'Available'",
            3 if v16 else 2,
        )


async def test_security_profiles_2_and_3(database_url: str, tmp_path: Path) -> None:
    """wss:// with HTTP Basic (profile 2) and with a client certificate (profile 3)."""
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key", "p3", "p3key")}
    ca.cert_pem.write_to_path(str(files["ca"]))
    server.cert_chain_pems[0].write_to_path(str(files["cert"]))
    server.private_key_pem.write_to_path(str(files["key"]))
    client = ca.issue_cert("SIM-P3", common_name="SIM-P3")
    client.cert_chain_pems[0].write_to_path(str(files["p3"]))
    client.private_key_pem.write_to_path(str(files["p3key"]))
    settings = make_settings(
        database_url, tls_cert=files["cert"], tls_key=files["key"], tls_client_ca=files["ca"]
    )
    password = "sixteen-chars-or-more"
    async with running(settings) as csms:
        stations = StationStore(csms.pool)
        await stations.create("SIM-P2", password_hash=hash_password(password), security_profile=2)
        await stations.create("SIM-P3", security_profile=3)
        secure = f"wss://127.0.0.1:{csms.ocpp_port}/ocpp"
        p2 = Station(
            config(
                csms, "SIM-P2", "2.0.1", url=secure, password=password, tls=TlsSettings(files["ca"])
            ),
            rng=random.Random(8),
        )
        p3 = Station(
            config(
                csms,
                "SIM-P3",
                "1.6",
                url=secure,
                tls=TlsSettings(files["ca"], files["p3"], files["p3key"]),
            ),
            rng=random.Random(9),
        )
        intruder = Station(
            config(
                csms,
                "SIM-P2",
                "2.0.1",
                url=secure,
                password="not-the-right-password",
                tls=TlsSettings(files["ca"]),
            ),
            rng=random.Random(10),
        )
        async with powered(p2), powered(p3):
            assert p2.online and p3.online
            stop = asyncio.Event()
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(intruder.run(stop=stop, drain_timeout=1))
                await eventually(lambda: intruder.stats.errors["HTTP401"] >= 2)
                assert not intruder.online
                stop.set()
        boots = await csms.pool.fetch(
            "SELECT id, last_boot_status FROM stations WHERE id LIKE 'SIM-P%' ORDER BY id"
        )
        assert [tuple(b) for b in boots] == [("SIM-P2", "Accepted"), ("SIM-P3", "Accepted")]
