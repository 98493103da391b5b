"""The simulator's OCPP-J framing, schema checks and latency histogram."""

from __future__ import annotations

import json
import random

import pytest

from simulators import ocppj, schemas
from simulators.ocppj import Fault, FrameError
from simulators.stats import LatencyHistogram, Recorder


@pytest.mark.parametrize(
    ("raw", "fault", "v16", "v201"),
    [
        ("not json", Fault.FORMAT, "FormationViolation", "FormatViolation"),
        ("[2]", Fault.RPC_FRAMEWORK, "FormationViolation", "RpcFrameworkError"),
        ('[7,"a",{}]', Fault.MESSAGE_TYPE, "FormationViolation", "MessageTypeNotSupported"),
        ('[2,"a","Reset",[]]', Fault.FORMAT, "FormationViolation", "FormatViolation"),
        ('[3,"a"]', Fault.RPC_FRAMEWORK, "FormationViolation", "RpcFrameworkError"),
    ],
)
def test_bad_frames(raw: str, fault: Fault, v16: str, v201: str) -> None:
    with pytest.raises(FrameError) as caught:
        ocppj.parse(raw)
    assert caught.value.fault is fault
    assert ocppj.error_code("1.6", fault) == v16 and ocppj.error_code("2.0.1", fault) == v201


def test_round_trip() -> None:
    assert ocppj.parse(ocppj.encode_call("1", "Heartbeat", {})) == ocppj.Call("1", "Heartbeat", {})
    assert ocppj.parse(ocppj.encode_result("1", {"a": "朔州"})) == ocppj.CallResult(
        "1", {"a": "朔州"}
    )
    error = json.loads(ocppj.encode_error("1", "NotImplemented", "x" * 400))
    assert error[:3] == [4, "1", "NotImplemented"] and len(error[3]) == 255


@pytest.mark.parametrize(
    ("version", "action", "payload", "code"),
    [
        ("1.6", "Reset", {}, "OccurenceConstraintViolation"),
        ("1.6", "Reset", {"type": "Warm"}, "PropertyConstraintViolation"),
        ("1.6", "ChangeAvailability", {"connectorId": "1", "type": "Operative"},
         "TypeConstraintViolation"),
        ("2.0.1", "Reset", {"type": "Immediate", "extra": 1}, "FormatViolation"),
        ("2.0.1", "GetVariables", {"getVariableData": []}, "OccurrenceConstraintViolation"),
    ],
)  # fmt: skip
def test_schema_faults(version: str, action: str, payload: dict[str, object], code: str) -> None:
    with pytest.raises(FrameError) as caught:
        schemas.validate(version, action, payload)
    assert ocppj.error_code(version, caught.value.fault) == code


def test_known_actions() -> None:
    assert {"RemoteStartTransaction", "BootNotification"} <= schemas.known_actions("1.6")
    assert {"RequestStartTransaction", "GetBaseReport"} <= schemas.known_actions("2.0.1")
    assert "RemoteStartTransaction" not in schemas.known_actions("2.0.1")


def test_histogram_quantiles_within_a_bucket() -> None:
    rng = random.Random(3)
    values = sorted(rng.lognormvariate(-5, 1) for _ in range(20_000))
    histogram = LatencyHistogram()
    for v in values:
        histogram.add(v)
    for q in (0.5, 0.95, 0.99):
        exact = values[int(q * len(values)) - 1]
        assert histogram.quantile(q) == pytest.approx(exact, rel=0.03)
    assert histogram.quantile(1.0) == pytest.approx(values[-1], rel=0.03)
    assert LatencyHistogram().quantile(0.5) is None


def test_recorder_counts() -> None:
    now = [100.0]
    stats = Recorder(clock=lambda: now[0])
    stats.call_sent("Heartbeat")
    now[0] = 101.5
    stats.call_answered("Heartbeat", 0.002)
    stats.call_sent("MeterValues")
    stats.call_answered("MeterValues", 0.01, "InternalError")
    stats.call_sent("MeterValues")
    stats.call_timed_out("MeterValues")
    stats.accepted("A")
    stats.accepted("A")
    assert stats.outbound["MeterValues"].errors == 1 and stats.outbound["MeterValues"].timeouts == 1
    assert dict(stats.errors) == {"InternalError": 1, "Timeout": 1}
    assert stats.messages_answered() == 2 and stats.answered_per_second == {1: 2}
    assert stats.accepted_at == {"A": 1.5}
