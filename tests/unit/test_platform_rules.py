"""Pure rules of the platform push: retry schedule, token refresh, answer classification,
rendering of outbox facts per platform, site grouping, and sealing secrets at rest."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from csms.domain.meter import Sample
from csms.errors import ConfigError
from csms.sealed import SealedBox, load_key
from csms.services.platform_live import connector_status, sessions_of
from csms.services.platform_push import TokenRefused, _lifetime, judge
from csms.tcec import facts
from csms.tcec.codes import construction_code
from csms.tcec.envelope import Answer
from csms.tcec.live import live_facts
from csms.tcec.messages import PushDataError, Spelling, derived_remark, dumps
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


# -- live charging data (T/CEC 102.4 charge status) ----------------------------------------------

LIVE_START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 China Standard Time
LIVE_SESSION = {
    "transaction_id": 42,
    "station_id": "CP-1",
    "evse_id": 2,
    "connector_id": None,
    "status": "open",
    "started_at": LIVE_START,
    "meter_start_wh": 1000,
    "first_wh": 1000,
}


def _sample(minute: int, measurand: str, value: str, unit: str, **where: str) -> Sample:
    return Sample(LIVE_START + timedelta(minutes=minute), measurand, Decimal(value), unit, **where)


LIVE_SAMPLES = [
    _sample(30, "Energy.Active.Import.Register", "8.533", "kWh"),
    _sample(30, "Voltage", "230.04", "V", phase="L1-N"),
    _sample(30, "Voltage", "400", "V", phase="L1-L2"),  # line-to-line: not phase A's voltage
    _sample(30, "Voltage", "229.96", "V", phase="L2-N"),
    _sample(30, "Current.Import", "16.25", "A", phase="L1"),
    _sample(30, "Current.Import", "16", "A", phase="L3"),
    _sample(29, "SoC", "67", "Percent", location="EV"),
    _sample(30, "Power.Active.Import", "11", "kW"),
    _sample(30, "Temperature", "40", "Celsius"),
]
# The bill so far, with whole and one-decimal numbers that must go out padded.
LIVE_BILL = {
    "energy_wh": 7533,
    "energy_money": "6.5",
    "service_money": "5.36",
    "total": "11.86",
    "lines": [
        {
            "start": LIVE_START.isoformat(),
            "end": (LIVE_START + timedelta(minutes=15)).isoformat(),
            "energy_wh": 4200,
            "energy_price": "1",
            "service_price": "0.8",
            "energy_money": "4.2",
            "service_money": "3.36",
        },
        {
            "start": (LIVE_START + timedelta(minutes=15)).isoformat(),
            "end": (LIVE_START + timedelta(minutes=30)).isoformat(),
            "energy_wh": 3333,
            "energy_price": "0.69",
            "service_price": "0.6",
            "energy_money": "2.3",
            "service_money": "2",
        },
    ],
}


def test_live_facts_pick_the_phases_and_the_energy_so_far() -> None:
    facts = live_facts(LIVE_SESSION, LIVE_SAMPLES, None, status=3, now=LIVE_START)
    assert facts["voltage"] == ["230.04", "229.96", None]
    assert facts["current"] == ["16.25", None, "16"]
    assert (facts["soc"], facts["power_w"]) == ("67", "11000")
    assert facts["energy_wh"] == 7533  # 8.533 kWh on the register, 1000 Wh at the start
    assert facts["sampled_at"] == (LIVE_START + timedelta(minutes=30)).isoformat()
    assert live_facts(LIVE_SESSION, [], None, status=3, now=LIVE_START)["energy_wh"] == 0


def test_live_data_renders_with_two_decimal_money_and_four_decimal_prices() -> None:
    facts = live_facts(LIVE_SESSION, LIVE_SAMPLES, LIVE_BILL, status=3, now=LIVE_START)
    method, text = render("charge_status", dumps(facts), Target("MA0CSMS01"))
    assert method == "notification_equip_charge_status"
    data = json.loads(text, parse_float=Decimal)
    assert data["StartChargeSeq"] == "MA0CSMS01" + "42".zfill(18)
    assert (data["StartChargeSeqStat"], data["ConnectorID"], data["ConnectorStatus"]) == (
        2,
        "CP-1-2",
        3,
    )
    assert (data["StartTime"], data["EndTime"]) == ("2026-11-25 10:00:00", "2026-11-25 10:30:00")
    for fragment in (
        '"CurrentA":16.3,"CurrentB":0.0,"CurrentC":16.0',  # 0 where none is reported
        '"VoltageA":230.0,"VoltageB":230.0,"VoltageC":0.0',
        '"Soc":67.0',
        '"TotalPower":7.53,"ElecMoney":6.50,"SeviceMoney":5.36,"TotalMoney":11.86',
        '"ElecPrice":1.0000,"SevicePrice":0.8000,"DetailPower":4.20,"DetailElecMoney":4.20',
        '"ElecPrice":0.6900,"SevicePrice":0.6000,"DetailPower":3.33,"DetailElecMoney":2.30,'
        '"DetailSeviceMoney":2.00',
    ):
        assert fragment in text, fragment
    assert data["SumPeriod"] == 2
    corrected = Target("MA0OTHER1", Spelling.CORRECTED, methods={"charge_status": "push_live"})
    method, text = render("charge_status", dumps(facts), corrected)
    assert method == "push_live" and '"ServiceMoney":5.36' in text and "Sevice" not in text


def test_live_data_without_a_bill_says_no_money_and_an_ended_session_is_4() -> None:
    facts = live_facts(
        {**LIVE_SESSION, "status": "closed"}, LIVE_SAMPLES, None, status=2, now=LIVE_START
    )
    _, text = render("charge_status", dumps(facts), Target("MA0CSMS01"))
    data = json.loads(text, parse_float=Decimal)
    assert data["StartChargeSeqStat"] == 4 and data["ConnectorStatus"] == 2
    assert str(data["TotalPower"]) == "7.53"
    assert (data["SumPeriod"], data["ChargeDetails"]) == (0, [])
    assert not {"ElecMoney", "SeviceMoney", "TotalMoney"} & set(data)  # never a made-up 0.00


def test_live_data_whose_bill_does_not_add_up_is_refused() -> None:
    wrong = {**LIVE_BILL, "total": "1.00"}
    facts = live_facts(LIVE_SESSION, LIVE_SAMPLES, wrong, status=3, now=LIVE_START)
    with pytest.raises(PushDataError, match="less than energy and service money"):
        render("charge_status", dumps(facts), Target("MA0CSMS01"))


def test_an_order_pads_money_to_two_and_prices_to_four_decimals() -> None:
    cdr = json.loads(_order_facts(), parse_float=Decimal)
    cdr["cdr"]["lines"][0].update(energy_price="1", service_price="0.8", energy_money="4.2")
    cdr["cdr"].update(energy_money="6.53", total="11.89")
    _, text = render("charge_order", dumps(cdr), Target("MA0CSMS01"))
    assert '"ElecPrice":1.0000,"SevicePrice":0.8000' in text
    assert '"DetailElecMoney":4.20' in text and '"TotalPower":7.53' in text


@pytest.mark.parametrize(
    ("answer", "action"),
    [
        (Answer(0, "", {"StartChargeSeq": "x", "SuccStat": 0, "FailReason": 0}), "sent"),
        (Answer(0, "", {"StartChargeSeq": "x", "SuccStat": 1, "FailReason": 1}), "retry"),
        (Answer(4004, "unknown method", None), "failed"),
    ],
)
def test_charge_status_answers(answer: Answer, action: str) -> None:
    assert judge("charge_status", answer).action == action


def test_live_sessions_group_the_latest_samples_and_read_the_connector() -> None:
    base = {
        "transaction_id": 7,
        "connected": True,
        "connector_status": "Occupied",
        "charging_state": "SuspendedEV",
    }
    rows = [
        {
            **base,
            "measurand": "SoC",
            "phase": "",
            "location": "EV",
            "unit": "Percent",
            "value": Decimal(50),
            "sampled_at": LIVE_START,
        },
        {
            **base,
            "measurand": "Voltage",
            "phase": "",
            "location": "",
            "unit": "V",
            "value": Decimal(400),
            "sampled_at": LIVE_START,
        },
        {
            **base,
            "transaction_id": 8,
            "measurand": None,
            "phase": None,
            "location": None,
            "unit": None,
            "value": None,
            "sampled_at": None,
        },
    ]
    sessions = sessions_of(rows)
    assert [(s["transaction_id"], len(samples)) for s, samples in sessions] == [(7, 2), (8, 0)]
    assert connector_status(base) == 2  # 2.0.1 Occupied, not charging
    assert connector_status({**base, "charging_state": "Charging"}) == 3
    assert connector_status({**base, "connector_status": None}) == 3
    assert connector_status({**base, "connector_status": None, "connected": False}) == 0


# -- station information: registered limits, trunk-road parking ---------------------------------


def _site(**pile: object) -> facts.SiteFacts:
    equipment = [{"station_id": "CP-1", "connector_no": 1, "power_kw": 60, "current": "DC"}]
    return facts.sites([{**PILE, **pile}], equipment, [])[0]


def test_registered_limits_are_sent_and_a_derivation_is_labelled() -> None:
    registered = _site(rated_voltage_max_v=1000, rated_voltage_min_v=150, rated_current_a=200)
    _, text = render("station_info", dumps(facts.site_data(registered)), Target("MA0CSMS01"))
    info = json.loads(text)["StationInfo"]
    [connector] = info["EquipmentInfos"][0]["ConnectorInfos"]
    assert (connector["VoltageUpperLimits"], connector["VoltageLowerLimits"]) == (1000, 150)
    assert connector["Current"] == 200 and "Remark" not in info
    derived = _site()
    _, text = render("station_info", dumps(facts.site_data(derived)), Target("MA0CSMS01"))
    info = json.loads(text)["StationInfo"]
    [connector] = info["EquipmentInfos"][0]["ConnectorInfos"]
    assert (connector["VoltageUpperLimits"], connector["Current"]) == (750, 80)  # 60 kW / 750 V
    assert info["Remark"] == "电压电流限值未登记,按额定功率推算:CP-1"
    assert facts.digest(registered) != facts.digest(derived)  # a change is pushed


def test_the_remark_fits_100_characters() -> None:
    ids = [f"SHUOZHOU-PILE-{n:03d}" for n in range(20)]
    remark = derived_remark(ids)
    assert len(remark) <= 100 and remark.endswith("等20台") and ids[0] in remark
    assert derived_remark(["CP-1"]).endswith(":CP-1")


def test_trunk_road_parking_is_roadside_parking_not_a_service_area() -> None:
    assert construction_code("trunk_road_parking") == 10
    assert construction_code("highway_service_area") == 11
