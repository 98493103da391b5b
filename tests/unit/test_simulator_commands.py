"""Every CSMS-initiated command, answered by a simulated station over a loopback socket.

A tiny scripted CSMS (websockets server on 127.0.0.1, port 0) answers the station's CALLs and
sends CALL frames of its own; each test checks the answer (against the official schema) and the
follow-up messages. No database: the real CSMS is exercised in tests/integration.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from simulators import schemas, timestamps
from simulators.backoff import BackoffPolicy
from simulators.meter import KINDS
from simulators.ocppj import FrameError
from simulators.station.config import StationConfig
from simulators.station.session import SessionPlan
from simulators.station.station import Station

Payload = dict[str, Any]
TIMEOUT = 5.0


class ScriptedCsms:
    """Answers what the station sends; sends what the test asks; remembers everything."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.inbox: asyncio.Queue[tuple[str, Payload]] = asyncio.Queue()
        self.answers: asyncio.Queue[list[Any]] = asyncio.Queue()
        self.sockets: list[ServerConnection] = []
        self.authorizations: list[str | None] = []
        self.invalid: list[str] = []  # station payloads that broke the schema
        self.connected = asyncio.Event()
        self.hold: dict[str, asyncio.Event] = {}  # actions whose answer waits for a release
        self.canned: dict[str, Payload] = {}  # answers that replace the usual ones
        self.boot_answers: list[tuple[str, int]] = []  # (status, interval) before Accepted/300
        self.tx_ids = itertools.count(100)
        self.last_tx_id = 0
        self._ids = itertools.count(1)

    @property
    def socket(self) -> ServerConnection:
        return self.sockets[-1]

    async def handle(self, ws: ServerConnection) -> None:
        self.sockets.append(ws)
        assert ws.request is not None
        self.authorizations.append(ws.request.headers.get("Authorization"))
        self.connected.set()
        async with asyncio.TaskGroup() as held:
            try:
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame[0] != 2:
                        self.answers.put_nowait(frame)
                        continue
                    _, unique_id, action, payload = frame
                    try:
                        schemas.validate(self.version, action, payload)
                    except FrameError as error:
                        self.invalid.append(f"{action}: {error.description}")
                    self.inbox.put_nowait((action, payload))
                    answer = json.dumps([3, unique_id, self.answer(action, payload)])
                    gate = self.hold.get(action)
                    if gate is None:
                        await ws.send(answer)
                    else:
                        held.create_task(self._answer_later(ws, gate, answer))
            except ConnectionClosed:
                pass

    @staticmethod
    async def _answer_later(ws: ServerConnection, gate: asyncio.Event, answer: str) -> None:
        await gate.wait()
        with contextlib.suppress(ConnectionClosed):
            await ws.send(answer)

    def answer(self, action: str, payload: Payload) -> Payload:
        if action in self.canned:
            return self.canned[action]
        now = timestamps.isoformat(timestamps.utcnow())
        if action == "BootNotification":
            status, interval = self.boot_answers.pop(0) if self.boot_answers else ("Accepted", 300)
            return {"status": status, "currentTime": now, "interval": interval}
        if action == "Heartbeat":
            return {"currentTime": now}
        if action == "Authorize":
            key = "idTagInfo" if self.version == "1.6" else "idTokenInfo"
            return {key: {"status": "Accepted"}}
        if action == "StartTransaction":
            self.last_tx_id = next(self.tx_ids)
            return {"transactionId": self.last_tx_id, "idTagInfo": {"status": "Accepted"}}
        if action == "DataTransfer":
            return {"status": "UnknownVendorId"}
        return {}

    async def call(self, action: str, payload: Payload) -> list[Any]:
        """Send a CALL; return the station's answer frame (a CALLRESULT is schema-checked)."""
        unique_id = f"c{next(self._ids)}"
        await self.socket.send(json.dumps([2, unique_id, action, payload]))
        return await self.answer_to(unique_id, action)

    async def answer_to(self, unique_id: str, action: str | None = None) -> list[Any]:
        async with asyncio.timeout(TIMEOUT):
            while True:
                frame = await self.answers.get()
                if frame[1] == unique_id:
                    break
        if frame[0] == 3 and action is not None:
            schemas.validate(self.version, action, frame[2], response=True)
        return frame

    async def result(self, action: str, payload: Payload) -> Payload:
        frame = await self.call(action, payload)
        assert frame[0] == 3, frame
        result: Payload = frame[2]
        return result

    async def expect(
        self, action: str, where: Callable[[Payload], bool] = lambda p: True
    ) -> Payload:
        """The next message of that action (matching `where`) the station sends."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                got, payload = await self.inbox.get()
                if got == action and where(payload):
                    return payload

    def drain(self) -> list[tuple[str, Payload]]:
        out = []
        while not self.inbox.empty():
            out.append(self.inbox.get_nowait())
        return out


def config(version: str, url: str, **changes: Any) -> StationConfig:
    base: dict[str, Any] = {
        "station_id": "CP-CMD",
        "url": url,
        "version": version,
        "evses": 2,
        "kind": KINDS["ac7"],
        "meter_interval": 1,
        "backoff": BackoffPolicy(0.05, 0.05, 2),
        "reboot_seconds": 0.2,
        "step_seconds": 0.05,
        "call_timeout": 5.0,
        "register_wh": 10_000,
    }
    base.update(changes)
    return StationConfig(**base)


@asynccontextmanager
async def connected(
    version: str, *, boot_answers: list[tuple[str, int]] | None = None, **changes: Any
) -> AsyncIterator[tuple[ScriptedCsms, Station]]:
    csms = ScriptedCsms(version)
    csms.boot_answers = list(boot_answers or [])
    async with serve(
        csms.handle,
        "127.0.0.1",
        0,
        subprotocols=[Subprotocol("ocpp1.6"), Subprotocol("ocpp2.0.1")],
    ) as server:
        port = server.sockets[0].getsockname()[1]
        station = Station(
            config(version, f"ws://127.0.0.1:{port}/ocpp", **changes), rng=random.Random(1)
        )
        stop = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(station.run(stop=stop, drain_timeout=5))
            try:
                async with asyncio.timeout(TIMEOUT):
                    await station.wait_online()
                await csms.expect("BootNotification")
                last = max(station.evses)
                await csms.expect("StatusNotification", connector_status(csms, last, "Available"))
                yield csms, station
            finally:
                stop.set()
    assert csms.invalid == []


async def eventually(check: Callable[[], bool]) -> None:
    """Until `check()` holds (the station acts on an answer just after the CSMS sent it)."""
    async with asyncio.timeout(TIMEOUT):
        while not check():  # station state has no event to wait on
            await asyncio.sleep(0.01)


def plan(seconds: float = 30.0, tag: str = "CARD-1") -> SessionPlan:
    return SessionPlan(id_tag=tag, duration_s=seconds, unplug_delay_s=0.1)


def connector_status(csms: ScriptedCsms, evse: int, status: str) -> Callable[[Payload], bool]:
    if csms.version == "1.6":
        return lambda p: p["connectorId"] == evse and p["status"] == status
    return lambda p: p["evseId"] == evse and p["connectorStatus"] == status


# -- both versions: protocol errors and crossing calls -------------------------------------------


@pytest.mark.parametrize(
    ("version", "code"), [("1.6", "FormationViolation"), ("2.0.1", "FormatViolation")]
)
async def test_malformed_frames_get_the_version_s_error(version: str, code: str) -> None:
    async with connected(version) as (csms, _):
        await csms.socket.send("this is not json")
        frame = await csms.answer_to("-1")
        assert frame[:3] == [4, "-1", code]
        unknown = await csms.call("MakeCoffee", {})
        assert unknown[0] == 4 and unknown[2] == "NotImplemented"
        not_ours = await csms.call("BootNotification", {})  # known action, not for a station
        assert not_ours[0] == 4 and not_ours[2] == "NotSupported"
        bad = await csms.call("Reset", {})
        missing = (
            "OccurenceConstraintViolation" if version == "1.6" else "OccurrenceConstraintViolation"
        )
        assert bad[0] == 4 and bad[2] == missing
        # the connection survives all of that
        assert (await csms.call("ClearCache", {}))[0] == 3


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_answers_the_csms_while_its_own_call_waits(version: str) -> None:
    async with connected(version) as (csms, station):
        gate = asyncio.Event()
        csms.hold["Heartbeat"] = gate
        async with asyncio.TaskGroup() as tasks:
            heartbeat = tasks.create_task(station.call("Heartbeat", {}))
            try:
                await csms.expect("Heartbeat")  # the station's CALL is outstanding now
                action = "GetConfiguration" if version == "1.6" else "GetLocalListVersion"
                frame = await csms.call(action, {})
                assert frame[0] == 3  # answered although the station waits for its own answer
                assert not heartbeat.done()
            finally:
                gate.set()
        assert "currentTime" in (await heartbeat or {})


async def test_an_answer_that_breaks_the_schema_is_reported_not_trusted() -> None:
    async with connected("1.6") as (csms, station):
        csms.canned["StartTransaction"] = {"idTagInfo": {"status": "Accepted"}}  # no id
        assert await csms.result(
            "ChangeConfiguration", {"key": "TransactionMessageRetryInterval", "value": "0"}
        ) == {"status": "Accepted"}
        station.start_session(1, plan(seconds=0.5))
        for _ in range(3):  # TransactionMessageAttempts
            await csms.expect("StartTransaction")
        # the start was given up, so its stop has no id the CSMS would know: dropped, counted
        await eventually(lambda: station.stats.errors["StopWithoutTransactionId"] == 1)
        assert station.stats.errors["InvalidResponse"] == 3
        assert station.stats.errors["StartTransactionGivenUp"] == 1
        assert (await csms.call("ClearCache", {}))[0] == 3  # still alive and answering


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_boot_retries_after_pending_and_rejected_then_heartbeats(version: str) -> None:
    """1.6 §4.2 / 2.0.1 B02-B03: boot again after the interval given; nothing else is sent
    before Accepted; then heartbeats at the interval of the accepted boot."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    answers = [("Pending", 1), ("Rejected", 1), ("Accepted", 1)]
    async with connected(version, boot_answers=answers) as (csms, station):
        assert loop.time() - started >= 2.0  # two waits of 1 s
        assert station.stats.boots == {"Pending": 1, "Rejected": 1, "Accepted": 1}
        first = await csms.expect("Heartbeat")
        assert first == {} and loop.time() - started >= 2.9
    boots = [a for a, _ in csms.drain()]
    assert "BootNotification" not in boots


