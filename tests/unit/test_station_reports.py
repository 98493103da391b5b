"""Pure parts of multi-part reports and the device/monitoring/display commands: sequence gaps,
report states, assembly, what a station's answer teaches, and the CALLs each version builds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from csms.domain.reports import (
    MAX_LISTED_GAPS,
    AnswerFacts,
    ReportKind,
    ReportPart,
    assemble,
    report_state,
    seq_gaps,
)
from csms.errors import InvalidInput
from csms.ocpp16.device_commands import DEVICE_BUILDERS as V16
from csms.ocpp201.answers import answer_facts
from csms.ocpp201.device_commands import DEVICE_BUILDERS as V201
from ocppj import validation


@pytest.mark.parametrize(
    ("seq_nos", "final", "missing"),
    [
        ([0, 1, 2], 2, []),
        ([0, 2], 2, [1]),
        ([1], None, [0]),
        ([0, 0, 3], None, [1, 2]),  # a repeated seqNo is not a second part's place
        ([], None, []),
        ([2, 5], 5, [0, 1, 3, 4]),
        ([0, 7], 4, [1, 2, 3, 4]),  # a part numbered past the final one leaves no gap
    ],
)
def test_seq_gaps(seq_nos: list[int], final: int | None, missing: list[int]) -> None:
    assert seq_gaps(seq_nos, final) == (missing, len(missing))


def test_seq_gaps_stay_bounded_for_a_huge_seq_no() -> None:
    """A schema-valid seqNo of 2**31 - 1 made the report read build a list of two billion
    numbers on the event loop."""
    listed, count = seq_gaps([0, 3, 2**31 - 1], None)
    assert count == 2**31 - 1 + 1 - 3
    assert listed == [1, 2, *range(4, 4 + MAX_LISTED_GAPS - 2)]
    assert len(listed) == MAX_LISTED_GAPS


@pytest.mark.parametrize(
    ("answer", "completed", "state"),
    [
        (None, False, "requested"),
        ("Accepted", False, "receiving"),
        ("EmptyResultSet", False, "refused"),
        ("NoProfiles", False, "refused"),
        (None, True, "complete"),  # parts that came before the answer complete it too
        ("Accepted", True, "complete"),
    ],
)
def test_report_state(answer: str | None, completed: bool, state: str) -> None:
    assert report_state(answer, completed) == state


def test_assemble_each_kind() -> None:
    assert assemble(ReportKind.DEVICE_MODEL, [{"reportData": [1, 2]}, {}, {"reportData": [3]}]) == [
        1,
        2,
        3,
    ]
    assert assemble(ReportKind.MONITORING, [{"monitor": ["a"]}, {"monitor": ["b"]}]) == ["a", "b"]
    assert assemble(ReportKind.DISPLAY_MESSAGES, [{"messageInfo": [{"id": 1}]}]) == [{"id": 1}]
    assert assemble(ReportKind.CUSTOMER_INFORMATION, [{"data": "ab"}, {"data": "cd"}]) == "abcd"
    profiles = {"evseId": 1, "chargingLimitSource": "CSO", "chargingProfile": [], "tbc": True}
    assert assemble(ReportKind.CHARGING_PROFILES, [profiles]) == [
        {"evseId": 1, "chargingLimitSource": "CSO", "chargingProfile": []}
    ]


def test_a_parts_digest_ignores_key_order_only() -> None:
    def part(payload: dict[str, Any]) -> ReportPart:
        return ReportPart(ReportKind.DEVICE_MODEL, 1, 0, False, None, payload)

    assert part({"a": 1, "b": 2}).digest == part({"b": 2, "a": 1}).digest
    assert part({"a": 1}).digest != part({"a": 2}).digest


MONITOR_REQUEST = {
    "setMonitoringData": [
        {
            "value": 10.5,
            "type": "Delta",
            "severity": 3,
            "component": {"name": "EVSE", "evse": {"id": 2, "connectorId": 1}},
            "variable": {"name": "Power", "instance": "L1"},
        },
        {
            "value": 1,
            "type": "Delta",
            "severity": 3,
            "component": {"name": "X"},
            "variable": {"name": "Y"},
        },
    ]
}


def test_answer_facts() -> None:
    facts = answer_facts(
        "set-variable-monitoring",
        MONITOR_REQUEST,
        {"setMonitoringResult": [{"id": 11, "status": "Accepted"}, {"status": "Rejected"}]},
    )
    (monitor,) = facts.monitors_set
    assert monitor.monitor_id == 11 and monitor.value == Decimal("10.5")
    assert (monitor.where.evse_id, monitor.where.connector_id) == (2, 1)
    assert monitor.where.variable_instance == "L1" and monitor.in_transaction is False
    cleared = answer_facts(
        "clear-variable-monitoring",
        {"id": [1, 2, 3]},
        {
            "clearMonitoringResult": [
                {"id": 1, "status": "Accepted"},
                {"id": 2, "status": "Rejected"},
                {"id": 3, "status": "NotFound"},
            ]
        },
    )
    assert cleared.monitors_cleared == (1, 3)
    asked = answer_facts("get-monitoring-report", {"requestId": 9}, {"status": "EmptyResultSet"})
    assert asked.report == (ReportKind.MONITORING, 9, "EmptyResultSet")
    shown = answer_facts(
        "set-display-message",
        {
            "message": {
                "id": 4,
                "priority": "InFront",
                "message": {"format": "UTF8", "content": "x"},
                "startDateTime": "2026-05-01T00:00:00Z",
            }
        },
        {"status": "Accepted"},
    )
    assert shown.messages_shown[0].starts_at == datetime(2026, 5, 1, tzinfo=UTC)
    refused = answer_facts("set-display-message", {"message": {}}, {"status": "Rejected"})
    assert not refused and refused == AnswerFacts()
    assert (
        answer_facts("clear-display-message", {"id": 4}, {"status": "Unknown"}).message_cleared == 4
    )
    assert not answer_facts("reset", {}, {"status": "Accepted"})
    clear_only = {"requestId": 2, "report": False, "clear": True}
    assert not answer_facts("customer-information", clear_only, {"status": "Accepted"})


PARAMS: dict[str, dict[str, Any]] = {
    "get-base-report": {"request_id": 1, "report_base": "FullInventory"},
    "get-report": {
        "request_id": 1,
        "component_variables": [
            {"component": "EVSE", "evse_id": 1, "connector_id": 1},
            {"component": "AuthCtrlr", "variable": "Enabled"},
        ],
        "criteria": ["Problem"],
    },
    "get-monitoring-report": {"request_id": 1, "criteria": ["DeltaMonitoring"]},
    "set-variable-monitoring": {
        "monitors": [
            {
                "component": "EVSE",
                "evse_id": 1,
                "variable": "Power",
                "type": "Delta",
                "value": 5.0,
                "severity": 2,
                "transaction": True,
                "id": 3,
            }
        ]
    },
    "set-monitoring-base": {"base": "FactoryDefault"},
    "set-monitoring-level": {"severity": 0},
    "clear-variable-monitoring": {"ids": [1, 2]},
    "set-display-message": {
        "id": 1,
        "priority": "AlwaysFront",
        "content": "c",
        "format": "ASCII",
        "starts_at": datetime(2026, 5, 1, tzinfo=UTC),
        "station_tx_id": "t-1",
    },
    "get-display-messages": {"request_id": 1, "ids": [1], "state": "Charging"},
    "clear-display-message": {"id": 1},
    "customer-information": {
        "request_id": 1,
        "report": True,
        "clear": False,
        "customer_certificate": {
            "hash_algorithm": "SHA256",
            "issuer_name_hash": "a",
            "issuer_key_hash": "b",
            "serial_number": "c",
        },
    },
    "get-local-list-version": {},
    "get-transaction-status": {"station_tx_id": "t-1"},
    "get-charging-profiles": {
        "request_id": 1,
        "purpose": "station_max",
        "profile_ids": [1],
        "limit_sources": ["CSO"],
    },
    "set-network-profile": {
        "slot": 2,
        "csms_url": "wss://x/ocpp",
        "security_profile": 3,
        "interface": "Wireless0",
        "message_timeout_s": 60,
        "apn": {"apn": "cmnet", "authentication": "AUTO"},
        "vpn": {"server": "v", "user": "u", "password": "p", "key": "k", "type": "IKEv2"},
    },
}


@pytest.mark.parametrize("command", sorted(V201))
def test_every_2_0_1_builder_makes_a_schema_valid_call(command: str) -> None:
    action, payload = V201[command](PARAMS[command])
    validation.validate("2.0.1", action, payload)  # raises on a payload the station would refuse


def test_1_6_refuses_what_it_lacks_and_builds_the_local_list_version() -> None:
    assert V16["get-local-list-version"]({}) == ("GetLocalListVersion", {})
    assert set(V16) == set(V201)  # every command has an answer on both versions
    for command, build in V16.items():
        if command == "get-local-list-version":
            continue
        with pytest.raises(InvalidInput, match=r"not available in OCPP 1\.6"):
            build(PARAMS[command])
