"""The fake monitoring platform: its envelope follows docs/tcec-wire.md, it refuses what it must,
records what it accepts, misbehaves on demand and goes down and up like a real server.

Everything runs over real loopback sockets; the sender here is built on the codec and httpx.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import h11
import httpx
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from simulators.cli import amain
from simulators.platform.client import PlatformClient, QueryError
from simulators.platform.codec import (
    Answer,
    Keys,
    SeqCounter,
    SignatureError,
    decrypt,
    encode,
    open_answer,
    open_request,
    seal_answer,
    seal_request,
    timestamp,
)
from simulators.platform.server import (
    CHARGE_ORDER,
    STATION_INFO,
    STATION_STATUS,
    PlatformConfig,
    PlatformSimulator,
)

TIMEOUT = 10.0
PLATFORM = "MA0PLAT01"
OPERATOR = "MA0CSMS01"
SECRET = "operator-secret-1"
KEYS = Keys("1234567890abcdef", "abcdef1234567890", "sig-secret-xyz")
CONFIG = PlatformConfig(
    platform_operator_id=PLATFORM,
    operator_id=OPERATOR,
    operator_secret=SECRET,
    data_secret=KEYS.data_secret,
    data_iv=KEYS.data_iv,
    sig_secret=KEYS.sig_secret,
    token_lifetime=600,
)
D = Decimal


class Clock:
    """A clock the test moves by hand, so token expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sender:
    """The CSMS side of a push, independent of the simulator: codec + httpx."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url
        self.seq = SeqCounter()
        self.token: str | None = None

    async def post(
        self, method: str, body: dict[str, Any] | bytes, token: str | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        content = body if isinstance(body, bytes) else encode(body)
        return await self.http.post(f"{self.url}/{method}", content=content, headers=headers)

    def seal(self, data: Any, *, keys: Keys = KEYS, operator: str = OPERATOR) -> dict[str, str]:
        return seal_request(operator, data, keys, seq=self.seq.next())

    async def call(
        self, method: str, envelope: dict[str, Any] | bytes, token: str | None = None
    ) -> Answer:
        response = await self.post(method, envelope, token)
        assert response.status_code == 200
        return open_answer(response.content, KEYS)  # checks the answer's Sig

    async def fetch_token(self) -> str:
        data = {"OperatorID": OPERATOR, "OperatorSecret": SECRET}
        answer = await self.call("query_token", self.seal(data))
        assert answer.ret == 0 and answer.data["SuccStat"] == 0, answer
        self.token = answer.data["AccessToken"]
        return self.token

    async def push(self, method: str, data: Any) -> Answer:
        token = self.token or await self.fetch_token()
        return await self.call(method, self.seal(data), token)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sim(clock: Clock) -> AsyncIterator[PlatformSimulator]:
    async with PlatformSimulator(CONFIG, clock=clock) as platform:
        yield platform


@pytest.fixture
async def sender(sim: PlatformSimulator) -> AsyncIterator[Sender]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        yield Sender(http, sim.url)


def status(connector: str, code: int) -> dict[str, Any]:
    return {"ConnectorStatusInfo": {"ConnectorID": connector, "Status": code}}


def order(number: int = 1, *, spelling: str = "Sevice", **changes: Any) -> dict[str, Any]:
    """A consistent two-band order: 10.00 kWh at 0.50 + 5.50 kWh at 1.00, service 0.80/kWh."""
    details = [
        {
            "DetailStartTime": "2026-11-26 07:30:00",
            "DetailEndTime": "2026-11-26 08:00:00",
            "ElecPrice": D("0.5000"),
            f"{spelling}Price": D("0.8000"),
            "DetailPower": D("10.00"),
            "DetailElecMoney": D("5.00"),
            f"Detail{spelling}Money": D("8.00"),
        },
        {
            "DetailStartTime": "2026-11-26 08:00:00",
            "DetailEndTime": "2026-11-26 08:20:00",
            "ElecPrice": D("1.0000"),
            f"{spelling}Price": D("0.8000"),
            "DetailPower": D("5.50"),
            "DetailElecMoney": D("5.50"),
            f"Detail{spelling}Money": D("4.40"),
        },
    ]
    data = {
        "StartChargeSeq": f"{OPERATOR}{number:018d}",
        "ConnectorID": "140100001001",
        "StartTime": "2026-11-26 07:30:00",
        "EndTime": "2026-11-26 08:20:00",
        "TotalPower": D("15.50"),
        "TotalElecMoney": D("10.50"),
        f"Total{spelling}Money": D("12.40"),
        "TotalMoney": D("22.90"),
        "StopReason": 0,
        "SumPeriod": 2,
        "ChargeDetails": details,
    }
    data.update(changes)
    return data


# -- codec -------------------------------------------------------------------------------------


def test_codec_follows_the_doc_on_a_known_vector() -> None:
    data = {"ConnectorStatusInfo": {"ConnectorID": "充电口-1", "Status": 3}}
    envelope = seal_request(OPERATOR, data, KEYS, seq="0042", stamp="20261126093000")

    # What the doc says, computed without the codec: compact UTF-8 JSON, PKCS#7, AES-128-CBC,
    # Base64; HMAC-MD5 over OperatorID + Data + TimeStamp + Seq, uppercase hex.
    plain = '{"ConnectorStatusInfo":{"ConnectorID":"充电口-1","Status":3}}'.encode()
    pad = 16 - len(plain) % 16
    encryptor = Cipher(
        algorithms.AES(b"1234567890abcdef"), modes.CBC(b"abcdef1234567890")
    ).encryptor()
    sealed = base64.b64encode(encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize())
    expected_data = sealed.decode()
    signed = OPERATOR + expected_data + "20261126093000" + "0042"
    expected_sig = hmac.new(b"sig-secret-xyz", signed.encode(), hashlib.md5).hexdigest().upper()

    assert envelope == {
        "OperatorID": OPERATOR,
        "Data": expected_data,
        "TimeStamp": "20261126093000",
        "Seq": "0042",
        "Sig": expected_sig,
    }
    assert len(expected_sig) == 32 and expected_sig == expected_sig.upper()
    opened = open_request(encode(envelope), lambda operator: KEYS)
    assert opened.data == data and opened.seq == "0042" and opened.operator_id == OPERATOR


def test_codec_round_trip_keeps_money_exact() -> None:
    data = {"TotalMoney": D("22.90"), "TotalPower": D("0.10"), "n": 7, "名称": "朔州"}
    envelope = seal_request(OPERATOR, data, KEYS, seq="0001")
    opened = open_request(json.dumps(envelope).encode(), lambda operator: KEYS)
    assert opened.data == data
    assert str(opened.data["TotalMoney"]) == "22.90"  # a float would have made it 22.9
    assert decrypt(envelope["Data"], KEYS) == (
        '{"TotalMoney":22.90,"TotalPower":0.10,"n":7,"名称":"朔州"}'.encode()
    )


def test_answer_sig_is_over_ret_msg_and_data() -> None:
    refused = seal_answer(4001, None, KEYS, "signature wrong")
    text = "4001signature wrong"
    assert refused["Data"] == ""
    assert (
        refused["Sig"]
        == hmac.new(b"sig-secret-xyz", text.encode(), hashlib.md5).hexdigest().upper()
    )

    ok = seal_answer(0, {"Status": 0}, KEYS)
    assert (
        ok["Sig"]
        == hmac.new(b"sig-secret-xyz", ("0" + ok["Data"]).encode(), hashlib.md5).hexdigest().upper()
    )
    assert open_answer(encode(ok), KEYS) == Answer(0, "", {"Status": 0})
    with pytest.raises(SignatureError):
        open_answer(encode({**ok, "Msg": "tampered"}), KEYS)


def test_seq_wraps_and_timestamp_is_cst() -> None:
    counter = SeqCounter(9998)
    assert [counter.next() for _ in range(3)] == ["9998", "9999", "0001"]
    assert timestamp(datetime(2026, 11, 26, 1, 30, tzinfo=UTC)) == "20261126093000"
    with pytest.raises(ValueError):
        Keys("short", "abcdef1234567890", "s")


# -- refusals ----------------------------------------------------------------------------------


async def test_bad_signature_is_4001(sim: PlatformSimulator, sender: Sender) -> None:
    token = await sender.fetch_token()
    envelope = sender.seal(status("c1", 1))
    envelope["Sig"] = "0" * 32
    answer = await sender.call(STATION_STATUS, envelope, token)
    assert (answer.ret, answer.data) == (4001, None)
    lower = sender.seal(status("c1", 1))
    lower["Sig"] = lower["Sig"].lower()  # the doc says uppercase
    assert (await sender.call(STATION_STATUS, lower, token)).ret == 4001
    assert sim.rejections[4001] == 2 and sim.received == []


async def test_malformed_envelopes_are_4003(sim: PlatformSimulator, sender: Sender) -> None:
    token = await sender.fetch_token()
    missing = sender.seal(status("c1", 1))
    del missing["Seq"]
    not_string = {**sender.seal(status("c1", 1)), "Seq": 7}
    bad_stamp = seal_request(OPERATOR, status("c1", 1), KEYS, seq="0001", stamp="2026-11-26")
    bad_seq = seal_request(OPERATOR, status("c1", 1), KEYS, seq="12345")
    stranger = sender.seal(status("c1", 1), operator="MA0OTHER1")
    for envelope in (missing, not_string, bad_stamp, bad_seq, stranger):
        answer = await sender.call(STATION_STATUS, envelope, token)
        assert answer.ret == 4003, envelope
        assert answer.msg
    assert (await sender.call(STATION_STATUS, b"not json", token)).ret == 4003
    assert sim.rejections == {4003: 6}


async def test_undecryptable_data_is_4004(sim: PlatformSimulator, sender: Sender) -> None:
    token = await sender.fetch_token()
    envelope = sender.seal(status("c1", 1))
    for garbage in ("bm90IGVuY3J5cHRlZA==", "%%%"):
        text = OPERATOR + garbage + envelope["TimeStamp"] + envelope["Seq"]
        sig = hmac.new(b"sig-secret-xyz", text.encode(), hashlib.md5).hexdigest().upper()
        answer = await sender.call(STATION_STATUS, {**envelope, "Data": garbage, "Sig": sig}, token)
        assert answer.ret == 4004
    wrong_key = Keys("fedcba0987654321", KEYS.data_iv, KEYS.sig_secret)  # decrypts to noise
    assert (
        await sender.call(STATION_STATUS, sender.seal(status("c1", 1), keys=wrong_key), token)
    ).ret in (4004,)
    assert sim.rejections == {4004: 3}


async def test_token_missing_unknown_or_expired_is_4002(
    sim: PlatformSimulator, sender: Sender, clock: Clock
) -> None:
    assert (await sender.call(STATION_STATUS, sender.seal(status("c1", 1)))).ret == 4002
    assert (await sender.call(STATION_STATUS, sender.seal(status("c1", 1)), "nope")).ret == 4002

    token = await sender.fetch_token()
    assert (await sender.call(STATION_STATUS, sender.seal(status("c1", 1)), token)).ret == 0
    sim.expire_tokens()
    assert (await sender.call(STATION_STATUS, sender.seal(status("c1", 2)), token)).ret == 4002

    token = await sender.fetch_token()
    clock.now += 599
    assert (await sender.call(STATION_STATUS, sender.seal(status("c1", 3)), token)).ret == 0
    clock.now += 1  # the configured 600 s are over
    assert (await sender.call(STATION_STATUS, sender.seal(status("c1", 4)), token)).ret == 4002
    assert sim.rejections == {4002: 4}
    assert sim.statuses_by_connector() == {"c1": [1, 3]}


async def test_query_token_answers(sim: PlatformSimulator, sender: Sender) -> None:
    good = await sender.call(
        "query_token", sender.seal({"OperatorID": OPERATOR, "OperatorSecret": SECRET})
    )
    assert good.ret == 0
    assert good.data["OperatorID"] == OPERATOR and good.data["TokenAvailableTime"] == 600
    assert good.data["SuccStat"] == 0 and good.data["FailReason"] == 0 and good.data["AccessToken"]
    wrong = await sender.call(
        "query_token", sender.seal({"OperatorID": OPERATOR, "OperatorSecret": "guess"})
    )
    assert (wrong.ret, wrong.data["SuccStat"], wrong.data["FailReason"]) == (0, 1, 2)
    other = await sender.call(
        "query_token", sender.seal({"OperatorID": "MA0OTHER1", "OperatorSecret": SECRET})
    )
    assert other.data["FailReason"] == 1
    assert (sim.tokens_issued, sim.token_failures) == (1, 2)


async def test_unknown_method_is_4004(sim: PlatformSimulator, sender: Sender) -> None:
    token = await sender.fetch_token()
    answer = await sender.call("notification_nonsense", sender.seal({}), token)
    assert answer.ret == 4004 and "notification_nonsense" in answer.msg
    response = await sender.http.get(f"{sim.url}/notification_stationStatus")
    assert response.status_code == 405


async def test_malformed_http_gets_400(sim: PlatformSimulator) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(b"NONSENSE\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(TIMEOUT):
            reply = await reader.read()
        assert reply.startswith(b"HTTP/1.1 400")
    finally:
        writer.close()


# -- what it records ---------------------------------------------------------------------------


async def test_status_pushes_are_recorded_in_order(sim: PlatformSimulator, sender: Sender) -> None:
    for connector, code in (("c1", 1), ("c2", 255), ("c1", 3), ("c1", 1)):
        answer = await sender.push(STATION_STATUS, status(connector, code))
        assert (answer.ret, answer.data) == (0, {"Status": 0})
    assert sim.statuses_by_connector() == {"c1": [1, 3, 1], "c2": [255]}
    assert sim.counts() == {STATION_STATUS: 4}
    first = sim.received[0]
    assert (first.method, first.operator_id, first.data) == (
        STATION_STATUS,
        OPERATOR,
        status("c1", 1),
    )
    assert (await sender.push(STATION_STATUS, status("c1", 7))).ret == 4004
    assert (await sender.push(STATION_STATUS, status("c1", "3"))).ret == 4004
    assert (await sender.push(STATION_STATUS, {"ConnectorStatusInfo": {"Status": 1}})).ret == 4004
    assert sim.counts() == {STATION_STATUS: 4} and sim.rejections == {4004: 3}


async def test_station_info_and_stats(sim: PlatformSimulator, sender: Sender) -> None:
    info = {"StationInfo": {"StationID": "S1", "EquipmentInfos": [{"EquipmentID": "E1"}]}}
    assert (await sender.push(STATION_INFO, info)).data == {"Status": 0}
    stats = {"StationStats": {"StationID": "S1", "StationElectricity": D("12.50")}}
    assert (await sender.push("notification_operation_stats_info", stats)).ret == 0
    assert (await sender.push(STATION_INFO, {"StationInfo": {"StationID": "S1"}})).ret == 4004
    assert (
        await sender.push("notification_operation_stats_info", {"StationStats": {}})
    ).ret == 4004
    assert sim.received[1].data["StationStats"]["StationElectricity"] == D("12.50")
    assert sim.counts() == {STATION_INFO: 1, "notification_operation_stats_info": 1}


@pytest.mark.parametrize("spelling", ["Sevice", "Service"])
async def test_orders_in_either_spelling_are_confirmed(
    sim: PlatformSimulator, sender: Sender, spelling: str
) -> None:
    data = order(spelling=spelling)
    answer = await sender.push(CHARGE_ORDER, data)
    assert answer.ret == 0
    assert answer.data == {
        "StartChargeSeq": data["StartChargeSeq"],
        "ConnectorID": "140100001001",
        "ConfirmResult": 0,
    }
    assert sim.orders == {data["StartChargeSeq"]: data}
    assert (sim.disputed, sim.duplicate_orders) == (0, 0)


async def test_inconsistent_orders_are_disputed(sim: PlatformSimulator, sender: Sender) -> None:
    bad = [
        order(1, TotalMoney=D("22.89")),  # less than elec + service
        order(2, TotalPower=D("15.51")),
        order(3, TotalElecMoney=D("10.49")),
        order(4, TotalSeviceMoney=D("12.41")),
        order(5, SumPeriod=3),
    ]
    for data in bad:
        answer = await sender.push(CHARGE_ORDER, data)
        assert (answer.ret, answer.data["ConfirmResult"]) == (0, 1), data
    assert sim.disputed == 5 and len(sim.disputes) == 5
    assert "TotalPower" in sim.disputes[bad[1]["StartChargeSeq"]][0]
    # more money than the parts (e.g. a parking fee) is fine
    assert (await sender.push(CHARGE_ORDER, order(6, TotalMoney=D("25.00")))).data[
        "ConfirmResult"
    ] == 0
    # a corrected resend of a disputed order is not a duplicate
    assert (await sender.push(CHARGE_ORDER, order(2))).data["ConfirmResult"] == 0
    assert (sim.disputed, sim.duplicate_orders) == (5, 0)


async def test_malformed_orders_are_4004(sim: PlatformSimulator, sender: Sender) -> None:
    no_service = order()
    del no_service["TotalSeviceMoney"]
    line_without_power = order()
    del line_without_power["ChargeDetails"][0]["DetailPower"]
    for data in (
        no_service,
        line_without_power,
        order(StartChargeSeq="SHORT"),
        order(TotalMoney="22.90"),
        order(StartTime="2026/11/26 07:30"),
        order(ChargeDetails="none"),
    ):
        assert (await sender.push(CHARGE_ORDER, data)).ret == 4004
    assert sim.orders == {} and sim.rejections == {4004: 6}


async def test_duplicate_orders_are_counted(sim: PlatformSimulator, sender: Sender) -> None:
    for number in (1, 2, 1, 1):
        assert (await sender.push(CHARGE_ORDER, order(number))).data["ConfirmResult"] == 0
    assert sim.duplicate_orders == 2
    assert len(sim.orders) == 2 and sim.counts() == {CHARGE_ORDER: 4}


# -- misbehaving on demand ---------------------------------------------------------------------


async def test_fail_mode_for_two_requests_then_ok(sim: PlatformSimulator, sender: Sender) -> None:
    await sender.fetch_token()
    sim.set_mode("fail", count=2)
    for _ in range(2):
        answer = await sender.push(STATION_STATUS, status("c1", 3))
        assert (answer.ret, answer.msg, answer.data) == (500, "simulated failure", None)
    assert sim.received == [] and sim.mode.kind == "ok"
    assert (await sender.push(STATION_STATUS, status("c1", 3))).ret == 0
    assert sim.statuses_by_connector() == {"c1": [3]}
    assert sim.rejections == {500: 2} and sim.requests == 4  # with query_token


async def test_busy_and_slow_modes_via_http_control(sim: PlatformSimulator, sender: Sender) -> None:
    await sender.fetch_token()
    control = sim.url.replace("/evcs/v1", "/control")
    response = await sender.http.post(f"{control}/mode", json={"mode": "busy", "count": 1})
    assert response.json() == {"mode": "busy", "delay": 1.0, "count": 1}
    assert (await sender.push(STATION_STATUS, status("c1", 2))).ret == -1
    assert (await sender.http.post(f"{control}/mode", json={"mode": "odd"})).status_code == 400

    await sender.http.post(f"{control}/mode", json={"mode": "slow", "delay": 0.3, "count": 1})
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert (await sender.push(STATION_STATUS, status("c1", 2))).ret == 0
    assert loop.time() - began >= 0.3
    began = loop.time()
    assert (await sender.push(STATION_STATUS, status("c1", 3))).ret == 0
    assert loop.time() - began < 0.3

    stats = (await sender.http.get(f"{control}/stats")).json()
    assert stats["counts"] == {STATION_STATUS: 2} and stats["rejections"] == {"-1": 1}
    assert stats["mode"]["mode"] == "ok" and stats["requests"] == 4
    reset = (await sender.http.post(f"{control}/reset")).json()
    assert reset["received"] == 0 and reset["requests"] == 0 and sim.received == []
    assert (await sender.http.get(f"{control}/nothing")).status_code == 404


async def test_stop_refuses_connections_and_start_listens_again(
    sim: PlatformSimulator, sender: Sender
) -> None:
    assert (await sender.push(STATION_STATUS, status("c1", 1))).ret == 0  # keep-alive open
    port = sim.port
    await sim.stop()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    with pytest.raises(httpx.TransportError):
        await sender.push(STATION_STATUS, status("c1", 2))

    await sim.start(port=port)
    assert sim.port == port
    assert (await sender.push(STATION_STATUS, status("c1", 3))).ret == 0  # token survives
    assert sim.statuses_by_connector() == {"c1": [1, 3]}


async def test_stop_drops_a_slow_request_without_recording_it(
    sim: PlatformSimulator, sender: Sender
) -> None:
    await sender.fetch_token()
    sim.set_mode("slow", delay=30)
    push = asyncio.create_task(sender.push(STATION_STATUS, status("c1", 1)))
    await sim.wait_for(lambda s: s.requests == 2, timeout=TIMEOUT)
    async with asyncio.timeout(TIMEOUT):
        await sim.stop()
        with pytest.raises(httpx.TransportError):
            await push
    assert sim.received == [] and not sim.listening


async def test_a_connection_pool_is_served(sim: PlatformSimulator, sender: Sender) -> None:
    await sender.fetch_token()
    async with httpx.AsyncClient(timeout=TIMEOUT, limits=httpx.Limits(max_connections=10)) as http:
        pooled = Sender(http, sim.url)
        pooled.token = sender.token
        answers = await asyncio.gather(
            *(pooled.push(STATION_STATUS, status(f"c{n % 10}", 1)) for n in range(100))
        )
    assert all(answer.ret == 0 for answer in answers)
    assert sim.counts() == {STATION_STATUS: 100}


async def keep_alive_client(port: int, token: str, bodies: list[bytes]) -> None:
    """One HTTP/1.1 connection sending its requests back to back (cheaper than httpx per call)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = h11.Connection(h11.CLIENT)
    try:
        for body in bodies:
            headers = [
                ("host", "127.0.0.1"),
                ("content-type", "application/json; charset=utf-8"),
                ("content-length", str(len(body))),
                ("authorization", f"Bearer {token}"),
            ]
            request = h11.Request(
                method="POST", target=f"/evcs/v1/{STATION_STATUS}", headers=headers
            )
            writer.write(conn.send(request) + conn.send(h11.Data(data=body)))
            writer.write(conn.send(h11.EndOfMessage()))
            answer = bytearray()
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await reader.read(65536))
                elif isinstance(event, h11.Data):
                    answer += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
            assert open_answer(bytes(answer), KEYS).ret == 0
            conn.start_next_cycle()
    finally:
        writer.close()


