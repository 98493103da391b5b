"""Inputs and failures that once could stop a node, hang a command or answer InternalError."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket

import httpx
import pytest

from csms.bootstrap import Running, running
from tests.conftest import ADMIN_TOKEN, Api, make_settings
from tests.ocpp_client import open_client
from tests.station_responder import responding_station

V16_METER = {
    "connectorId": 1,
    "meterValue": [{"timestamp": "2026-05-01T00:00:00Z", "sampledValue": [{"value": "1"}]}],
}


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        (
            "StatusNotification",
            {"connectorId": 2**31, "errorCode": "NoError", "status": "Available"},
            "PropertyConstraintViolation",
        ),
        ("MeterValues", {**V16_METER, "connectorId": 2**31}, "PropertyConstraintViolation"),
        (
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "A",
                "meterStart": 2**63,
                "timestamp": "2026-05-01T00:00:00Z",
            },
            "PropertyConstraintViolation",
        ),
        (
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "A",
                "meterStart": 0,
                "timestamp": "0001-01-01T00:00:00+01:00",
            },
            "PropertyConstraintViolation",
        ),
    ],
)
async def test_out_of_range_values_get_a_clear_callerror(
    csms: Running, action: str, payload: dict[str, object], code: str
) -> None:
    cp = await open_client(csms.ocpp_port, "RANGE-1")
    assert (await cp.call_error(action, payload))[0] == code
    assert "currentTime" in await cp.call("Heartbeat", {})
    await cp.close()


async def test_absurd_readings_are_kept_as_text_and_the_node_keeps_serving(csms: Running) -> None:
    cp = await open_client(csms.ocpp_port, "ABSURD-1")
    values = ["1E-20000", "1E+200000", "123456789012345678901234567890"]
    await cp.call(
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {"timestamp": f"2026-05-01T00:0{i}:00Z", "sampledValue": [{"value": v}]}
                for i, v in enumerate(values)
            ],
        },
    )
    cs = await open_client(csms.ocpp_port, "ABSURD-2", ["ocpp2.0.1"])
    await cs.call(
        "MeterValues",
        {
            "evseId": 1,
            "meterValue": [
                {"timestamp": "2026-05-01T00:00:00Z", "sampledValue": [{"value": 1e300}]},
                {
                    "timestamp": "2026-05-01T00:01:00Z",
                    "sampledValue": [{"value": 5, "unitOfMeasure": {"multiplier": 10**7}}],
                },
            ],
        },
    )
    # NaN / Infinity are not JSON at all
    reply = await cs.send_raw(
        '[2,"n","MeterValues",{"evseId":1,"meterValue":[{"timestamp":'
        '"2026-05-01T00:02:00Z","sampledValue":[{"value":NaN}]}]}]'
    )
    assert reply[:3] == [4, "n", "FormatViolation"]  # its id is readable: named
    rows = await csms.pool.fetch("SELECT value, raw_value FROM meter_samples ORDER BY id")
    assert [r["value"] for r in rows] == [None] * 5
    assert rows[0]["raw_value"] == "1E-20000"
    # the node still serves stations and its writer still writes
    await cp.call(
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {"timestamp": "2026-05-01T01:00:00Z", "sampledValue": [{"value": "42"}]}
            ],
        },
    )
    assert await csms.pool.fetchval("SELECT count(*) FROM meter_samples WHERE value = 42") == 1
    assert csms.writer.running
    await cp.close()
    await cs.close()


async def test_impossible_stop_is_still_accepted_as_an_orphan(csms: Running) -> None:
    cp = await open_client(csms.ocpp_port, "STOP-HUGE")
    stop = {"transactionId": 2**63, "meterStop": 2**63, "timestamp": "2026-05-01T00:00:00Z"}
    assert await cp.call("StopTransaction", stop) == {}
    row = await csms.pool.fetchrow("SELECT orphan, meter_stop_wh, station_tx_id FROM transactions")
    assert row["orphan"] and row["meter_stop_wh"] is None and row["station_tx_id"] == str(2**63)
    cs = await open_client(csms.ocpp_port, "SEQ-HUGE", ["ocpp2.0.1"])
    event = {
        "eventType": "Updated",
        "timestamp": "2026-05-01T00:00:00Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 2**31,
        "transactionInfo": {"transactionId": "T"},
    }
    assert (await cs.call_error("TransactionEvent", event))[0] == "PropertyConstraintViolation"
    await cp.close()
    await cs.close()


async def test_an_answer_with_nul_fails_the_command_instead_of_leaving_it_pending(
    csms: Running, api: Api
) -> None:
    async with responding_station(csms.ocpp_port, "NUL-1") as station:
        station.replies = {"DataTransfer": {"status": "Accepted", "data": "bad\u0000answer"}}
        reply = await api.post(
            "/api/v1/stations/NUL-1/commands/data-transfer", json={"vendor_id": "x"}
        )
        assert reply.status_code == 502 and reply.json()["error"] == "station_failed"
    log = (await api.get("/api/v1/commands")).json()
    assert log[0]["status"] == "failed"
    huge = await api.post(
        "/api/v1/stations/NUL-1/commands/remote-stop", json={"transaction_id": 2**64}
    )
    assert huge.status_code == 422


async def test_lone_surrogates_and_infinite_numbers_get_a_clear_callerror(csms: Running) -> None:
    """Python's parser reads "\\ud800" and 1e400, which no database or answer can carry:
    refused as malformed, and the connection keeps serving."""
    cp = await open_client(csms.ocpp_port, "SURR-1")
    reply = await cp.send_raw('[2,"id\\ud800","Heartbeat",{}]')
    assert reply[:3] == [4, "-1", "FormationViolation"]  # 1.6 has no RpcFrameworkError
    stop = (
        '[2,"s1","StopTransaction",{"transactionId":1,"meterStop":5,'
        '"timestamp":"2026-05-01T00:00:00Z","idTag":"A\\ud800"}]'
    )
    assert (await cp.send_raw(stop))[:3] == [4, "s1", "FormationViolation"]
    assert "currentTime" in await cp.call("Heartbeat", {})
    cs = await open_client(csms.ocpp_port, "SURR-2", ["ocpp2.0.1"])
    limit = (
        '[2,"l1","NotifyChargingLimit",{"chargingLimit":{"chargingLimitSource":"EMS"},'
        '"evseId":1,"chargingSchedule":[{"id":1,"chargingRateUnit":"W",'
        '"chargingSchedulePeriod":[{"startPeriod":0,"limit":1e400}]}]}]'
    )
    assert (await cs.send_raw(limit))[:3] == [4, "l1", "FormatViolation"]
    assert "currentTime" in await cs.call("Heartbeat", {})
    await cp.close()
    await cs.close()


async def test_integers_beyond_their_range_in_odd_places(csms: Running) -> None:
    cs = await open_client(csms.ocpp_port, "BIG-201", ["ocpp2.0.1"])
    # beyond 64 bits the parser reads a float: an implausible multiplier, kept as text
    meter = (
        '[2,"m1","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"2026-05-01T00:00:00Z",'
        '"sampledValue":[{"value":5,"unitOfMeasure":{"multiplier":100000000000000000000}}]}]}]'
    )
    assert await cs.send_raw(meter) == [3, "m1", {}]
    row = await csms.pool.fetchrow("SELECT value, raw_value FROM meter_samples")
    assert row["value"] is None and row["raw_value"].startswith("5e")
    report = {
        "requestId": 1,
        "generatedAt": "2026-05-01T00:00:00Z",
        "seqNo": 0,
        "reportData": [
            {
                "component": {"name": "EVSE", "evse": {"id": 2**31}},
                "variable": {"name": "Power"},
                "variableAttribute": [{"value": "1"}],
            }
        ],
    }
    assert (await cs.call_error("NotifyReport", report))[0] == "PropertyConstraintViolation"
    cp = await open_client(csms.ocpp_port, "BIG-16")
    # a transactionId no transaction can have: the samples are kept, linked to none
    assert await cp.call("MeterValues", {**V16_METER, "transactionId": 2**63}) == {}
    linked = await csms.pool.fetchval(
        "SELECT transaction_id FROM meter_samples WHERE station_id = 'BIG-16'"
    )
    assert linked is None
    await cs.close()
    await cp.close()


async def test_an_answer_with_a_number_json_does_not_have_fails_the_command_at_once(
    csms: Running, api: Api
) -> None:
    async with responding_station(csms.ocpp_port, "INF-1", "2.0.1") as station:
        station.replies = {"DataTransfer": {"status": "Accepted", "data": float("inf")}}
        reply = await api.post(
            "/api/v1/stations/INF-1/commands/data-transfer",
            params={"timeout": 8},
            json={"vendor_id": "x"},
        )
        assert reply.status_code == 502 and "not JSON" in reply.text  # not a 504 after 8 s
    assert (await api.get("/api/v1/commands")).json()[0]["status"] == "failed"


async def test_whole_float_ids_are_stored_as_integers(csms: Running) -> None:
    """JSON Schema (2.0.1) takes 1.0 for an integer: stored as 1, not an InternalError."""
    cs = await open_client(csms.ocpp_port, "FLOAT-1", ["ocpp2.0.1"])
    meter = {
        "evseId": 1.0,
        "meterValue": [{"timestamp": "2026-05-01T00:00:00Z", "sampledValue": [{"value": 5}]}],
    }
    assert await cs.call("MeterValues", meter) == {}
    event = {
        "eventType": "Started",
        "timestamp": "2026-05-01T00:00:00Z",
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "F1"},
        "evse": {"id": 1.0, "connectorId": 1.0},
    }
    assert await cs.call("TransactionEvent", event) == {}
    rows = await csms.pool.fetch("SELECT evse_id, connector_id FROM transactions")
    assert [(r["evse_id"], r["connector_id"]) for r in rows] == [(1, 1)]
    await cs.close()


async def test_an_answer_with_a_lone_surrogate_fails_the_command(csms: Running, api: Api) -> None:
    async with responding_station(csms.ocpp_port, "SURR-3") as station:
        station.replies = {"DataTransfer": {"status": "Accepted", "data": "bad\ud800answer"}}
        reply = await api.post(
            "/api/v1/stations/SURR-3/commands/data-transfer", json={"vendor_id": "x"}
        )
        assert reply.status_code == 502 and "lone surrogate" in reply.text
    assert (await api.get("/api/v1/commands")).json()[0]["status"] == "failed"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/stations/API-1/commands/data-transfer", '{"vendor_id":"V","data":"x\\ud800"}'),
        ("/api/v1/stations/API-1/ocpp/DataTransfer", '{"vendorId":"V","data":{"k\\ud800":1}}'),
        (
            "/api/v1/stations/API-1/commands/set-charging-profile",
            '{"evse_id":1,"profile":{"id":1,"stack_level":0,"purpose":"TxDefaultProfile",'
            '"kind":"Absolute","schedule":{"unit":"W","periods":[{"start_s":0,"limit":1e400}]}}}',
        ),
        ("/api/v1/plans", '{"document":{"currency":"CNY\\ud800"}}'),
        ("/api/v1/plans", '{"document":{"x":Infinity}}'),
    ],
)
async def test_api_bodies_that_cannot_be_stored_are_refused(
    csms: Running, api: Api, path: str, body: str
) -> None:
    for content_type in ("application/json", "Application/JSON; charset=UTF-8"):
        headers = {**api.headers("admin"), "Content-Type": content_type}
        reply = await api.client.post(path, content=body.encode(), headers=headers)
        assert reply.status_code == 422, reply.text
        [problem] = reply.json()["detail"]
        assert problem["field"] == "body" and "cannot be stored" in problem["message"]


async def test_json_bodies_orjson_refuses_but_that_can_be_stored_pass(
    csms: Running, api: Api
) -> None:
    """A byte-order mark or UTF-16 is legal JSON text Python reads; nothing unstorable in it."""
    headers = {**api.headers("admin"), "Content-Type": "application/json"}
    body = json.dumps({"name": "Review key", "role": "viewer"})
    for raw in (b"\xef\xbb\xbf" + body.encode(), body.encode("utf-16")):
        reply = await api.client.post("/api/v1/keys", content=raw, headers=headers)
        assert reply.status_code == 201, reply.text


async def test_absurd_integers_are_not_forwarded_to_stations(csms: Running, api: Api) -> None:
    profile = {
        "id": 2**31,
        "stack_level": 0,
        "purpose": "TxDefaultProfile",
        "kind": "Absolute",
        "schedule": {"unit": "W", "periods": [{"start_s": 0, "limit": 10}]},
    }
    reply = await api.post(
        "/api/v1/stations/API-2/commands/set-charging-profile",
        json={"evse_id": 1, "profile": profile},
    )
    assert reply.status_code == 422
    for profile_id in (2**31, -5):
        clear = await api.post(
            "/api/v1/stations/API-2/commands/clear-charging-profile",
            json={"profile_id": profile_id},
        )
        assert clear.status_code == 422


async def test_a_ping_flood_from_a_peer_that_never_reads_stays_bounded(csms: Running) -> None:
    """websockets answers each ping with a pong outside any flow control: a peer that floods
    pings and reads nothing must not grow the node's write buffer without bound."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # reads nothing, keeps little
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", csms.ocpp_port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ocpp/FLOOD-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += await asyncio.wait_for(loop.sock_recv(sock, 4096), 10)
    assert answer.startswith(b"HTTP/1.1 101")
    ping = bytes([0x89, 0x80 | 125]) + b"\x00" * 4 + b"p" * 125  # masked with key 0
    chunk = ping * 1000  # 131 kB
    sent = 0
    deadline = loop.time() + 5
    with contextlib.suppress(TimeoutError):  # the node stops reading: our sends block
        while sent < 8_000_000 and loop.time() < deadline:
            await asyncio.wait_for(loop.sock_sendall(sock, chunk), deadline - loop.time())
            sent += len(chunk)
    connection = csms.gateway.registry.get("FLOOD-1")
    assert connection is not None
    buffered = connection.websocket.transport.get_write_buffer_size()
    assert buffered < 512 * 1024, (sent, buffered)  # ~4.5 MB of pongs without the bound
    sock.close()