async def test_pending_station_answers_the_csms() -> None:
    csms = ScriptedCsms("1.6")
    csms.boot_answers = [("Pending", 30)]
    async with serve(csms.handle, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp1.6")]) as server:
        port = server.sockets[0].getsockname()[1]
        station = Station(config("1.6", f"ws://127.0.0.1:{port}/ocpp"), rng=random.Random(2))
        stop = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(station.run(stop=stop, drain_timeout=1))
            try:
                assert (await csms.expect("BootNotification"))["chargePointModel"] == "SIM-AC7"
                # Pending: the CSMS may configure the station before accepting it (§4.2)
                change = {"key": "MeterValueSampleInterval", "value": "15"}
                assert await csms.result("ChangeConfiguration", change) == {"status": "Accepted"}
                trigger = {"requestedMessage": "BootNotification"}
                assert await csms.result("TriggerMessage", trigger) == {"status": "Accepted"}
                await csms.expect("BootNotification")  # triggered: Accepted this time
                await eventually(lambda: station.online)
                await csms.expect("StatusNotification")
            finally:
                stop.set()
    assert csms.invalid == []


# -- OCPP 1.6 ---------------------------------------------------------------------------------


async def test_v16_remote_start_and_stop() -> None:
    async with connected("1.6") as (csms, station):
        assert await csms.result(
            "RemoteStartTransaction", {"idTag": "APP-1", "connectorId": 9}
        ) == {"status": "Rejected"}
        assert await csms.result(
            "RemoteStartTransaction", {"idTag": "APP-1", "connectorId": 2}
        ) == {"status": "Accepted"}
        start = await csms.expect("StartTransaction")
        assert (start["connectorId"], start["idTag"], start["meterStart"]) == (2, "APP-1", 10_000)
        await csms.expect("StatusNotification", connector_status(csms, 2, "Charging"))
        tx = csms.last_tx_id
        assert await csms.result("RemoteStopTransaction", {"transactionId": tx + 1}) == {
            "status": "Rejected"
        }
        assert await csms.result("RemoteStopTransaction", {"transactionId": tx}) == {
            "status": "Accepted"
        }
        stop = await csms.expect("StopTransaction")
        assert stop["transactionId"] == tx and stop["reason"] == "Remote"
        await csms.expect("StatusNotification", connector_status(csms, 2, "Available"))
        await eventually(lambda: station.stats.sessions_completed == 1)


async def test_v16_remote_start_with_authorization_and_profile() -> None:
    async with connected("1.6") as (csms, _):
        change = {"key": "AuthorizeRemoteTxRequests", "value": "true"}
        assert await csms.result("ChangeConfiguration", change) == {"status": "Accepted"}
        profile = {
            "chargingProfileId": 5,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
            },
        }
        answer = await csms.result(
            "RemoteStartTransaction", {"idTag": "APP-2", "chargingProfile": profile}
        )
        assert answer == {"status": "Accepted"}
        assert (await csms.expect("Authorize"))["idTag"] == "APP-2"
        start = await csms.expect("StartTransaction")
        assert start["connectorId"] == 1
        schedule = await csms.result(
            "GetCompositeSchedule", {"connectorId": 1, "duration": 600, "chargingRateUnit": "W"}
        )
        assert schedule["chargingSchedule"]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 2300.0}  # 10 A x 230 V, single phase
        ]
        values = await csms.expect("MeterValues")
        power = [
            v
            for v in values["meterValue"][0]["sampledValue"]
            if v["measurand"] == "Power.Active.Import"
        ]
        assert float(power[0]["value"]) <= 2300.0
        bad_purpose = {**profile, "chargingProfilePurpose": "TxDefaultProfile"}
        answer = await csms.result(
            "RemoteStartTransaction",
            {"idTag": "APP-3", "connectorId": 2, "chargingProfile": bad_purpose},
        )
        assert answer == {"status": "Rejected"}


