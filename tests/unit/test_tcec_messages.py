"""T/CEC codes and payloads: status and reason tables, identifiers, orders that add up, JSON."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.billing.cdr import SessionFacts, bill_record
from csms.billing.pricing import price
from csms.billing.tariff import Band, BandPrice, DayType, IdleFee, Tariff
from csms.monitoring.geo import wgs84_to_gcj02
from csms.tcec.codes import (
    area_code,
    construction_code,
    station_type,
    status_code,
    stop_reason_code,
)
from csms.tcec.messages import (
    ConnectorFacts,
    PileFacts,
    PushDataError,
    SiteFacts,
    Spelling,
    centi_kwh,
    charge_order,
    connector_code,
    connector_status_info,
    dumps,
    loads,
    normalize,
    policy_infos,
    read_service,
    service_money,
    service_price,
    start_charge_seq,
    station_code,
    station_info,
    station_stats,
)
from tests.unit.tariff_specs import plan

D = Decimal

# -- codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "connected", "charging_state", "code"),
    [
        ("Available", True, None, 1),
        ("Preparing", True, None, 2),
        ("SuspendedEV", True, None, 2),
        ("SuspendedEVSE", True, None, 2),
        ("Finishing", True, None, 2),
        ("Charging", True, None, 3),
        ("Reserved", True, None, 4),
        ("Faulted", True, None, 255),
        ("Unavailable", True, None, 255),
        ("Occupied", True, "Charging", 3),
        ("Occupied", True, "EVConnected", 2),
        ("Occupied", True, "SuspendedEV", 2),
        ("Occupied", True, None, 2),
        ("Charging", False, None, 0),
        ("Available", False, None, 0),
        ("Occupied", False, "Charging", 0),
    ],
)
def test_status_code(status: str, connected: bool, charging_state: str | None, code: int) -> None:
    assert status_code(status, connected=connected, charging_state=charging_state) == code


def test_status_code_refuses_unknown_status() -> None:
    with pytest.raises(ValueError, match="Plugged"):
        status_code("Plugged", connected=True)


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (None, 0),
        ("Local", 0),
        ("Remote", 1),
        ("DeAuthorized", 1),
        ("UnlockCommand", 1),
        ("LocalOutOfCredit", 1),
        ("StoppedByEV", 2),
        ("SOCLimitReached", 2),
        ("EnergyLimitReached", 2),
        ("TimeLimitReached", 2),
        ("CostLimitReached", 2),
        ("EmergencyStop", 3),
        ("PowerLoss", 3),
        ("Reboot", 3),
        ("HardReset", 3),
        ("SoftReset", 3),
        ("ImmediateReset", 3),
        ("GroundFault", 3),
        ("OvercurrentFault", 3),
        ("PowerQuality", 3),
        ("ReqEnergyTransferRejected", 3),
        ("Timeout", 3),
        ("MasterPass", 3),
        ("EVDisconnected", 4),
        ("Other", 5),
        ("SomethingNew", 5),
        ("local", 5),
    ],
)
def test_stop_reason_code(reason: str | None, code: int) -> None:
    assert stop_reason_code(reason) == code


@pytest.mark.parametrize(
    ("category", "construction"),
    [
        ("urban_public_parking", 9),
        ("commercial", 9),
        ("transport_hub", 6),
        ("residential_community", 1),
        ("government_enterprise_internal", 3),
        ("scenic_4a_plus", 255),
        ("scenic_a", 255),
        ("scenic_below_a", 255),
        ("tourist_road_post", 255),
        ("rv_camp", 255),
        ("trunk_road_parking", 10),  # roadside parking, not a highway service area
        ("highway_service_area", 11),
        ("bus_depot", 6),
        ("logistics_industrial_park", 5),
        ("other", 255),
        (None, 255),
    ],
)
def test_construction_code(category: str | None, construction: int) -> None:
    assert construction_code(category) == construction


@pytest.mark.parametrize(
    ("category", "access_mode", "code"),
    [
        ("urban_public_parking", "public", 1),
        ("commercial", "shared", 1),
        (None, "public", 1),
        ("government_enterprise_internal", "private", 255),
        ("residential_community", "private", 255),
        ("bus_depot", "public", 100),
        ("bus_depot", "private", 100),
        ("logistics_industrial_park", "shared", 102),
        ("logistics_industrial_park", "private", 102),
    ],
)
def test_station_type(category: str | None, access_mode: str, code: int) -> None:
    assert station_type(category, access_mode) == code


@pytest.mark.parametrize(
    ("category", "access_mode"), [("airport", "public"), ("commercial", "members")]
)
def test_station_type_refuses_unknown_values(category: str, access_mode: str) -> None:
    with pytest.raises(PushDataError):
        station_type(category, access_mode)
    with pytest.raises(PushDataError):
        construction_code("airport")


@pytest.mark.parametrize(
    ("county", "code"),
    [
        ("朔城区", "140602"),
        ("平鲁区", "140603"),
        ("山阴县", "140621"),
        ("应县", "140622"),
        ("右玉县", "140623"),
        ("怀仁市", "140681"),
        ("朔州市", "140600"),
        ("Shuocheng District", "140602"),
        ("Pinglu District", "140603"),
        ("Shanyin County", "140621"),
        ("Ying County", "140622"),
        ("Youyu County", "140623"),
        ("Huairen City", "140681"),
        ("ying  county", "140622"),
        ("Huairen", "140681"),
        (" 应县 ", "140622"),
        ("140623", "140623"),
        ("140100", "140100"),
    ],
)
def test_area_code(county: str, code: str) -> None:
    assert area_code(county) == code


@pytest.mark.parametrize("county", [None, "", "Datong", "大同市", "14062", "1406022"])
def test_area_code_unknown(county: str | None) -> None:
    with pytest.raises(PushDataError, match="area code"):
        area_code(county)


# -- identifiers ------------------------------------------------------------------------------


def test_station_code_is_stable_and_20_characters() -> None:
    assert station_code("朔州万达广场", "CP01") == "SE4913C3202175B7AC68"
    assert station_code("朔州万达广场", "CP99") == "SE4913C3202175B7AC68"  # the site decides
    assert station_code(None, "CP01") == "S5DCB08915B09CD60E40"
    assert station_code("CP01", "CP01") != station_code(None, "CP01")
    for code in (station_code("x" * 200, "a"), station_code(None, "b")):
        assert len(code) == 20 and code[0] == "S"
        assert all(c in "0123456789ABCDEF" for c in code[1:])


@pytest.mark.parametrize(
    ("evse", "connector", "code"),
    [(1, 0, "CP01-1"), (1, 1, "CP01-1"), (2, 1, "CP01-2"), (2, 2, "CP01-2-2"), (3, 4, "CP01-3-4")],
)
def test_connector_code(evse: int, connector: int, code: str) -> None:
    assert connector_code("CP01", evse, connector) == code


@pytest.mark.parametrize(("station", "evse", "connector"), [("CP01", 0, 0), ("X" * 25, 1, 1)])
def test_connector_code_refuses(station: str, evse: int, connector: int) -> None:
    with pytest.raises(PushDataError):
        connector_code(station, evse, connector)


@pytest.mark.parametrize(
    ("operator", "tid", "seq"),
    [
        ("MA0000001", 42, "MA0000001000000000000000042"),
        ("MA0000001", 0, "MA0000001000000000000000000"),
        ("MA0000001", 2**63 - 1, "MA00000019223372036854775807"),
    ],
)
def test_start_charge_seq(operator: str, tid: int, seq: str) -> None:
    assert start_charge_seq(operator, tid) == seq
    assert len(seq) == max(27, len(operator) + len(str(tid)))


def test_connector_status_info() -> None:
    assert connector_status_info("CP01-1", 3) == {
        "ConnectorID": "CP01-1",
        "Status": 3,
        "ParkStatus": 0,
        "LockStatus": 0,
    }
    with pytest.raises(PushDataError):
        connector_status_info("CP01-1", 7)


# -- energy splits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("whs", "parts"),
    [
        ([], []),
        ([4200, 3333], ["4.20", "3.33"]),
        ([5, 5, 5], ["0.01", "0.01", "0.00"]),  # 15 Wh -> 0.02, earlier index wins the tie
        ([1004, 1004, 1004], ["1.01", "1.00", "1.00"]),  # 3012 -> 3.01, the tie to the first
        ([1003, 1004, 1004], ["1.00", "1.01", "1.00"]),  # 3011 -> 3.01, the largest remainder
        ([0], ["0.00"]),
        ([-3335], ["-3.34"]),
    ],
)
def test_centi_kwh_table(whs: list[int], parts: list[str]) -> None:
    assert centi_kwh(whs) == [D(p) for p in parts]
    assert all(str(a) == b for a, b in zip(centi_kwh(whs), parts, strict=True))


@given(st.lists(st.integers(min_value=-(10**7), max_value=10**7), max_size=40))
def test_centi_kwh_adds_up_and_stays_close(whs: list[int]) -> None:
    parts = centi_kwh(whs)
    total = (D(sum(whs)) / 1000).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert sum(parts, D(0)) == total
    assert len(parts) == len(whs)
    for part, wh in zip(parts, whs, strict=True):
        assert part.as_tuple().exponent == -2
        assert abs(part - D(wh) / 1000) < D("0.01")


# -- charge orders ----------------------------------------------------------------------------

START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 09:00 China Standard Time
TARIFF = Tariff(
    tariff_id="t1",
    version=1,
    name="two bands",
    prices={
        Band.PEAK: BandPrice(D("1.0000"), D("0.8000")),
        Band.FLAT: BandPrice(D("0.7000"), D("0.6000")),
    },
    plans=(plan("00:00-10:00 peak, 10:00-24:00 flat"),),
    effective_from=datetime(2026, 1, 1, tzinfo=UTC),
    idle=IdleFee(D("0.10")),
)


@dataclasses.dataclass(frozen=True)
class Reading:
    at: datetime
    wh: int


def two_band_cdr() -> dict[str, Any]:
    """A CDR built by the real pricing: 4,200 Wh peak then 3,333 Wh flat, 5 idle minutes."""
    stop = START + timedelta(hours=2)
    bill = price(
        TARIFF,
        [Reading(START, 1000), Reading(START + timedelta(hours=1), 5200), Reading(stop, 8533)],
        idle_from=stop,
        occupied_until=stop + timedelta(minutes=5),
    )
    facts = SessionFacts("MA0000001", 42, "CP01", 1, 1, "TAG", "site", None, "朔城区", START, stop)
    return bill_record(
        facts,
        bill,
        verdict="ok",
        reasons=[],
        idle_from=stop,
        signed_data=[],
        created_by="test",
        created_at=stop,
    )


@pytest.mark.parametrize("spelling", list(Spelling))
def test_charge_order_from_two_band_cdr(spelling: Spelling) -> None:
    order = charge_order(
        two_band_cdr(),
        operator_id="MA0000001",
        connector_id="CP01-1",
        stop_reason="EVDisconnected",
        spelling=spelling,
    )
    s = spelling.value
    assert order == {
        "StartChargeSeq": "MA0000001000000000000000042",
        "ConnectorID": "CP01-1",
        "StartTime": "2026-11-26 09:00:00",
        "EndTime": "2026-11-26 11:00:00",
        "TotalPower": D("7.53"),
        "TotalElecMoney": D("6.53"),
        f"Total{s}Money": D("5.36"),
        "TotalMoney": D("12.39"),  # with 0.50 of idle fee, which has no line
        "StopReason": 4,
        "SumPeriod": 2,
        "ChargeDetails": [
            {
                "DetailStartTime": "2026-11-26 09:00:00",
                "DetailEndTime": "2026-11-26 10:00:00",
                "ElecPrice": D("1.0000"),
                f"{s}Price": D("0.8000"),
                "DetailPower": D("4.20"),
                "DetailElecMoney": D("4.20"),
                f"Detail{s}Money": D("3.36"),
            },
            {
                "DetailStartTime": "2026-11-26 10:00:00",
                "DetailEndTime": "2026-11-26 11:00:00",
                "ElecPrice": D("0.7000"),
                f"{s}Price": D("0.6000"),
                "DetailPower": D("3.33"),
                "DetailElecMoney": D("2.33"),
                f"Detail{s}Money": D("2.00"),
            },
        ],
    }
    text = dumps(order)
    assert f'"Total{s}Money":5.36' in text and '"ElecPrice":1.0000' in text
    assert '"DetailPower":4.20' in text
    details = order["ChargeDetails"]
    assert sum(d["DetailPower"] for d in details) == order["TotalPower"]
    assert service_money(order, "Total") == sum(service_money(d, "Detail") for d in details)


def test_charge_order_without_lines() -> None:
    cdr = {**two_band_cdr(), "lines": [], "energy_wh": 0}
    cdr.update(energy_money=D("0.00"), service_money=D("0.00"), total=D("0.50"))
    order = charge_order(cdr, operator_id="MA0000001", connector_id="CP01-1", stop_reason=None)
    assert (order["SumPeriod"], order["ChargeDetails"], order["TotalPower"]) == (0, [], D("0.00"))
    assert order["StopReason"] == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"energy_money": D("6.54")}, "energy_money adds up to 6.53"),
        ({"service_money": D("5.35")}, "service_money adds up to 5.36"),
        ({"energy_wh": 7534}, "7533 Wh"),
        ({"total": D("11.00")}, "less than"),
        ({"started_at": datetime(2026, 11, 26, 9)}, "no UTC offset"),
        ({"lines": [{}] * 33}, "at most 32"),
    ],
)
def test_charge_order_refuses_records_that_do_not_add_up(
    change: dict[str, Any], message: str
) -> None:
    cdr = {**two_band_cdr(), **change}
    with pytest.raises(PushDataError, match=message):
        charge_order(cdr, operator_id="MA0000001", connector_id="CP01-1", stop_reason=None)


def test_charge_order_refuses_line_money_that_does_not_add_up() -> None:
    cdr = two_band_cdr()
    cdr["lines"][1] = {**cdr["lines"][1], "service_money": "1.99"}
    with pytest.raises(PushDataError, match="service_money"):
        charge_order(cdr, operator_id="MA0000001", connector_id="CP01-1", stop_reason=None)
    cdr["lines"][1] = {**cdr["lines"][1], "service_money": "2.001"}
    with pytest.raises(PushDataError, match="decimal places"):
        charge_order(cdr, operator_id="MA0000001", connector_id="CP01-1", stop_reason=None)


# -- station info -----------------------------------------------------------------------------

AC_PILE = PileFacts(
    station_id="SZ-AC-01",
    vendor="星星充电",
    model="AC7",
    rated_power_kw=D("7"),
    commissioned_on=date(2025, 6, 1),
    latitude=None,
    longitude=None,
    connectors=(ConnectorFacts(1, 1, None, "AC"),),
)
DC_PILE = PileFacts(
    station_id="SZ-DC-01",
    vendor=None,
    model=None,
    rated_power_kw=None,
    commissioned_on=None,
    latitude=39.3300,
    longitude=112.4300,
    connectors=(ConnectorFacts(1, 1, D("60"), "DC"), ConnectorFacts(2, 1, D("60"), "DC")),
)
SITE = SiteFacts(
    site_name="朔州万达广场",
    county="Shuocheng District",
    address="朔州市朔城区开发南路",
    latitude=39.331,
    longitude=112.432,
    category="commercial",
    parking_spaces=40,
    access_mode="public",
    open_=True,
    piles=(AC_PILE, DC_PILE),
)


def test_station_info_for_an_ac_and_a_dc_pile() -> None:
    info = station_info(SITE, operator_id="MA0000001", service_tel="0349-1234567")
    equipment = info.pop("EquipmentInfos")
    assert info == {
        "StationID": "SE4913C3202175B7AC68",
        "OperatorID": "MA0000001",
        "EquipmentOwnerID": "MA0000001",
        "StationName": "朔州万达广场",
        "CountryCode": "CN",
        "AreaCode": "140602",
        "Address": "朔州市朔城区开发南路",
        "StationTel": "0349-1234567",
        "ServiceTel": "0349-1234567",
        "StationType": 1,
        "StationStatus": 50,
        "ParkNums": 40,
        "StationLng": D("112.438848"),  # GCJ-02 of WGS-84 112.432
        "StationLat": D("39.332162"),
        "Construction": 9,
        # no registered limits: the derived ones below are labelled as such
        "Remark": "电压电流限值未登记,按额定功率推算:SZ-AC-01,SZ-DC-01",
    }
    ac, dc = equipment
    assert ac == {
        "EquipmentID": "SZ-AC-01",
        "EquipmentName": "SZ-AC-01",
        "ManufacturerName": "星星充电",
        "EquipmentModel": "AC7",
        "ProductionDate": "2025-06-01",
        "EquipmentType": 2,
        "EquipmentLng": D("112.438848"),  # the site's position
        "EquipmentLat": D("39.332162"),
        "Power": D("7.0"),
        "ConnectorInfos": [
            {
                "ConnectorID": "SZ-AC-01-1",
                "ConnectorName": "枪1",
                "ConnectorType": 3,
                "VoltageUpperLimits": 220,
                "VoltageLowerLimits": 220,
                "Current": 32,  # 7000 / 220 = 31.8
                "Power": D("7.0"),
                "NationalStandard": 2,
            }
        ],
    }
    glat, glng = wgs84_to_gcj02(39.33, 112.43)
    assert dc["EquipmentType"] == 1 and dc["Power"] == D("120.0")
    assert "ManufacturerName" not in dc and "ProductionDate" not in dc
    assert abs(dc["EquipmentLat"] - D(repr(glat))) <= D("0.0000005")
    assert abs(dc["EquipmentLng"] - D(repr(glng))) <= D("0.0000005")
    assert [c["ConnectorID"] for c in dc["ConnectorInfos"]] == ["SZ-DC-01-1", "SZ-DC-01-2"]
    assert dc["ConnectorInfos"][1] == {
        "ConnectorID": "SZ-DC-01-2",
        "ConnectorName": "枪2",
        "ConnectorType": 4,
        "VoltageUpperLimits": 750,
        "VoltageLowerLimits": 200,
        "Current": 80,  # 60000 / 750
        "Power": D("60.0"),
        "NationalStandard": 2,
    }
    assert "12.30" not in dumps({"StationInfo": info})  # it serialises at all


@pytest.mark.parametrize(
    ("kw", "volts", "amperes"),
    [
        (D("3.5"), 220, 16),  # 15.9
        (D("7"), 220, 32),
        (D("11"), 380, 17),  # 11000 / (sqrt 3 x 380) = 16.7
        (D("22"), 380, 34),  # 33.4
        (D("40"), 380, 61),  # 60.8
    ],
)
def test_ac_voltage_and_current(kw: Decimal, volts: int, amperes: int) -> None:
    pile = dataclasses.replace(AC_PILE, rated_power_kw=kw)
    site = dataclasses.replace(SITE, piles=(pile,))
    (connector,) = station_info(site, operator_id="MA0000001", service_tel=None)["EquipmentInfos"][
        0
    ]["ConnectorInfos"]
    assert (connector["VoltageUpperLimits"], connector["Current"]) == (volts, amperes)


def test_station_info_defaults() -> None:
    site = dataclasses.replace(
        SITE,
        site_name=None,
        latitude=None,
        longitude=None,
        parking_spaces=None,
        open_=False,
        category=None,
        access_mode="private",
        piles=(DC_PILE,),
    )
    info = station_info(site, operator_id="MA0000001", service_tel=None)
    assert info["StationID"] == station_code(None, "SZ-DC-01")
    assert info["StationName"] == "SZ-DC-01"
    assert "ServiceTel" not in info and "StationTel" not in info
    assert (info["StationStatus"], info["ParkNums"], info["Construction"]) == (5, 0, 255)
    assert info["StationType"] == 255
    eq = info["EquipmentInfos"][0]
    assert (info["StationLat"], info["StationLng"]) == (eq["EquipmentLat"], eq["EquipmentLng"])


@pytest.mark.parametrize(
    ("site", "message"),
    [
        (dataclasses.replace(SITE, address=None), "no address"),
        (dataclasses.replace(SITE, address="  "), "no address"),
        (dataclasses.replace(SITE, county=None), "area code"),
        (dataclasses.replace(SITE, piles=()), "no piles"),
        (
            dataclasses.replace(SITE, latitude=None, longitude=None, piles=(AC_PILE,)),
            "no coordinates",
        ),
        (
            dataclasses.replace(SITE, piles=(dataclasses.replace(AC_PILE, connectors=()),)),
            "no conn",
        ),
        (
            dataclasses.replace(SITE, piles=(dataclasses.replace(AC_PILE, rated_power_kw=None),)),
            "SZ-AC-01-1: neither",
        ),
        (
            dataclasses.replace(
                SITE,
                piles=(
                    dataclasses.replace(AC_PILE, connectors=(ConnectorFacts(1, 1, None, None),)),
                ),
            ),
            "SZ-AC-01-1: the registry does not say whether it is AC or DC",
        ),
        (
            dataclasses.replace(SITE, piles=(dataclasses.replace(AC_PILE, station_id="X" * 24),)),
            "23",
        ),
    ],
)
def test_station_info_refuses(site: SiteFacts, message: str) -> None:
    with pytest.raises(PushDataError, match=message):
        station_info(site, operator_id="MA0000001", service_tel=None)


# -- statistics and prices --------------------------------------------------------------------


def test_station_stats_add_up_at_every_level() -> None:
    stats = station_stats(
        "S1",
        date(2026, 11, 1),
        date(2026, 11, 30),
        [("P1", [("P1-1", 1005), ("P1-2", 1005)]), ("P2", [("P2-1", 1005)]), ("P3", [])],
    )["StationStats"]
    assert (stats["StationID"], stats["StartTime"], stats["EndTime"]) == (
        "S1",
        "2026-11-01",
        "2026-11-30",
    )
    assert stats["StationElectricity"] == D("3.02")  # 3015 Wh, half-up
    p1, p2, p3 = stats["EquipmentStatsInfos"]
    assert [c["ConnectorElectricity"] for c in p1["ConnectorStatsInfos"]] == [D("1.01"), D("1.01")]
    assert p1["EquipmentElectricity"] == D("2.02")
    assert p2 == {
        "EquipmentID": "P2",
        "EquipmentElectricity": D("1.00"),
        "ConnectorStatsInfos": [{"ConnectorID": "P2-1", "ConnectorElectricity": D("1.00")}],
    }
    assert p3 == {"EquipmentID": "P3", "EquipmentElectricity": D("0.00"), "ConnectorStatsInfos": []}
    with pytest.raises(PushDataError):
        station_stats("S1", date(2026, 11, 2), date(2026, 11, 1), [])


POLICY_TARIFF = dataclasses.replace(
    TARIFF,
    prices={**TARIFF.prices, Band.VALLEY: BandPrice(D("0.3"), D("0.45"))},
    plans=(
        plan("10:00-24:00 flat, 00:00-07:00 valley, 08:00-10:00 peak, 07:00-08:00 peak", {7, 8}),
        plan("00:00-08:00 valley, 08:00-24:00 flat"),
    ),
)


@pytest.mark.parametrize("spelling", list(Spelling))
def test_policy_infos_sorted_and_merged(spelling: Spelling) -> None:
    s = spelling.value
    summer = policy_infos(POLICY_TARIFF, date(2026, 7, 1), DayType.WORKDAY, spelling)
    assert summer == {
        "SumPeriod": 3,
        "PolicyInfos": [
            {"StartTime": "000000", "ElecPrice": D("0.3000"), f"{s}Price": D("0.4500")},
            {"StartTime": "070000", "ElecPrice": D("1.0000"), f"{s}Price": D("0.8000")},
            {"StartTime": "100000", "ElecPrice": D("0.7000"), f"{s}Price": D("0.6000")},
        ],
    }
    winter = policy_infos(POLICY_TARIFF, date(2026, 11, 1), DayType.WEEKEND, spelling)
    assert [(p["StartTime"], str(p["ElecPrice"])) for p in winter["PolicyInfos"]] == [
        ("000000", "0.3000"),
        ("080000", "0.7000"),
    ]
    assert '"ElecPrice":0.3000' in dumps(winter)


def test_policy_infos_half_hour_start() -> None:
    tariff = dataclasses.replace(TARIFF, plans=(plan("00:00-07:30 peak, 07:30-24:00 flat"),))
    infos = policy_infos(tariff, date(2026, 7, 1), DayType.WORKDAY)["PolicyInfos"]
    assert [p["StartTime"] for p in infos] == ["000000", "073000"]


# -- JSON and spellings -----------------------------------------------------------------------


def test_dumps_writes_decimals_exactly_and_chinese_as_is() -> None:
    data = {
        "Money": D("12.30"),
        "Big": D("1E+2"),
        "Neg": D("-0.50"),
        "Name": '朔州 "站"',
        "List": [1, True, None, (D("0.0001"),)],
        "Nested": {"A": {}},
    }
    text = dumps(data)
    assert text == (
        '{"Money":12.30,"Big":100,"Neg":-0.50,"Name":"朔州 \\"站\\"",'
        '"List":[1,true,null,[0.0001]],"Nested":{"A":{}}}'
    )
    back = loads(text)
    assert back["Money"] == D("12.30") and str(back["Money"]) == "12.30"
    assert isinstance(back["List"][0], int) and back["Name"] == '朔州 "站"'
    assert loads(dumps(back)) == back


@pytest.mark.parametrize(
    ("value", "error"), [(1.5, TypeError), (D("NaN"), ValueError), (object(), TypeError)]
)
def test_dumps_refuses_floats_and_non_numbers(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        dumps({"X": value})


@pytest.mark.parametrize(
    ("item", "value"),
    [
        ({"SevicePrice": D("0.8000")}, D("0.8")),
        ({"ServicePrice": "0.6"}, D("0.6")),
        ({"ServicePrice": 1}, D("1")),
        ({"SevicePrice": D("0.8"), "ServicePrice": D("0.80")}, D("0.8")),
        ({"SevicePrice": None, "ServicePrice": D("0.5")}, D("0.5")),
    ],
)
def test_service_price_reads_both_spellings(item: dict[str, Any], value: Decimal) -> None:
    assert service_price(item) == value


@pytest.mark.parametrize(
    "item",
    [{}, {"SevicePrice": D("0.8"), "ServicePrice": D("0.7")}, {"ServicePrice": "abc"}],
)
def test_service_price_refuses(item: dict[str, Any]) -> None:
    with pytest.raises(PushDataError):
        service_price(item)


def test_read_service_for_money_and_prefixes() -> None:
    assert service_money({"TotalServiceMoney": D("5.36")}, "Total") == D("5.36")
    assert service_money({"DetailSeviceMoney": D("2.00")}, "Detail") == D("2.00")
    assert service_price({"XSevicePrice": D("0.1")}, "X") == D("0.1")
    assert read_service({"TotalSeviceMoney": "x"}, "Total", "Money") == "x"
    with pytest.raises(PushDataError, match="TotalSeviceMoney"):
        service_money({"DetailSeviceMoney": D("2.00")}, "Total")


def test_normalize_renames_sevice_keys_everywhere() -> None:
    order = {
        "TotalSeviceMoney": D("1"),
        "ChargeDetails": [{"SevicePrice": D("0.8"), "DetailSeviceMoney": D("1")}],
        "Other": "Sevice",
    }
    assert normalize(order) == {
        "TotalServiceMoney": D("1"),
        "ChargeDetails": [{"ServicePrice": D("0.8"), "DetailServiceMoney": D("1")}],
        "Other": "Sevice",  # values are not keys
    }
    assert normalize({"SevicePrice": 1, "ServicePrice": 1}) == {"ServicePrice": 1}
    with pytest.raises(PushDataError):
        normalize({"SevicePrice": 1, "ServicePrice": 2})