async def test_a_queued_command_times_out_on_its_own_deadline(csms: Running, api: Api) -> None:
    async with responding_station(csms.ocpp_port, "SLOW-2") as station:
        station.mode = "silent"
        url = "/api/v1/stations/SLOW-2/commands/clear-cache"
        first = asyncio.ensure_future(api.post(url, params={"timeout": 3}, json={}))
        async with asyncio.timeout(2.5):  # until the first CALL is out (and left unanswered)
            while not station.received:
                await asyncio.sleep(0.02)
        loop = asyncio.get_running_loop()
        started = loop.time()
        second = await api.post(url, params={"timeout": 0.5}, json={})
        assert second.status_code == 504 and loop.time() - started < 1.5
        assert len(station.received) == 1  # the queued one never reached the station
        assert (await first).status_code == 504


async def test_a_lost_listen_connection_is_restored(database_url: str) -> None:
    settings_a = make_settings(database_url, node_id="node-a", node_timeout=1.5)
    settings_b = make_settings(database_url, node_id="node-b", node_timeout=1.5)
    async with running(settings_a) as node_a, running(settings_b) as node_b:
        # kill both nodes' LISTEN connections from the database side
        await node_a.pool.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN%' OR query LIKE 'SELECT pg_try_advisory_lock%'"
        )
        async with responding_station(node_a.ocpp_port, "CP-LISTEN") as station:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            base = f"http://127.0.0.1:{node_b.http_port}"
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                async with asyncio.timeout(15):
                    while True:  # until both nodes listen again, commands may time out
                        reply = await http.post(
                            "/api/v1/stations/CP-LISTEN/commands/data-transfer",
                            params={"timeout": 1},
                            json={"vendor_id": "x"},
                            headers=headers,
                        )
                        if reply.status_code == 200:
                            break
                        await asyncio.sleep(0.5)
                ready = await http.get("/readyz")
                assert ready.status_code == 200
            assert station.received[-1][0] == "DataTransfer"


async def test_a_live_station_wrongly_released_is_claimed_again(database_url: str) -> None:
    async with running(make_settings(database_url, node_timeout=1.5)) as csms:
        cp = await open_client(csms.ocpp_port, "CP-CLAIM")
        await cp.call("Heartbeat", {})
        # as if another node had judged this one dead
        await csms.pool.execute(
            "UPDATE stations SET connected = false, offline_reason = 'node lost'"
        )
        async with asyncio.timeout(5):
            while not await csms.pool.fetchval("SELECT connected FROM stations"):
                await cp.call("Heartbeat", {})
                await asyncio.sleep(0.3)
        assert await csms.pool.fetchval("SELECT offline_reason FROM stations") is None
        await cp.close()


def test_events_json_round_trip() -> None:
    from csms.services.events import Event

    event = Event(
        "x", "S", {"a": 1}, __import__("datetime").datetime.now(__import__("datetime").UTC), "n"
    )
    assert Event.from_json(json.loads(json.dumps(event.as_json()))).data == {"a": 1}