@pytest.mark.parametrize(("kind", "reason"), [("Soft", "SoftReset"), ("Hard", "HardReset")])
async def test_v16_reset_stops_transactions_and_boots_again(kind: str, reason: str) -> None:
    async with connected("1.6") as (csms, station):
        station.start_session(1, plan())
        await csms.expect("StartTransaction")
        assert await csms.result("Reset", {"type": kind}) == {"status": "Accepted"}
        sent: list[tuple[str, Payload]] = []
        while [a for a, _ in sent].count("StatusNotification") < 3 or "StopTransaction" not in [
            a for a, _ in sent
        ]:
            sent.append(await csms.inbox.get())
        order = [a for a, _ in sent if a in ("StopTransaction", "BootNotification")]
        # Soft: the stop goes out before the reboot; Hard: after the next accepted boot (§5.14)
        assert order == (
            ["StopTransaction", "BootNotification"]
            if kind == "Soft"
            else ["BootNotification", "StopTransaction"]
        )
        assert dict(sent)["StopTransaction"]["reason"] == reason
        assert len(csms.sockets) == 2  # it went away and came back


async def test_v16_change_availability() -> None:
    async with connected("1.6") as (csms, station):
        inoperative = {"connectorId": 2, "type": "Inoperative"}
        assert await csms.result("ChangeAvailability", inoperative) == {"status": "Accepted"}
        await csms.expect("StatusNotification", connector_status(csms, 2, "Unavailable"))
        assert await csms.result("ChangeAvailability", {**inoperative, "connectorId": 7}) == {
            "status": "Rejected"
        }
        station.start_session(1, plan(seconds=1.5))
        await csms.expect("StartTransaction")
        answer = await csms.result("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
        assert answer == {"status": "Scheduled"}
        await csms.expect("StopTransaction")
        await csms.expect("StatusNotification", connector_status(csms, 1, "Unavailable"))
        whole = {"connectorId": 0, "type": "Operative"}
        assert await csms.result("ChangeAvailability", whole) == {"status": "Accepted"}
        available: set[int] = set()
        while available != {1, 2}:  # connector 0 was never inoperative: nothing to say
            note = await csms.expect("StatusNotification", lambda p: p["status"] == "Available")
            available.add(note["connectorId"])


async def test_v16_unlock_connector() -> None:
    async with connected("1.6") as (csms, station):
        assert await csms.result("UnlockConnector", {"connectorId": 5}) == {
            "status": "NotSupported"
        }
        station.start_session(1, plan())
        await csms.expect("StartTransaction")
        assert await csms.result("UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
        assert (await csms.expect("StopTransaction"))["reason"] == "UnlockCommand"
        await csms.expect("StatusNotification", connector_status(csms, 1, "Available"))


def _triggered_reading(p: Payload) -> bool:
    return bool(p["meterValue"][0]["sampledValue"][0]["context"] == "Trigger")


@pytest.mark.parametrize(
    ("requested", "check"),
    [
        ("Heartbeat", lambda p: p == {}),
        ("BootNotification", lambda p: p["chargePointModel"] == "SIM-AC7"),
        ("StatusNotification", lambda p: p["connectorId"] == 2),
        ("MeterValues", _triggered_reading),
        ("FirmwareStatusNotification", lambda p: p == {"status": "Idle"}),
        ("DiagnosticsStatusNotification", lambda p: p == {"status": "Idle"}),
    ],
)
async def test_v16_trigger_message(requested: str, check: Callable[[Payload], bool]) -> None:
    async with connected("1.6") as (csms, _):
        csms.drain()
        payload: Payload = {"requestedMessage": requested}
        if requested in ("StatusNotification", "MeterValues"):
            payload["connectorId"] = 2
        assert await csms.result("TriggerMessage", payload) == {"status": "Accepted"}
        assert check(await csms.expect(requested))
        rejected = await csms.result("TriggerMessage", {**payload, "connectorId": 3})
        assert rejected == {"status": "Rejected"}


async def test_v16_configuration_keys() -> None:
    async with connected("1.6", password="0123456789abcdef") as (csms, _):
        everything = await csms.result("GetConfiguration", {})
        keys = {k["key"]: k for k in everything["configurationKey"]}
        assert keys["NumberOfConnectors"] == {
            "key": "NumberOfConnectors",
            "readonly": True,
            "value": "2",
        }
        assert "value" not in keys["AuthorizationKey"]  # write-only
        some = await csms.result(
            "GetConfiguration", {"key": ["MeterValueSampleInterval", "Colour"]}
        )
        assert some == {
            "configurationKey": [
                {"key": "MeterValueSampleInterval", "readonly": False, "value": "1"}
            ],
            "unknownKey": ["Colour"],
        }
        for key, value, status in [
            ("MeterValueSampleInterval", "30", "Accepted"),
            ("MeterValueSampleInterval", "soon", "Rejected"),
            ("NumberOfConnectors", "4", "Rejected"),
            ("MeterValuesSampledData", "Voltage,RPM", "Rejected"),
            ("Colour", "red", "NotSupported"),
        ]:
            assert await csms.result("ChangeConfiguration", {"key": key, "value": value}) == {
                "status": status
            }
        after = await csms.result("GetConfiguration", {"key": ["MeterValueSampleInterval"]})
        assert after["configurationKey"][0]["value"] == "30"


async def test_v16_heartbeat_interval_change_takes_effect() -> None:
    async with connected("1.6") as (csms, _):
        change = {"key": "HeartbeatInterval", "value": "1"}
        assert await csms.result("ChangeConfiguration", change) == {"status": "Accepted"}
        await csms.expect("Heartbeat")


async def test_v16_new_authorization_key_reconnects_with_it() -> None:
    async with connected("1.6", password="first-password-16") as (csms, _):
        assert (
            csms.authorizations[-1]
            == "Basic " + base64.b64encode(b"CP-CMD:first-password-16").decode()
        )
        change = {"key": "AuthorizationKey", "value": "second-password-16"}
        assert await csms.result("ChangeConfiguration", change) == {"status": "Accepted"}
        await eventually(lambda: len(csms.sockets) == 2)
        assert (
            csms.authorizations[-1]
            == "Basic " + base64.b64encode(b"CP-CMD:second-password-16").decode()
        )


async def test_v16_local_list_and_cache() -> None:
    async with connected("1.6") as (csms, station):
        assert await csms.result("GetLocalListVersion", {}) == {"listVersion": 0}
        full = {
            "listVersion": 3,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "LOCAL-1", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "LOCAL-2", "idTagInfo": {"status": "Blocked"}},
            ],
        }
        assert await csms.result("SendLocalList", full) == {"status": "Accepted"}
        assert await csms.result("GetLocalListVersion", {}) == {"listVersion": 3}
        stale = {"listVersion": 3, "updateType": "Differential", "localAuthorizationList": []}
        assert await csms.result("SendLocalList", stale) == {"status": "VersionMismatch"}
        removal = {
            "listVersion": 4,
            "updateType": "Differential",
            "localAuthorizationList": [{"idTag": "LOCAL-2"}],
        }
        assert await csms.result("SendLocalList", removal) == {"status": "Accepted"}
        assert len(station.local_list) == 1
        assert await csms.result("ClearCache", {}) == {"status": "Accepted"}
        off = {"key": "LocalAuthListEnabled", "value": "false"}
        assert await csms.result("ChangeConfiguration", off) == {"status": "Accepted"}
        assert await csms.result("GetLocalListVersion", {}) == {"listVersion": -1}
        assert await csms.result("SendLocalList", {**full, "listVersion": 5}) == {
            "status": "NotSupported"
        }