async def test_keeps_up_with_hundreds_of_requests_a_second(
    sim: PlatformSimulator, sender: Sender
) -> None:
    token = await sender.fetch_token()
    total, connections = 1000, 10
    bodies = [encode(sender.seal(status(f"c{n % 10}", 1))) for n in range(total)]
    loop = asyncio.get_running_loop()
    began = loop.time()
    async with asyncio.timeout(TIMEOUT):
        await asyncio.gather(
            *(
                keep_alive_client(sim.port, token, bodies[k::connections])
                for k in range(connections)
            )
        )
    elapsed = loop.time() - began
    assert sim.counts() == {STATION_STATUS: total}
    assert total / elapsed > 200, f"{total / elapsed:.0f} requests/s"  # ~1,000/s on a laptop


# -- the query client and the command line -----------------------------------------------------


def client_for(sim: PlatformSimulator, sig_secret: str = KEYS.sig_secret) -> PlatformClient:
    # Against the simulator, the client plays the operator (the platform serves query_token).
    return PlatformClient(
        sim.url,
        platform_operator_id=OPERATOR,
        operator_secret=SECRET,
        data_secret=KEYS.data_secret,
        data_iv=KEYS.data_iv,
        sig_secret=sig_secret,
        timeout=TIMEOUT,
    )


