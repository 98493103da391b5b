"""Pure rules of the platform push: retry schedule, token refresh, answer classification,
rendering of outbox facts per platform, site grouping, and sealing secrets at rest."""

from __future__ import annotations

import json
import os
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from csms.errors import ConfigError
from csms.sealed import SealedBox, load_key
from csms.services.platform_push import TokenRefused, _lifetime, judge
from csms.tcec import facts
from csms.tcec.envelope import Answer
from csms.tcec.messages import PushDataError, Spelling, dumps
from csms.tcec.policy import tariff_definition
from csms.tcec.render import Target, clean, render, storable
from csms.tcec.retry import DEFAULT_SCHEDULE, delay_after, jittered, parse_schedule, refresh_due


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0), (1, 60), (4, 60), (5, 300), (6, 600), (7, 1800), (8, 3600), (50, 3600)],
)
def test_more_than_three_tries_a_minute_apart_then_slower(failures: int, delay: float) -> None:
    assert delay_after(failures, DEFAULT_SCHEDULE) == delay


def test_schedule_text_and_jitter() -> None:
    assert parse_schedule("0.2, 0.5") == (0.2, 0.5)
    for bad in ("", "a,b", "1,-1", "0"):
        with pytest.raises(ValueError):
            parse_schedule(bad)
    assert all(54 <= jittered(60) <= 66 for _ in range(200))


@pytest.mark.parametrize(
    ("remaining", "lifetime", "due"),
    [(7000, 7200, False), (1440, 7200, False), (600, 7200, True), (13, 60, False), (12, 60, True)],
)
def test_token_refreshed_before_it_expires(remaining: float, lifetime: float, due: bool) -> None:
    assert refresh_due(remaining, lifetime) is due


@pytest.mark.parametrize(
    ("kind", "answer", "action"),
    [
        ("connector_status", Answer(0, "", {"Status": 0}), "sent"),
        ("connector_status", Answer(0, "", {"Status": 1}), "retry"),
        ("charge_order", Answer(0, "", {"ConfirmResult": 0}), "sent"),
        ("charge_order", Answer(0, "", {"ConfirmResult": 1}), "sent"),  # received, disputed
        ("station_info", Answer(-1, "busy", None), "retry"),
        ("station_info", Answer(500, "down", None), "retry"),
        ("station_info", Answer(4001, "sig", None), "retry"),  # keys are fixed by an operator
        ("station_info", Answer(4003, "post", None), "failed"),
        ("station_info", Answer(4004, "data", None), "failed"),
    ],
)
def test_answers_decide_sent_retry_or_failed(kind: str, answer: Answer, action: str) -> None:
    outcome = judge(kind, answer)
    assert outcome.action == action
    if answer.ret:
        assert outcome.ret == answer.ret and outcome.msg


def test_a_disputed_order_is_noted() -> None:
    outcome = judge("charge_order", Answer(0, "", {"ConfirmResult": 1}))
    assert "disputes" in outcome.msg


def _order_facts() -> str:
    cdr = {
        "transaction_id": 42,
        "station_id": "CP-1",
        "evse_id": 2,
        "connector_id": 1,
        "started_at": "2026-11-25T10:00:00+00:00",
        "stopped_at": "2026-11-25T11:00:00+00:00",
        "energy_wh": 7533,
        "energy_money": Decimal("6.53"),
        "service_money": Decimal("5.36"),
        "total": Decimal("11.89"),
        "lines": [
            {
                "band": "peak",
                "start": "2026-11-25T10:00:00+00:00",
                "end": "2026-11-25T10:30:00+00:00",
                "energy_wh": 4200,
                "energy_price": "1.0000",
                "service_price": "0.8000",
                "energy_money": "4.20",
                "service_money": "3.36",
            },
            {
                "band": "flat",
                "start": "2026-11-25T10:30:00+00:00",
                "end": "2026-11-25T11:00:00+00:00",
                "energy_wh": 3333,
                "energy_price": "0.7000",
                "service_price": "0.6000",
                "energy_money": "2.33",
                "service_money": "2.00",
            },
        ],
    }
    return dumps({"cdr": cdr, "stop_reason": "Remote"})