async def test_v16_reservations() -> None:
    async with connected("1.6") as (csms, station):
        soon = timestamps.isoformat(timestamps.utcnow() + timedelta(hours=1))
        reserve = {"connectorId": 1, "expiryDate": soon, "idTag": "RES-1", "reservationId": 11}
        assert await csms.result("ReserveNow", reserve) == {"status": "Accepted"}
        await csms.expect("StatusNotification", connector_status(csms, 1, "Reserved"))
        taken = {**reserve, "reservationId": 12, "idTag": "RES-2"}
        assert await csms.result("ReserveNow", taken) == {"status": "Occupied"}
        assert await csms.result("ReserveNow", {**reserve, "connectorId": 9}) == {
            "status": "Rejected"
        }
        # someone else's card cannot charge on the reserved connector; the holder's can
        refused = await station.charge(1, plan(seconds=0.5, tag="OTHER"))
        assert refused is not None and not refused.authorized
        station.start_session(1, plan(seconds=0.5, tag="RES-1"))
        start = await csms.expect("StartTransaction")
        assert start["reservationId"] == 11 and start["idTag"] == "RES-1"
        await csms.expect("StopTransaction")
        assert await csms.result("CancelReservation", {"reservationId": 11}) == {
            "status": "Rejected"
        }
        any_connector = {**reserve, "connectorId": 0, "reservationId": 13}
        assert await csms.result("ReserveNow", any_connector) == {"status": "Accepted"}
        assert await csms.result("CancelReservation", {"reservationId": 13}) == {
            "status": "Accepted"
        }
        brief = timestamps.isoformat(timestamps.utcnow() + timedelta(seconds=0.3))
        assert await csms.result(
            "ReserveNow", {**reserve, "connectorId": 2, "expiryDate": brief}
        ) == {"status": "Accepted"}
        await csms.expect("StatusNotification", connector_status(csms, 2, "Reserved"))
        await csms.expect("StatusNotification", connector_status(csms, 2, "Available"))  # expired


