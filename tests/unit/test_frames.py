"""OCPP-J framing and error-code spelling, table-driven."""

from __future__ import annotations

import json

import pytest

from csms.domain.version import OcppVersion
from ocppj import frames
from ocppj.codes import Fault, RpcFault, error_code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('[2,"a","Heartbeat",{}]', frames.Call("a", "Heartbeat", {})),
        ('[3,"a",{"x":1}]', frames.CallResult("a", {"x": 1})),
        (
            '[4,"a","NotSupported","no",{"k":"v"}]',
            frames.CallError("a", "NotSupported", "no", {"k": "v"}),
        ),
        ('[4,"a","GenericError","no",null]', frames.CallError("a", "GenericError", "no", {})),
        (b'[2,"\xc3\xa4","Heartbeat",{}]', frames.Call("ä", "Heartbeat", {})),
    ],
)
def test_parse_valid(raw: str | bytes, expected: frames.Frame) -> None:
    assert frames.parse(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fault", "unique_id"),
    [
        ("nope", Fault.FORMAT, "-1"),
        (b"\xff\xfe", Fault.FORMAT, "-1"),
        ("{}", Fault.RPC_FRAMEWORK, "-1"),
        ("[2]", Fault.RPC_FRAMEWORK, "-1"),
        ('[2,1,"Heartbeat",{}]', Fault.RPC_FRAMEWORK, "-1"),
        ('[2,"","Heartbeat",{}]', Fault.RPC_FRAMEWORK, "-1"),
        ('[true,"a","Heartbeat",{}]', Fault.MESSAGE_TYPE, "a"),
        ('[2.0,"a","Heartbeat",{}]', Fault.MESSAGE_TYPE, "a"),
        ('[5,"a","Heartbeat",{}]', Fault.MESSAGE_TYPE, "a"),
        ('[2,"a","Heartbeat"]', Fault.RPC_FRAMEWORK, "a"),
        ('[2,"a",null,{}]', Fault.RPC_FRAMEWORK, "a"),
        ('[2,"a","Heartbeat","{}"]', Fault.FORMAT, "a"),
        ('[3,"a",[]]', Fault.RPC_FRAMEWORK, "a"),
        ('[4,"a",1,"d",{}]', Fault.RPC_FRAMEWORK, "a"),
        # lone surrogates are no text: nothing can store or send them back
        ('[2,"a\\ud800","Heartbeat",{}]', Fault.RPC_FRAMEWORK, "-1"),
        ('[2,"a","Heartbeat\\udc00",{}]', Fault.FORMAT, "a"),
        ('[2,"a","DataTransfer",{"data":"x\\ud800"}]', Fault.FORMAT, "a"),
        ('[2,"a","DataTransfer",{"k\\udbff":1}]', Fault.FORMAT, "a"),
        # a number beyond a float would be read as Infinity
        ('[2,"a","MeterValues",{"v":1e400}]', Fault.FORMAT, "a"),
        ('[2,"a","MeterValues",{"v":-1E+400}]', Fault.FORMAT, "a"),
    ],
)
def test_parse_invalid(raw: str | bytes, fault: Fault, unique_id: str) -> None:
    with pytest.raises(RpcFault) as caught:
        frames.parse(raw)
    assert caught.value.fault is fault
    assert caught.value.unique_id == unique_id


def test_encode_round_trip_and_description_limit() -> None:
    assert frames.parse(frames.encode_call("1", "Reset", {"type": "Soft"})) == frames.Call(
        "1", "Reset", {"type": "Soft"}
    )
    assert frames.parse(frames.encode_result("1", {"ok": "是"})) == frames.CallResult(
        "1", {"ok": "是"}
    )
    error = json.loads(frames.encode_error("1", "InternalError", "x" * 1000))
    assert len(error[3]) == frames.MAX_DESCRIPTION_LENGTH and error[4] == {}


@pytest.mark.parametrize(
    ("fault", "v16", "v201"),
    [
        (Fault.FORMAT, "FormationViolation", "FormatViolation"),
        (Fault.OCCURRENCE, "OccurenceConstraintViolation", "OccurrenceConstraintViolation"),
        (Fault.MESSAGE_TYPE, "FormationViolation", "MessageTypeNotSupported"),
        (Fault.RPC_FRAMEWORK, "FormationViolation", "RpcFrameworkError"),
        (Fault.NOT_IMPLEMENTED, "NotImplemented", "NotImplemented"),
        (Fault.NOT_SUPPORTED, "NotSupported", "NotSupported"),
        (Fault.TYPE, "TypeConstraintViolation", "TypeConstraintViolation"),
        (Fault.PROPERTY, "PropertyConstraintViolation", "PropertyConstraintViolation"),
        (Fault.SECURITY, "SecurityError", "SecurityError"),
    ],
)
def test_error_codes_per_version(fault: Fault, v16: str, v201: str) -> None:
    assert error_code(OcppVersion.V16, fault) == v16
    assert error_code(OcppVersion.V201, fault) == v201


def test_every_fault_has_a_code_in_both_versions() -> None:
    for version in OcppVersion:
        assert {error_code(version, f) for f in Fault}


def test_answers_with_lone_surrogates_are_kept_as_text_and_marked() -> None:
    result = frames.parse('[3,"r",{"k\\ud800":"v\\udfff","n":1}]')
    assert isinstance(result, frames.CallResult)
    assert result.payload == {"k\ufffd": "v\ufffd", "n": 1}
    assert result.invalid is not None and "lone surrogate" in result.invalid
    error = frames.parse('[4,"e","Generic\\ud800","bad \\ud800 text",{"x":["\\ud800"]}]')
    assert error == frames.CallError("e", "Generic\ufffd", "bad \ufffd text", {"x": ["\ufffd"]})


def test_surrogate_pairs_and_big_integers_are_kept() -> None:
    call = frames.parse(
        '[2,"a","DataTransfer",{"data":"\\ud83d\\ude00","n":123456789012345678901}]'
    )
    assert isinstance(call, frames.Call)
    assert call.payload["data"] == "\U0001f600"
    assert call.payload["n"] in (123456789012345678901, 1.2345678901234568e20)


def test_answers_with_numbers_json_does_not_have_settle_their_call() -> None:
    """An answer is matched to its call whatever it holds: marked invalid, not refused as
    unreadable (which left the command waiting for its timeout)."""
    result = frames.parse('[3,"r",{"status":"Accepted","data":1e400,"x":NaN}]')
    assert isinstance(result, frames.CallResult) and result.unique_id == "r"
    assert result.payload == {"status": "Accepted", "data": "inf", "x": "nan"}
    assert result.invalid is not None and "not JSON" in result.invalid
    error = frames.parse('[4,"e","GenericError","boom",{"v":-1e400}]')
    assert error == frames.CallError("e", "GenericError", "boom", {"v": "-inf"})
