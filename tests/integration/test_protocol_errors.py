"""Every CALLERROR case, in each version's spelling; the connection survives all of them."""

from __future__ import annotations

import json

import pytest

from csms.bootstrap import Running
from tests.ocpp_client import OcppClient, open_client

V16 = "ocpp1.6"
V201 = "ocpp2.0.1"

# (raw frame, expected 1.6 code, expected 2.0.1 code, expected id in the CALLERROR)
FRAMES = [
    ("this is not json", "FormationViolation", "FormatViolation", "-1"),
    ('{"a": 1}', "FormationViolation", "RpcFrameworkError", "-1"),
    ('[2, 17, "Heartbeat", {}]', "FormationViolation", "RpcFrameworkError", "-1"),
    ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', "FormationViolation", "RpcFrameworkError", "-1"),
    ('[7, "m1", "Heartbeat", {}]', "FormationViolation", "MessageTypeNotSupported", "m1"),
    ('[2, "m2", "Heartbeat"]', "FormationViolation", "RpcFrameworkError", "m2"),
    ('[2, "m3", "Heartbeat", {}, 5]', "FormationViolation", "RpcFrameworkError", "m3"),
    ('[2, "m4", "Heartbeat", [1, 2]]', "FormationViolation", "FormatViolation", "m4"),
    ('[2, "m5", 42, {}]', "FormationViolation", "RpcFrameworkError", "m5"),
    # nested deeper than any parser goes, and an integer of more digits than Python converts:
    # not JSON this CSMS can read, but the CALL's id can be, so the CALLERROR names it
    (
        '[2, "m6", "Heartbeat", ' + "[" * 5000 + "]" * 5000 + "]",
        "FormationViolation",
        "FormatViolation",
        "m6",
    ),
    (
        '[2, "m7", "Heartbeat", {"x": ' + "9" * 5000 + "}]",
        "FormationViolation",
        "FormatViolation",
        "m7",
    ),
    (
        '[2, "m8", "Heartbeat", {"a": ' + '{"b": ' * 900 + '"\\u0000"' + "}" * 900 + "}]",
        "PropertyConstraintViolation",
        "PropertyConstraintViolation",
        "m8",
    ),
]


async def client(csms: Running, version: str) -> OcppClient:
    return await open_client(csms.ocpp_port, f"ERR-{version[-3:]}", [version])


@pytest.mark.parametrize(("raw", "code16", "code201", "uid"), FRAMES)
async def test_bad_frames(csms: Running, raw: str, code16: str, code201: str, uid: str) -> None:
    for version, code in ((V16, code16), (V201, code201)):
        cp = await client(csms, version)
        reply = await cp.send_raw(raw)
        assert reply[0] == 4 and reply[2] == code and reply[1] == uid, (version, reply)
        # the connection stays open and later valid calls work
        assert "currentTime" in await cp.call("Heartbeat", {})
        await cp.close()


async def test_unknown_and_unsupported_actions(csms: Running) -> None:
    cp = await client(csms, V16)
    assert (await cp.call_error("FlyToTheMoon", {}))[0] == "NotImplemented"
    # A real 1.6 action, but one a CSMS receives from nobody: NotSupported, not NotImplemented.
    assert (await cp.call_error("RemoteStartTransaction", {"idTag": "x"}))[0] == "NotSupported"
    assert (await cp.call_error("NotifyReport", {}))[0] == "NotImplemented"  # 2.0.1-only
    await cp.close()
    cs = await client(csms, V201)
    assert (await cs.call_error("FlyToTheMoon", {}))[0] == "NotImplemented"
    assert (await cs.call_error("RequestStartTransaction", {}))[0] == "NotSupported"
    assert (await cs.call_error("StartTransaction", {}))[0] == "NotImplemented"  # 1.6-only
    assert "currentTime" in await cs.call("Heartbeat", {})
    await cs.close()