async def test_v16_charging_profiles() -> None:
    async with connected("1.6") as (csms, station):

        def profile(pid: int, purpose: str, limit: float, **extra: Any) -> Payload:
            return {
                "chargingProfileId": pid,
                "stackLevel": extra.pop("stackLevel", 0),
                "chargingProfilePurpose": purpose,
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "W",
                    "startSchedule": timestamps.isoformat(
                        timestamps.utcnow() - timedelta(minutes=1)
                    ),
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                },
                **extra,
            }

        async def set_profile(connector: int, p: Payload) -> str:
            answer = await csms.result(
                "SetChargingProfile", {"connectorId": connector, "csChargingProfiles": p}
            )
            return str(answer["status"])

        assert await set_profile(1, profile(1, "TxProfile", 3000)) == "Rejected"  # no transaction
        assert await set_profile(1, profile(2, "ChargePointMaxProfile", 3000)) == "Rejected"
        assert await set_profile(0, profile(3, "ChargePointMaxProfile", 5000)) == "Accepted"
        assert (
            await set_profile(0, profile(4, "TxDefaultProfile", 4000, stackLevel=99)) == "Rejected"
        )
        assert await set_profile(1, profile(5, "TxDefaultProfile", 4000)) == "Accepted"
        composite = await csms.result("GetCompositeSchedule", {"connectorId": 1, "duration": 300})
        assert composite["status"] == "Accepted"
        assert composite["chargingSchedule"]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 4000.0}
        ]
        station.start_session(2, plan())
        await csms.expect("StartTransaction")
        tx = csms.last_tx_id
        assert (
            await set_profile(2, profile(6, "TxProfile", 2000, transactionId=tx + 5)) == "Rejected"
        )
        assert await set_profile(2, profile(6, "TxProfile", 2000, transactionId=tx)) == "Accepted"
        amps = await csms.result(
            "GetCompositeSchedule", {"connectorId": 2, "duration": 60, "chargingRateUnit": "A"}
        )
        assert amps["chargingSchedule"]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 8.7}
        ]
        cleared = await csms.result(
            "ClearChargingProfile", {"chargingProfilePurpose": "TxDefaultProfile"}
        )
        assert cleared == {"status": "Accepted"}
        assert await csms.result("ClearChargingProfile", {"id": 5}) == {"status": "Unknown"}
        assert await csms.result("GetCompositeSchedule", {"connectorId": 4, "duration": 60}) == {
            "status": "Rejected"
        }


async def test_v16_firmware_update() -> None:
    async with connected("1.6") as (csms, _):
        now = timestamps.isoformat(timestamps.utcnow())
        answer = await csms.result(
            "UpdateFirmware",
            {"location": "https://fw.example.com/sim-2.4.1.bin", "retrieveDate": now},
        )
        assert answer == {}
        statuses: list[str] = []
        for _ in range(3):
            statuses.append((await csms.expect("FirmwareStatusNotification"))["status"])
        assert statuses == ["Downloading", "Downloaded", "Installing"]
        boot = await csms.expect("BootNotification")
        assert boot["firmwareVersion"] == "2.4.1"
        assert (await csms.expect("FirmwareStatusNotification"))["status"] == "Installed"
        unusable = {
            "location": "mailto:ops@example.com",
            "retrieveDate": now,
        }  # a URI, not a download
        failed = await csms.result("UpdateFirmware", unusable)
        assert failed == {}
        assert (await csms.expect("FirmwareStatusNotification"))["status"] == "DownloadFailed"


