"""Schema validation maps each kind of violation to the fault the spec names."""

from __future__ import annotations

import pytest

from csms.domain.version import OcppVersion
from ocppj import validation
from ocppj.codes import Fault, RpcFault

V16, V201 = OcppVersion.V16, OcppVersion.V201
BOOT16 = {"chargePointVendor": "V", "chargePointModel": "M"}


def test_known_actions() -> None:
    assert {"BootNotification", "SecurityEventNotification", "RemoteStartTransaction"} <= (
        validation.known_actions(V16)
    )
    assert "TransactionEvent" not in validation.known_actions(V16)
    assert {"TransactionEvent", "NotifyReport", "RequestStartTransaction"} <= (
        validation.known_actions(V201)
    )


@pytest.mark.parametrize(
    ("version", "action", "payload", "fault"),
    [
        (V16, "BootNotification", {"chargePointVendor": "V"}, Fault.OCCURRENCE),
        (V16, "BootNotification", {**BOOT16, "chargePointVendor": 1}, Fault.TYPE),
        (V16, "BootNotification", {**BOOT16, "chargePointVendor": "x" * 21}, Fault.PROPERTY),
        (V16, "BootNotification", {**BOOT16, "extra": 1}, Fault.FORMAT),
        (
            V16,
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"},
            Fault.PROPERTY,
        ),
        (
            V16,
            "StartTransaction",
            {"connectorId": 1, "idTag": "a", "meterStart": 0, "timestamp": "not a time"},
            Fault.TYPE,
        ),
        (V201, "MeterValues", {"evseId": 1, "meterValue": []}, Fault.OCCURRENCE),
        (V201, "Heartbeat", {"x": 1}, Fault.FORMAT),
    ],
)
def test_violations(
    version: OcppVersion, action: str, payload: dict[str, object], fault: Fault
) -> None:
    with pytest.raises(RpcFault) as caught:
        validation.validate(version, action, payload)
    assert caught.value.fault is fault
    assert action in caught.value.description


def test_valid_payloads_pass_and_are_not_mutated() -> None:
    payload = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "1"}]}],
    }
    before = repr(payload)
    validation.validate(V16, "MeterValues", payload)
    assert repr(payload) == before  # no defaults filled in
    validation.validate(
        V201,
        "HeartbeatResponse".removesuffix("Response"),
        {"currentTime": "2026-01-01T00:00:00Z"},
        response=True,
    )