def test_an_order_renders_per_platform() -> None:
    method, text = render("charge_order", _order_facts(), Target("MA0CSMS01"))
    assert method == "notification_charge_order_info"
    order = json.loads(text)
    assert order["StartChargeSeq"] == "MA0CSMS01" + "42".zfill(18)
    assert order["ConnectorID"] == "CP-1-2" and order["StopReason"] == 1
    assert order["TotalSeviceMoney"] == 5.36 and order["SumPeriod"] == 2
    assert "ElecPrice" in order["ChargeDetails"][0] and "SevicePrice" in order["ChargeDetails"][0]
    custom = Target("MA0OTHER1", Spelling.CORRECTED, methods={"charge_order": "push_order"})
    method, text = render("charge_order", _order_facts(), custom)
    order = json.loads(text)
    assert method == "push_order" and "TotalServiceMoney" in order
    assert order["StartChargeSeq"].startswith("MA0OTHER1")
    assert '"TotalMoney":11.89' in text  # exact decimals, never a float


def test_status_and_stats_render() -> None:
    facts_text = dumps({"station_id": "CP-1", "evse_id": 1, "connector_id": 1, "code": 3})
    method, text = render("connector_status", facts_text, Target("MA0CSMS01"))
    assert method == "notification_stationStatus"
    assert json.loads(text)["ConnectorStatusInfo"]["ConnectorID"] == "CP-1-1"
    stats = dumps(
        {
            "station_code": "S1",
            "start": "2026-11-25",
            "end": "2026-11-25",
            "piles": [["CP-1", [["CP-1-1", 1234], ["CP-1-2", 5]]]],
        }
    )
    method, text = render("station_stats", stats, Target("MA0CSMS01"))
    data = json.loads(text, parse_float=Decimal)["StationStats"]
    assert method == "notification_operation_stats_info"
    assert data["StationElectricity"] == Decimal("1.24")


PILE = {
    "id": "CP-1",
    "site_name": "站点A",
    "county": "应县",
    "address": "应县金城镇1号",
    "latitude": 39.55,
    "longitude": 113.19,
    "vendor": "V",
    "model": "M",
    "rated_power_kw": Decimal("60"),
    "commissioned_on": None,
    "admin_state": "active",
    "access_mode": "public",
    "connected": True,
    "category": "transport_hub",
    "parking_spaces": 10,
}


def test_sites_group_piles_and_a_change_changes_the_digest() -> None:
    other = {**PILE, "id": "CP-2", "site_name": None}
    equipment = [{"station_id": "CP-1", "connector_no": 1, "power_kw": 60, "current": "DC"}]
    sites = facts.sites(
        [PILE, other],
        equipment,
        [
            {
                "station_id": "CP-2",
                "evse_id": 1,
                "connector_id": 1,
                "status": "Available",
                "charging_state": None,
            }
        ],
    )
    assert [len(s.piles) for s in sites] == [1, 1]
    first = sites[0]
    assert facts.site_from_data(json.loads(dumps(facts.site_data(first)))) == first
    _, text = render("station_info", dumps(facts.site_data(first)), Target("MA0CSMS01"))
    info = json.loads(text)["StationInfo"]
    assert info["AreaCode"] == "140622" and info["EquipmentInfos"][0]["EquipmentType"] == 1
    moved = facts.sites([{**PILE, "address": "新地址"}], equipment, [])[0]
    assert facts.digest(moved) != facts.digest(first)
    # a pile with no registered AC/DC cannot be described: refused, not guessed
    with pytest.raises(PushDataError):
        render("station_info", dumps(facts.site_data(sites[1])), Target("MA0CSMS01"))