async def test_v16_diagnostics() -> None:
    async with connected("1.6") as (csms, _):
        answer = await csms.result("GetDiagnostics", {"location": "ftp://logs.example.com/in/"})
        assert answer["fileName"].startswith("CP-CMD-diagnostics-")
        assert (await csms.expect("DiagnosticsStatusNotification"))["status"] == "Uploading"
        assert (await csms.expect("DiagnosticsStatusNotification"))["status"] == "Uploaded"
        await csms.result("GetDiagnostics", {"location": "mailto:ops@example.com"})
        assert (await csms.expect("DiagnosticsStatusNotification"))["status"] == "UploadFailed"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_data_transfer(version: str) -> None:
    async with connected(version) as (csms, _):
        echo = {"vendorId": "org.csms.sim", "messageId": "Echo", "data": "ping"}
        assert await csms.result("DataTransfer", echo) == {"status": "Accepted", "data": "ping"}
        assert await csms.result("DataTransfer", {**echo, "messageId": "Other"}) == {
            "status": "UnknownMessageId"
        }
        assert await csms.result("DataTransfer", {"vendorId": "com.acme"}) == {
            "status": "UnknownVendorId"
        }


# -- OCPP 2.0.1 -------------------------------------------------------------------------------

TOKEN = {"idToken": "APP-9", "type": "Central"}


def is_event(kind: str) -> Callable[[Payload], bool]:
    return lambda p: p["eventType"] == kind


async def test_v201_request_start_and_stop() -> None:
    async with connected("2.0.1") as (csms, station):
        request = {"idToken": TOKEN, "remoteStartId": 77, "evseId": 2}
        assert await csms.result("RequestStartTransaction", {**request, "evseId": 5}) == {
            "status": "Rejected"
        }
        assert await csms.result("RequestStartTransaction", request) == {"status": "Accepted"}
        started = await csms.expect("TransactionEvent", is_event("Started"))
        assert started["seqNo"] == 0 and started["triggerReason"] == "RemoteStart"
        assert started["transactionInfo"]["remoteStartId"] == 77
        assert started["evse"] == {"id": 2, "connectorId": 1} and started["idToken"] == TOKEN
        tx = started["transactionInfo"]["transactionId"]
        update = await csms.expect("TransactionEvent", is_event("Updated"))
        assert update["seqNo"] == 1 and update["transactionInfo"]["transactionId"] == tx
        assert await csms.result("RequestStopTransaction", {"transactionId": "nope"}) == {
            "status": "Rejected"
        }
        assert await csms.result("RequestStopTransaction", {"transactionId": tx}) == {
            "status": "Accepted"
        }
        ended = await csms.expect("TransactionEvent", is_event("Ended"))
        assert ended["transactionInfo"]["stoppedReason"] == "Remote"
        assert ended["triggerReason"] == "RemoteStop" and ended["seqNo"] >= 2
        await eventually(lambda: station.stats.sessions_completed == 1)


async def test_v201_reset() -> None:
    async with connected("2.0.1") as (csms, station):
        assert await csms.result("Reset", {"type": "Immediate", "evseId": 1}) == {
            "status": "Rejected"
        }
        station.start_session(1, plan(seconds=1.5))
        await csms.expect("TransactionEvent", is_event("Started"))
        assert await csms.result("Reset", {"type": "OnIdle"}) == {"status": "Scheduled"}
        ended = await csms.expect("TransactionEvent", is_event("Ended"))
        assert ended["transactionInfo"]["stoppedReason"] == "Local"  # the session ran its course
        boot = await csms.expect("BootNotification")
        assert boot["reason"] == "RemoteReset"
        station.start_session(2, plan())
        await csms.expect("TransactionEvent", is_event("Started"))
        assert await csms.result("Reset", {"type": "Immediate"}) == {"status": "Accepted"}
        ended = await csms.expect("TransactionEvent", is_event("Ended"))
        assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
        assert ended["triggerReason"] == "ResetCommand"
        assert (await csms.expect("BootNotification"))["reason"] == "RemoteReset"


async def test_v201_availability_and_unlock() -> None:
    async with connected("2.0.1") as (csms, station):
        request = {"operationalStatus": "Inoperative", "evse": {"id": 1}}
        assert await csms.result("ChangeAvailability", request) == {"status": "Accepted"}
        await csms.expect("StatusNotification", connector_status(csms, 1, "Unavailable"))
        wrong = {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 2}}
        assert await csms.result("ChangeAvailability", wrong) == {"status": "Rejected"}
        assert await csms.result("ChangeAvailability", {"operationalStatus": "Operative"}) == {
            "status": "Accepted"
        }
        await csms.expect("StatusNotification", connector_status(csms, 1, "Available"))
        assert await csms.result("UnlockConnector", {"evseId": 3, "connectorId": 1}) == {
            "status": "UnknownConnector"
        }
        station.start_session(2, plan())
        await csms.expect("TransactionEvent", is_event("Started"))
        locked = await csms.result("UnlockConnector", {"evseId": 2, "connectorId": 1})
        assert locked == {"status": "OngoingAuthorizedTransaction"}
        assert await csms.result("UnlockConnector", {"evseId": 1, "connectorId": 1}) == {
            "status": "Unlocked"
        }
        scheduled = await csms.result(
            "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2}}
        )
        assert scheduled == {"status": "Scheduled"}