async def test_client_fetches_a_token_and_checks_answer_signatures(
    sim: PlatformSimulator,
) -> None:
    async with client_for(sim) as client:
        data = await client.fetch_token()
        assert data["SuccStat"] == 0 and client.token == data["AccessToken"]
        answer = await client.query(STATION_STATUS, status("c9", 4))
        assert answer == Answer(0, "", {"Status": 0})
        code, body = await client.post_raw(STATION_STATUS, {"OperatorID": OPERATOR}, client.token)
        assert code == 200 and body["Ret"] == 4003
    async with client_for(sim, sig_secret="another-secret") as client:
        with pytest.raises(SignatureError):
            await client.fetch_token()
    wrong = client_for(sim)
    wrong.operator_secret = "guess"
    async with wrong:
        with pytest.raises(QueryError):
            await wrong.fetch_token()
    assert sim.statuses_by_connector() == {"c9": [4]}


async def test_cli_query_prints_the_decoded_answer(
    sim: PlatformSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = [
        "--platform-operator-id", OPERATOR, "--operator-secret", SECRET,
        "--data-secret", KEYS.data_secret, "--data-iv", KEYS.data_iv,
        "--sig-secret", KEYS.sig_secret,
    ]  # fmt: skip
    data = json.dumps(status("c5", 255)["ConnectorStatusInfo"])
    code = await amain(
        [
            "platform",
            "query",
            "--url",
            sim.url,
            STATION_STATUS,
            "--data",
            f'{{"ConnectorStatusInfo": {data}}}',
            *keys,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith('Ret 0 Msg ""') and '"Status": 0' in out
    assert sim.statuses_by_connector() == {"c5": [255]}


async def test_cli_serve_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code = await amain(["platform", "serve", "--port", "0", "--duration", "0.2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "platform listening on http://127.0.0.1:" in out and "/evcs/v1" in out
    assert "requests 0, accepted 0" in out and "refused: none" in out