def test_secrets_are_sealed_with_a_key_made_once(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    key = load_key(None, key_file)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert load_key(None, key_file) == key
    box = SealedBox(key)
    sealed = box.seal("sig-secret")
    assert b"sig-secret" not in sealed and box.open(sealed) == "sig-secret"
    assert box.seal("x") != box.seal("x")  # a fresh nonce each time
    with pytest.raises(ConfigError):
        SealedBox(bytes(32)).open(sealed)
    with pytest.raises(ConfigError):
        load_key("not base64!", key_file)
    assert "key" in repr(box) and str(key) not in repr(box)


POLICY = {
    "SumPeriod": 4,
    "PolicyInfos": [
        {"StartTime": "000000", "ElecPrice": "0.3000", "SevicePrice": "0.4000"},
        {"StartTime": "080000", "ElecPrice": "0.9000", "ServicePrice": "0.8000"},
        {"StartTime": "180000", "ElecPrice": "1.0500", "SevicePrice": "0.8000"},
        {"StartTime": "210000", "ElecPrice": "0.3000", "ServicePrice": "0.4000"},
    ],
}


def test_a_tcec_policy_becomes_tariff_bands_in_either_spelling() -> None:
    definition = tariff_definition(POLICY)
    assert definition["prices"] == {
        "peak": {"energy": "1.0500", "service": "0.8000"},
        "flat": {"energy": "0.9000", "service": "0.8000"},
        "valley": {"energy": "0.3000", "service": "0.4000"},
    }
    assert definition["plans"][0]["periods"] == [
        {"start": "00:00", "end": "08:00", "band": "valley"},
        {"start": "08:00", "end": "18:00", "band": "flat"},
        {"start": "18:00", "end": "21:00", "band": "peak"},
        {"start": "21:00", "end": "24:00", "band": "valley"},
    ]
    one = tariff_definition(
        {"PolicyInfos": [{"StartTime": "000000", "ElecPrice": 0.6, "ServicePrice": 0.6}]}
    )
    assert one["prices"] == {"flat": {"energy": "0.6", "service": "0.6"}}


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ({"PolicyInfos": []}, "non-empty"),
        ({**POLICY, "SumPeriod": 3}, "SumPeriod"),
        ({"PolicyInfos": [{"StartTime": "010000", "ElecPrice": 1, "SevicePrice": 1}]}, "000000"),
        ({"PolicyInfos": [{"StartTime": "000030", "ElecPrice": 1, "SevicePrice": 1}]}, "HHmm00"),
        ({"PolicyInfos": [{"StartTime": "000000", "ElecPrice": 1}]}, "ServicePrice"),
        (
            {
                "PolicyInfos": [
                    {"StartTime": "000000", "ElecPrice": 1, "SevicePrice": 1, "ServicePrice": 2}
                ]
            },
            "differ",
        ),
        (
            {
                "PolicyInfos": [
                    {"StartTime": f"{h:02d}0000", "ElecPrice": h, "SevicePrice": 1}
                    for h in range(5)
                ]
            },
            "four bands",
        ),
    ],
)
def test_a_policy_that_does_not_fit_is_refused(policy: dict[str, object], problem: str) -> None:
    with pytest.raises(PushDataError, match=problem):
        tariff_definition(policy)


def test_platform_answers_are_stored_as_postgresql_can_hold_them() -> None:
    assert clean("bad\x00msg\ud800") == "badmsg?"
    assert storable({"Status": Decimal("1.50"), "x": [float("nan"), "a\x00"]}) == {
        "Status": "1.50",
        "x": ["nan", "a"],
    }


@pytest.mark.parametrize("value", [None, "soon", -5, 0, 10**12, float("inf")])
def test_a_token_lifetime_that_makes_no_sense_is_refused(value: object) -> None:
    with pytest.raises(TokenRefused):
        _lifetime(value)
    assert _lifetime("7200") == 7200.0