async def test_v201_trigger_message() -> None:
    async with connected("2.0.1") as (csms, station):
        boot = await csms.result("TriggerMessage", {"requestedMessage": "BootNotification"})
        assert boot == {"status": "Rejected"}  # already accepted
        none = await csms.result("TriggerMessage", {"requestedMessage": "TransactionEvent"})
        assert none == {"status": "Rejected"}  # no transaction to report
        cert = await csms.result("TriggerMessage", {"requestedMessage": "SignV2GCertificate"})
        assert cert == {"status": "NotImplemented"}
        assert await csms.result("TriggerMessage", {"requestedMessage": "Heartbeat"}) == {
            "status": "Accepted"
        }
        await csms.expect("Heartbeat")
        meter = await csms.result(
            "TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 2}}
        )
        assert meter == {"status": "Accepted"}
        values = await csms.expect("MeterValues")
        assert (
            values["evseId"] == 2
            and values["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
        )
        status = await csms.result(
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}},
        )
        assert status == {"status": "Accepted"}
        await csms.expect("StatusNotification", connector_status(csms, 1, "Available"))
        station.start_session(1, plan())
        started = await csms.expect("TransactionEvent", is_event("Started"))
        event = await csms.result(
            "TriggerMessage", {"requestedMessage": "TransactionEvent", "evse": {"id": 1}}
        )
        assert event == {"status": "Accepted"}
        triggered = await csms.expect("TransactionEvent", lambda p: p["triggerReason"] == "Trigger")
        assert (
            triggered["transactionInfo"]["transactionId"]
            == started["transactionInfo"]["transactionId"]
        )
        for requested, action in (
            ("FirmwareStatusNotification", "FirmwareStatusNotification"),
            ("LogStatusNotification", "LogStatusNotification"),
        ):
            assert await csms.result("TriggerMessage", {"requestedMessage": requested}) == {
                "status": "Accepted"
            }
            assert await csms.expect(action) == {"status": "Idle"}


async def test_v201_get_and_set_variables() -> None:
    async with connected("2.0.1", password="first-password-16") as (csms, _):
        answer = await csms.result(
            "GetVariables",
            {
                "getVariableData": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    },
                    {
                        "component": {"name": "EVSE", "evse": {"id": 2}},
                        "variable": {"name": "Power"},
                    },
                    {
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                    },
                    {"component": {"name": "Toaster"}, "variable": {"name": "Power"}},
                    {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Colour"}},
                    {
                        "component": {"name": "AuthCtrlr"},
                        "variable": {"name": "Enabled"},
                        "attributeType": "MaxSet",
                    },
                    {"component": {"name": "ClockCtrlr"}, "variable": {"name": "DateTime"}},
                ]
            },
        )
        results = answer["getVariableResult"]
        assert [r["attributeStatus"] for r in results] == [
            "Accepted", "Accepted", "Rejected", "UnknownComponent", "UnknownVariable",
            "NotSupportedAttributeType", "Accepted",
        ]  # fmt: skip
        assert results[0]["attributeValue"] == "300" and results[1]["attributeValue"] == "7000"
        assert "attributeValue" not in results[2]
        sets = await csms.result(
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                        "attributeValue": "1",
                    },
                    {
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "Identity"},
                        "attributeValue": "X",
                    },
                    {
                        "component": {"name": "SampledDataCtrlr"},
                        "variable": {"name": "TxUpdatedInterval"},
                        "attributeValue": "soon",
                    },
                    {
                        "component": {"name": "SampledDataCtrlr"},
                        "variable": {"name": "TxUpdatedMeasurands"},
                        "attributeValue": "Energy.Active.Import.Register,SoC",
                    },
                ]
            },
        )
        assert [r["attributeStatus"] for r in sets["setVariableResult"]] == [
            "Accepted", "Rejected", "Rejected", "Accepted",
        ]  # fmt: skip
        await csms.expect("Heartbeat")  # the new interval (1 s) is in force
        password = {
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
            "attributeValue": "second-password-16",
        }
        assert (await csms.result("SetVariables", {"setVariableData": [password]}))[
            "setVariableResult"
        ][0]["attributeStatus"] == "Accepted"
        await eventually(lambda: len(csms.sockets) == 2)
        assert (
            csms.authorizations[-1]
            == "Basic " + base64.b64encode(b"CP-CMD:second-password-16").decode()
        )
        too_many = {
            "getVariableData": [
                {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"}}
            ]
            * 51
        }
        frame = await csms.call("GetVariables", too_many)
        assert frame[0] == 4 and frame[2] == "OccurrenceConstraintViolation"


async def test_v201_base_report() -> None:
    async with connected("2.0.1") as (csms, station):
        answer = await csms.result("GetBaseReport", {"requestId": 5, "reportBase": "FullInventory"})
        assert answer == {"status": "Accepted"}
        parts = [await csms.expect("NotifyReport")]
        while parts[-1]["tbc"]:
            parts.append(await csms.expect("NotifyReport"))
        assert [p["seqNo"] for p in parts] == list(range(len(parts))) and len(parts) >= 2
        assert all(p["requestId"] == 5 and len(p["reportData"]) <= 50 for p in parts)
        data = [d for p in parts for d in p["reportData"]]
        assert len(data) == len(station.dialect.model)  # type: ignore[attr-defined]
        names = {(d["component"]["name"], d["variable"]["name"]) for d in data}
        assert {
            ("SecurityCtrlr", "Identity"),
            ("EVSE", "Power"),
            ("Connector", "ConnectorType"),
        } <= names
        assert await csms.result(
            "GetBaseReport", {"requestId": 6, "reportBase": "SummaryInventory"}
        ) == {"status": "Accepted"}
        summary = await csms.expect("NotifyReport", lambda p: p["requestId"] == 6)
        assert {d["variable"]["name"] for d in summary["reportData"]} <= {
            "AvailabilityState",
            "Available",
        }


async def test_v201_local_list_cache_and_reservations() -> None:
    async with connected("2.0.1") as (csms, station):
        full = {
            "versionNumber": 2,
            "updateType": "Full",
            "localAuthorizationList": [{"idToken": TOKEN, "idTokenInfo": {"status": "Accepted"}}],
        }
        assert await csms.result("SendLocalList", full) == {"status": "Accepted"}
        assert await csms.result("GetLocalListVersion", {}) == {"versionNumber": 2}
        stale = {"versionNumber": 1, "updateType": "Differential"}
        assert await csms.result("SendLocalList", stale) == {"status": "VersionMismatch"}
        assert await csms.result("ClearCache", {}) == {"status": "Accepted"}
        soon = timestamps.isoformat(timestamps.utcnow() + timedelta(minutes=5))
        reserve = {"id": 3, "expiryDateTime": soon, "idToken": TOKEN, "evseId": 2}
        assert await csms.result("ReserveNow", reserve) == {"status": "Accepted"}
        await csms.expect("StatusNotification", connector_status(csms, 2, "Reserved"))
        wrong_type = {**reserve, "id": 4, "evseId": 1, "connectorType": "cCCS2"}
        assert await csms.result("ReserveNow", wrong_type) == {"status": "Rejected"}
        anywhere = {**reserve, "id": 5}
        del anywhere["evseId"]
        assert await csms.result("ReserveNow", anywhere) == {"status": "Accepted"}
        assert await csms.result("ReserveNow", {**anywhere, "id": 6}) == {"status": "Occupied"}
        assert await csms.result("CancelReservation", {"reservationId": 5}) == {
            "status": "Accepted"
        }
        assert await csms.result("CancelReservation", {"reservationId": 5}) == {
            "status": "Rejected"
        }
        brief = timestamps.isoformat(timestamps.utcnow() + timedelta(seconds=0.3))
        assert await csms.result("ReserveNow", {**reserve, "id": 3, "expiryDateTime": brief}) == {
            "status": "Accepted"
        }
        expired = await csms.expect("ReservationStatusUpdate")
        assert expired == {"reservationId": 3, "reservationUpdateStatus": "Expired"}
        assert station.find_reservation(3) is None


async def test_v201_charging_profiles() -> None:
    async with connected("2.0.1") as (csms, station):

        def profile(pid: int, purpose: str, limit: float, **extra: Any) -> Payload:
            return {
                "id": pid,
                "stackLevel": 0,
                "chargingProfilePurpose": purpose,
                "chargingProfileKind": "Relative",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                    }
                ],
                **extra,
            }

        async def set_profile(evse: int, p: Payload) -> str:
            answer = await csms.result("SetChargingProfile", {"evseId": evse, "chargingProfile": p})
            return str(answer["status"])

        assert await set_profile(1, profile(1, "ChargingStationMaxProfile", 5000)) == "Rejected"
        assert await set_profile(0, profile(1, "ChargingStationMaxProfile", 5000)) == "Accepted"
        assert (
            await set_profile(1, profile(2, "TxProfile", 3000, transactionId="nope")) == "Rejected"
        )
        station.start_session(1, plan())
        started = await csms.expect("TransactionEvent", is_event("Started"))
        tx = started["transactionInfo"]["transactionId"]
        assert await set_profile(1, profile(2, "TxProfile", 3000, transactionId=tx)) == "Accepted"
        composite = await csms.result("GetCompositeSchedule", {"evseId": 1, "duration": 120})
        assert composite["status"] == "Accepted"
        assert composite["schedule"]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 3000.0}
        ]
        assert await csms.result("ClearChargingProfile", {"chargingProfileId": 2}) == {
            "status": "Accepted"
        }
        criteria = {"chargingProfileCriteria": {"chargingProfilePurpose": "TxProfile"}}
        assert await csms.result("ClearChargingProfile", criteria) == {"status": "Unknown"}
        assert await csms.result("GetCompositeSchedule", {"evseId": 9, "duration": 60}) == {
            "status": "Rejected"
        }