SCHEMA_CASES = [
    # action, payload, 1.6 code, field
    ("BootNotification", {"chargePointVendor": "V"}, "OccurenceConstraintViolation"),
    (
        "BootNotification",
        {"chargePointVendor": 5, "chargePointModel": "M"},
        "TypeConstraintViolation",
    ),
    (
        "BootNotification",
        {"chargePointVendor": "V" * 21, "chargePointModel": "M"},
        "PropertyConstraintViolation",
    ),
    (
        "BootNotification",
        {"chargePointVendor": "V", "chargePointModel": "M", "x": 1},
        "FormationViolation",
    ),
    (
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Dancing"},
        "PropertyConstraintViolation",
    ),
    (
        "StartTransaction",
        {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "yesterday"},
        "TypeConstraintViolation",
    ),
    ("MeterValues", {"connectorId": 1, "meterValue": []}, "OccurenceConstraintViolation"),
]


@pytest.mark.parametrize(("action", "payload", "code"), SCHEMA_CASES)
async def test_schema_violations_v16(
    csms: Running, action: str, payload: object, code: str
) -> None:
    cp = await client(csms, V16)
    got, description = await cp.call_error(action, payload)
    assert got == code and action in description
    assert "currentTime" in await cp.call("Heartbeat", {})
    await cp.close()


SCHEMA_CASES_201 = [
    ("BootNotification", {"reason": "PowerUp"}, "OccurrenceConstraintViolation"),
    (
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"model": 1, "vendorName": "v"}},
        "TypeConstraintViolation",
    ),
    (
        "BootNotification",
        {"reason": "Bored", "chargingStation": {"model": "m", "vendorName": "v"}},
        "PropertyConstraintViolation",
    ),
    ("Heartbeat", {"extra": True}, "FormatViolation"),
    (
        "TransactionEvent",
        {
            "eventType": "Started",
            "timestamp": "2026-01-01T00:00:00Z",
            "triggerReason": "Authorized",
            "seqNo": "zero",
            "transactionInfo": {"transactionId": "T"},
        },
        "TypeConstraintViolation",
    ),
]


@pytest.mark.parametrize(("action", "payload", "code"), SCHEMA_CASES_201)
async def test_schema_violations_v201(
    csms: Running, action: str, payload: object, code: str
) -> None:
    cs = await client(csms, V201)
    got, _ = await cs.call_error(action, payload)
    assert got == code
    assert "currentTime" in await cs.call("Heartbeat", {})
    await cs.close()


async def test_answers_to_unknown_calls_are_ignored(csms: Running) -> None:
    cp = await client(csms, V16)
    # A CALLRESULT / CALLERROR nobody asked for gets no answer (one cannot answer an answer).
    await cp.ws.send(json.dumps([3, "nobody-asked", {}]))
    await cp.ws.send(json.dumps([4, "nobody-asked", "GenericError", "", {}]))
    assert "currentTime" in await cp.call("Heartbeat", {})
    await cp.close()


async def test_values_outside_the_schema_but_absurd(csms: Running) -> None:
    cp = await client(csms, V16)
    code, description = await cp.call_error(
        "StatusNotification", {"connectorId": -1, "errorCode": "NoError", "status": "Available"}
    )
    assert code == "PropertyConstraintViolation" and "negative" in description
    # Unreadable or non-finite readings are kept verbatim, never turned into numbers.
    values = ["NaN", "Infinity", "12,5", "0x10", "1e3"]
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
    rows = await csms.pool.fetch("SELECT value, raw_value FROM meter_samples ORDER BY sampled_at")
    assert [(r["value"], r["raw_value"]) for r in rows] == [
        (None, "NaN"),
        (None, "Infinity"),
        (None, "12,5"),
        (None, "0x10"),
        (1000, None),
    ]
    await cp.close()


async def test_nul_characters_in_station_payloads_are_refused_not_stored(csms: Running) -> None:
    cp = await client(csms, V16)
    code, _ = await cp.call_error("DataTransfer", {"vendorId": "com.acme", "data": "a\u0000b"})
    assert code == "PropertyConstraintViolation"
    assert (await cp.call_error("Authorize", {"idTag": "X\u0000"}))[
        0
    ] == "PropertyConstraintViolation"
    assert "currentTime" in await cp.call("Heartbeat", {})
    await cp.close()
    assert await csms.pool.fetchval("SELECT count(*) FROM station_events") == 0