async def test_v201_firmware_and_logs() -> None:
    async with connected("2.0.1") as (csms, _):
        firmware = {
            "location": "https://fw.example.com/sim-3.0.0.bin",
            "retrieveDateTime": timestamps.isoformat(timestamps.utcnow()),
        }
        assert await csms.result("UpdateFirmware", {"requestId": 8, "firmware": firmware}) == {
            "status": "Accepted"
        }
        statuses: list[str] = []
        while not statuses or statuses[-1] != "InstallRebooting":
            note = await csms.expect("FirmwareStatusNotification")
            assert note["requestId"] == 8
            statuses.append(note["status"])
        assert statuses == ["Downloading", "Downloaded", "Installing", "InstallRebooting"]
        boot = await csms.expect("BootNotification")
        assert (
            boot["reason"] == "FirmwareUpdate"
            and boot["chargingStation"]["firmwareVersion"] == "3.0.0"
        )
        assert await csms.expect("FirmwareStatusNotification") == {
            "status": "Installed",
            "requestId": 8,
        }
        log = {
            "logType": "DiagnosticsLog",
            "requestId": 9,
            "log": {"remoteLocation": "https://logs.example.com/up"},
        }
        answer = await csms.result("GetLog", log)
        assert answer["status"] == "Accepted" and answer["filename"].endswith(".log")
        assert await csms.expect("LogStatusNotification") == {"status": "Uploading", "requestId": 9}
        assert await csms.expect("LogStatusNotification") == {"status": "Uploaded", "requestId": 9}
        slow = {
            **firmware,
            "retrieveDateTime": timestamps.isoformat(timestamps.utcnow() + timedelta(hours=1)),
        }
        assert await csms.result("UpdateFirmware", {"requestId": 10, "firmware": slow}) == {
            "status": "Accepted"
        }
        await asyncio.sleep(0.05)
        again = await csms.result(
            "UpdateFirmware",
            {"requestId": 11, "firmware": {**firmware, "location": "urn:isbn:0451450523"}},
        )
        assert again == {"status": "AcceptedCanceled"}  # the waiting update was replaced
        assert await csms.expect("FirmwareStatusNotification") == {
            "status": "DownloadFailed",
            "requestId": 11,
        }
