"""T/CEC 102 payloads built from plain values, so what a platform sees is decided in one place.

Numbers are Decimal all the way to the JSON text (`dumps`), so 12.30 is sent as 12.30 and no
fen is lost to binary floating point. Times go out in China Standard Time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

from csms.billing.tariff import Band, DayType, Tariff
from csms.monitoring.geo import wgs84_to_gcj02
from csms.tcec.codes import (
    CONNECTOR_STATUSES,
    PushDataError,
    area_code,
    construction_code,
    station_type,
    stop_reason_code,
)

__all__ = [
    "ConnectorFacts",
    "PileFacts",
    "PushDataError",
    "SiteFacts",
    "Spelling",
    "centi_kwh",
    "charge_order",
    "connector_code",
    "connector_status_info",
    "dumps",
    "loads",
    "normalize",
    "policy_infos",
    "read_service",
    "service_money",
    "service_price",
    "start_charge_seq",
    "station_code",
    "station_info",
    "station_stats",
]

CST: Final = ZoneInfo("Asia/Shanghai")
MAX_STATION_ID: Final = 20  # T/CEC 102.2 field lengths
MAX_EQUIPMENT_ID: Final = 23
MAX_CONNECTOR_ID: Final = 26
START_CHARGE_SEQ_LENGTH: Final = 27
MAX_PERIODS: Final = 32
STATION_NORMAL: Final = 50
STATION_CLOSED: Final = 5
NATIONAL_STANDARD_2015: Final = 2
CONNECTOR_AC_PLUG: Final = 3
CONNECTOR_DC_PLUG: Final = 4
EQUIPMENT_TYPES: Final[dict[frozenset[str], int]] = {
    frozenset({"DC"}): 1,
    frozenset({"AC"}): 2,
    frozenset({"AC", "DC"}): 3,
}
SINGLE_PHASE_MAX_KW: Final = Decimal(7)
SINGLE_PHASE_V: Final = Decimal(220)
THREE_PHASE_V: Final = Decimal(380)
DC_UPPER_V: Final = Decimal(750)
DC_LOWER_V: Final = Decimal(200)

CENT: Final = Decimal("0.01")
PRICE: Final = Decimal("0.0001")
_TENTH: Final = Decimal("0.1")
_MICRO_DEGREE: Final = Decimal("0.000001")
_DAY: Final = "%Y-%m-%d"
_SECOND: Final = "%Y-%m-%d %H:%M:%S"


class Spelling(StrEnum):
    """T/CEC spells it "Sevice"; some platforms corrected it. Readers accept both."""

    STANDARD = "Sevice"
    CORRECTED = "Service"


# -- JSON -------------------------------------------------------------------------------------


def dumps(data: Mapping[str, Any]) -> str:
    """Compact JSON, Chinese unescaped, Decimal written exactly (Decimal("12.30") -> 12.30).

    Floats are refused: every number we send is an int or a Decimal we rounded on purpose.
    """
    parts: list[str] = []
    _encode(data, parts)
    return "".join(parts)


def _encode(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool):
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        out.append(format(value, "f"))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, not {type(key).__name__}")
            out.append("," if index else "")
            out.append(json.dumps(key, ensure_ascii=False) + ":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            out.append("," if index else "")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as T/CEC JSON (use Decimal or int)")


def loads(text: str) -> Any:
    """JSON with every fractional number as Decimal, so a received 0.10 stays exact."""
    return json.loads(text, parse_float=Decimal)


# -- identifiers ------------------------------------------------------------------------------


def station_code(site_name: str | None, station_id: str) -> str:
    """A stable 20-character StationID: a site is one T/CEC station, whatever its piles."""
    source = f"site:{site_name}" if site_name is not None else f"station:{station_id}"
    return "S" + hashlib.sha1(source.encode()).hexdigest()[:19].upper()


def connector_code(station_id: str, evse_id: int, connector_id: int) -> str:
    """ConnectorID: the pile and its EVSE ("CP01-2"); a second plug on an EVSE adds "-2"."""
    if evse_id < 1 or connector_id < 0:
        raise PushDataError(
            f"{station_id} EVSE {evse_id} connector {connector_id} is not a connector "
            "(EVSE 0 is the whole station)"
        )
    code = (
        f"{station_id}-{evse_id}" if connector_id <= 1 else f"{station_id}-{evse_id}-{connector_id}"
    )
    if len(code) > MAX_CONNECTOR_ID:
        raise PushDataError(f"ConnectorID {code!r} is longer than {MAX_CONNECTOR_ID} characters")
    return code


def start_charge_seq(operator_id: str, transaction_id: int) -> str:
    """StartChargeSeq: the operator id and the transaction id, zero-filled to 27 characters."""
    if transaction_id < 0:
        raise PushDataError(f"transaction id {transaction_id} is negative")
    width = max(START_CHARGE_SEQ_LENGTH - len(operator_id), 0)
    return f"{operator_id}{transaction_id:0{width}d}"


# -- numbers ----------------------------------------------------------------------------------


def centi_kwh(whs: Sequence[int]) -> list[Decimal]:
    """Wh as 0.01 kWh parts that add up to the rounded total, so every level of a report agrees.

    The total is sum(whs) rounded half-up to 0.01 kWh; the parts are each floor(exact) or one
    more, the extra hundredths going to the largest remainders (earlier index on a tie).
    """
    total = sum(whs)
    quotient, remainder = divmod(abs(total), 10)
    target = (quotient + (remainder >= 5)) * (1 if total >= 0 else -1)
    splits = [divmod(wh, 10) for wh in whs]
    parts = [floor for floor, _ in splits]
    extra = target - sum(parts)  # 0 <= extra <= len(whs): see the docstring
    for index in sorted(range(len(whs)), key=lambda i: (-splits[i][1], i))[:extra]:
        parts[index] += 1
    return [Decimal(part).scaleb(-2) for part in parts]


def decimal_of(value: Any, what: str) -> Decimal:
    """A JSON number (a float through its shortest text) as a finite Decimal."""
    if isinstance(value, bool):
        raise PushDataError(f"{what} is not a number: {value!r}")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise PushDataError(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise PushDataError(f"{what} is not a number: {value!r}")
    return number


def exact_to(value: Any, step: Decimal, what: str) -> Decimal:
    """`value` to `step` places; refuses to round away digits the value really has."""
    number = decimal_of(value, what)
    rounded = number.quantize(step)
    if rounded != number:
        raise PushDataError(f"{what} {number} has more decimal places than T/CEC's {step}")
    return rounded


def cst_text(value: datetime, what: str, fmt: str = _SECOND) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PushDataError(f"{what} {value.isoformat()} has no UTC offset")
    return value.astimezone(CST).strftime(fmt)


def _degrees(value: Decimal) -> Decimal:
    return value.quantize(_MICRO_DEGREE, rounding=ROUND_HALF_UP)


# -- status -----------------------------------------------------------------------------------


def connector_status_info(connector_id: str, code: int) -> dict[str, Any]:
    """ConnectorStatusInfo; parking and lock status are 0 (unknown): stations do not report them."""
    if code not in CONNECTOR_STATUSES:
        raise PushDataError(f"{code} is not a T/CEC connector status")
    return {"ConnectorID": connector_id, "Status": code, "ParkStatus": 0, "LockStatus": 0}


# -- station info -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectorFacts:
    """One connector as the registry knows it; current is 'AC', 'DC' or None (unknown)."""

    evse_id: int
    connector_id: int
    power_kw: Decimal | None
    current: str | None


@dataclass(frozen=True, slots=True)
class PileFacts:
    """One charging station (a T/CEC equipment); coordinates are WGS-84. The rated voltage
    range and current are the registry's (nameplate) values for all of its connectors, None
    when not registered."""

    station_id: str
    vendor: str | None
    model: str | None
    rated_power_kw: Decimal | None
    commissioned_on: date | None
    latitude: float | None
    longitude: float | None
    connectors: tuple[ConnectorFacts, ...]
    voltage_max_v: int | None = None
    voltage_min_v: int | None = None
    current_a: int | None = None


@dataclass(frozen=True, slots=True)
class SiteFacts:
    """A site (a T/CEC station); open_ is False when every pile is blocked or closed."""

    site_name: str | None
    county: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    category: str | None
    parking_spaces: int | None
    access_mode: str
    open_: bool
    piles: tuple[PileFacts, ...]


def station_info(site: SiteFacts, *, operator_id: str, service_tel: str | None) -> dict[str, Any]:
    """A T/CEC StationInfo for a site and its piles.

    Coordinates are GCJ-02 (T/CEC's datum; the registry keeps WGS-84), 6 decimal places: the
    site's own, else the mean of its piles'. Voltage limits and current are the registry's
    rated values. Where the registry has none they are a fallback derived from the standard
    supply (AC up to 7 kW single-phase 220 V, above that three-phase 380 V; DC 200-750 V;
    current = rated power over that voltage, rounded up to whole amperes), and the StationInfo's
    Remark (T/CEC 102.2 free text, at most 100 characters) names the piles so described.
    """
    if not site.piles:
        raise PushDataError(f"site {site.site_name!r} has no piles to report")
    if not site.address or not site.address.strip():
        raise PushDataError(f"site {site.site_name or site.piles[0].station_id!r} has no address")
    name = site.site_name or site.piles[0].station_id
    lat, lng = _site_position(site)
    info: dict[str, Any] = {
        "StationID": station_code(site.site_name, site.piles[0].station_id),
        "OperatorID": operator_id,
        "EquipmentOwnerID": operator_id,
        "StationName": name,
        "CountryCode": "CN",
        "AreaCode": area_code(site.county),
        "Address": site.address.strip(),
    }
    if service_tel is not None:
        info["StationTel"] = service_tel
        info["ServiceTel"] = service_tel
    glat, glng = wgs84_to_gcj02(float(lat), float(lng))
    equipment = [_equipment_info(pile, lat, lng) for pile in site.piles]
    derived = [pile.station_id for pile in site.piles if _limits_missing(pile)]
    info.update(
        {
            "StationType": station_type(site.category, site.access_mode),
            "StationStatus": STATION_NORMAL if site.open_ else STATION_CLOSED,
            "ParkNums": site.parking_spaces or 0,
            "StationLng": _degrees(Decimal(repr(glng))),
            "StationLat": _degrees(Decimal(repr(glat))),
            "Construction": construction_code(site.category),
        }
    )
    if derived:
        info["Remark"] = derived_remark(derived)
    info["EquipmentInfos"] = equipment
    return info


MAX_REMARK: Final = 100
_DERIVED = "电压电流限值未登记,按额定功率推算:"


def _limits_missing(pile: PileFacts) -> bool:
    return None in (pile.voltage_max_v, pile.voltage_min_v, pile.current_a)


def derived_remark(station_ids: Sequence[str]) -> str:
    """The Remark naming the piles whose limits are a fallback: as many ids as fit in T/CEC's
    100 characters, then how many in all ("等N台": and others, N piles)."""
    for shown in range(len(station_ids), 0, -1):
        rest = len(station_ids) - shown
        text = (
            _DERIVED + ",".join(station_ids[:shown]) + (f"等{len(station_ids)}台" if rest else "")
        )
        if len(text) <= MAX_REMARK:
            return text
    return f"{_DERIVED}{len(station_ids)}台"[:MAX_REMARK]


def _site_position(site: SiteFacts) -> tuple[Decimal, Decimal]:
    """WGS-84 (lat, lng) of the site, else the mean of the piles that have one."""
    if site.latitude is not None and site.longitude is not None:
        return Decimal(repr(site.latitude)), Decimal(repr(site.longitude))
    known = [
        (Decimal(repr(p.latitude)), Decimal(repr(p.longitude)))
        for p in site.piles
        if p.latitude is not None and p.longitude is not None
    ]
    if not known:
        raise PushDataError(f"site {site.site_name!r} and its piles have no coordinates")
    return (
        sum((lat for lat, _ in known), Decimal(0)) / len(known),
        sum((lng for _, lng in known), Decimal(0)) / len(known),
    )


def _equipment_info(pile: PileFacts, site_lat: Decimal, site_lng: Decimal) -> dict[str, Any]:
    if len(pile.station_id) > MAX_EQUIPMENT_ID:
        raise PushDataError(
            f"station id {pile.station_id!r} is longer than T/CEC's {MAX_EQUIPMENT_ID}-character "
            "EquipmentID"
        )
    if not pile.connectors:
        raise PushDataError(f"station {pile.station_id} has no connectors to report")
    connectors = [_connector_info(pile, c) for c in pile.connectors]
    currents = frozenset(c.current for c in pile.connectors if c.current is not None)
    if pile.rated_power_kw is not None:
        power = _kw(pile.rated_power_kw)
    else:
        power = _kw(sum((c["Power"] for c in connectors), Decimal(0)))
    if pile.latitude is not None and pile.longitude is not None:
        lat, lng = wgs84_to_gcj02(pile.latitude, pile.longitude)
    else:
        lat, lng = wgs84_to_gcj02(float(site_lat), float(site_lng))
    info: dict[str, Any] = {"EquipmentID": pile.station_id, "EquipmentName": pile.station_id}
    if pile.vendor is not None:
        info["ManufacturerName"] = pile.vendor
    if pile.model is not None:
        info["EquipmentModel"] = pile.model
    if pile.commissioned_on is not None:
        info["ProductionDate"] = pile.commissioned_on.strftime(_DAY)
    info.update(
        {
            "EquipmentType": EQUIPMENT_TYPES.get(currents, 5),
            "EquipmentLng": _degrees(Decimal(repr(lng))),
            "EquipmentLat": _degrees(Decimal(repr(lat))),
            "Power": power,
            "ConnectorInfos": connectors,
        }
    )
    return info


def _kw(value: Decimal) -> Decimal:
    return value.quantize(_TENTH, rounding=ROUND_HALF_UP)


def _connector_info(pile: PileFacts, connector: ConnectorFacts) -> dict[str, Any]:
    code = connector_code(pile.station_id, connector.evse_id, connector.connector_id)
    kw = connector.power_kw if connector.power_kw is not None else pile.rated_power_kw
    if kw is None:
        raise PushDataError(f"connector {code}: neither it nor its station has a rated power")
    if kw <= 0:
        raise PushDataError(f"connector {code}: rated power {kw} kW is not positive")
    if connector.current not in ("AC", "DC"):
        raise PushDataError(f"connector {code}: the registry does not say whether it is AC or DC")
    kind = CONNECTOR_DC_PLUG if connector.current == "DC" else CONNECTOR_AC_PLUG
    upper, lower, amperes = derived_limits(connector.current, kw)
    suffix = code[len(pile.station_id) + 1 :]
    return {
        "ConnectorID": code,
        "ConnectorName": f"枪{suffix}",
        "ConnectorType": kind,
        "VoltageUpperLimits": upper if pile.voltage_max_v is None else pile.voltage_max_v,
        "VoltageLowerLimits": lower if pile.voltage_min_v is None else pile.voltage_min_v,
        "Current": amperes if pile.current_a is None else pile.current_a,
        "Power": _kw(kw),
        "NationalStandard": NATIONAL_STANDARD_2015,
    }


def derived_limits(current: str, kw: Decimal) -> tuple[int, int, int]:
    """(upper V, lower V, A) from the standard supply, the fallback for unregistered limits:
    DC 750/200 V at P/750 V; AC up to 7 kW 220 V single-phase at P/220 V, above that 380 V
    three-phase at P/(sqrt(3) x 380 V); amperes rounded up."""
    watts = kw * 1000
    if current == "DC":
        upper, lower = DC_UPPER_V, DC_LOWER_V
        amperes = watts / DC_UPPER_V
    elif kw <= SINGLE_PHASE_MAX_KW:
        upper = lower = SINGLE_PHASE_V
        amperes = watts / SINGLE_PHASE_V
    else:
        upper = lower = THREE_PHASE_V
        amperes = watts / (Decimal(3).sqrt() * THREE_PHASE_V)
    return int(upper), int(lower), int(amperes.to_integral_value(rounding=ROUND_CEILING))


# -- charge orders ----------------------------------------------------------------------------


def charge_order(
    cdr: Mapping[str, Any],
    *,
    operator_id: str,
    connector_id: str,
    stop_reason: str | None,
    spelling: Spelling = Spelling.STANDARD,
) -> dict[str, Any]:
    """The T/CEC order of a billed session: one ChargeDetails line per CDR line.

    The lines add up exactly to the totals: DetailPower is split by centi_kwh, and the money
    totals are the sums of the lines, which must equal the CDR's own. TotalMoney is the CDR
    total, which also holds idle and session fees that T/CEC has no line for.
    """
    tid = cdr["transaction_id"]
    money = priced_lines(cdr, spelling, f"transaction {tid}")
    return {
        "StartChargeSeq": start_charge_seq(operator_id, tid),
        "ConnectorID": connector_id,
        "StartTime": cst_text(cdr["started_at"], f"transaction {tid} start"),
        "EndTime": cst_text(cdr["stopped_at"], f"transaction {tid} stop"),
        "TotalPower": money.power,
        "TotalElecMoney": money.elec,
        f"Total{spelling}Money": money.service,
        "TotalMoney": money.total,
        "StopReason": stop_reason_code(stop_reason),
        "SumPeriod": len(money.details),
        "ChargeDetails": money.details,
    }


@dataclass(frozen=True, slots=True)
class PricedLines:
    """A bill's lines as ChargeDetails and the totals they add up to (kWh 2 dp, CNY 2 dp)."""

    details: list[dict[str, Any]]
    power: Decimal
    elec: Decimal
    service: Decimal
    total: Decimal


def priced_lines(bill: Mapping[str, Any], spelling: Spelling, what: str) -> PricedLines:
    """ChargeDetails of a bill (a CDR, or a running session's bill so far): unit prices to
    0.0001 CNY/kWh, money to 0.01 CNY, energy split by centi_kwh so the lines add up exactly to
    the totals, which must equal the bill's own. PushDataError names what does not add up."""
    lines: Sequence[Mapping[str, Any]] = bill["lines"] or ()
    if len(lines) > MAX_PERIODS:
        raise PushDataError(
            f"{what} has {len(lines)} tariff lines; T/CEC carries at most {MAX_PERIODS}"
        )
    energy_wh = int(bill["energy_wh"])
    line_whs = [int(line["energy_wh"]) for line in lines]
    if energy_wh < 0:
        raise PushDataError(f"{what}: a credit (negative energy) is not an order")
    if sum(line_whs) != energy_wh:
        raise PushDataError(f"{what}: lines hold {sum(line_whs)} Wh but the record {energy_wh} Wh")
    powers = centi_kwh(line_whs)
    details: list[dict[str, Any]] = []
    for index, (line, power) in enumerate(zip(lines, powers, strict=True)):
        where = f"{what} line {index + 1}"
        details.append(
            {
                "DetailStartTime": cst_text(_parse_time(line["start"], where), where),
                "DetailEndTime": cst_text(_parse_time(line["end"], where), where),
                "ElecPrice": exact_to(line["energy_price"], PRICE, f"{where} energy price"),
                f"{spelling}Price": exact_to(
                    line["service_price"], PRICE, f"{where} service price"
                ),
                "DetailPower": power,
                "DetailElecMoney": exact_to(line["energy_money"], CENT, f"{where} energy money"),
                f"Detail{spelling}Money": exact_to(
                    line["service_money"], CENT, f"{where} service money"
                ),
            }
        )
    elec = sum((d["DetailElecMoney"] for d in details), Decimal("0.00"))
    service = sum((d[f"Detail{spelling}Money"] for d in details), Decimal("0.00"))
    for total, column in ((elec, "energy_money"), (service, "service_money")):
        recorded = exact_to(bill[column], CENT, f"{what} {column}")
        if total != recorded:
            raise PushDataError(
                f"{what}: its lines' {column} adds up to {total}, the record says {recorded}"
            )
    total_money = exact_to(bill["total"], CENT, f"{what} total")
    if total_money < elec + service:
        raise PushDataError(f"{what}: total {total_money} is less than energy and service money")
    return PricedLines(details, sum(powers, Decimal("0.00")), elec, service, total_money)


def _parse_time(value: Any, what: str) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise PushDataError(f"{what}: {value!r} is not an ISO 8601 time") from None


# -- statistics and prices --------------------------------------------------------------------


def station_stats(
    station_id: str,
    start: date,
    end: date,
    piles: Sequence[tuple[str, Sequence[tuple[str, int]]]],
) -> dict[str, Any]:
    """StationStats for [start, end]; piles are (EquipmentID, [(ConnectorID, Wh)]).

    The connectors are split together by centi_kwh, so each pile is the sum of its connectors
    and the station the sum of its piles, to the 0.01 kWh.
    """
    if end < start:
        raise PushDataError(f"statistics period {start} to {end} ends before it starts")
    flat = [wh for _, connectors in piles for _, wh in connectors]
    parts = iter(centi_kwh(flat))
    equipment: list[dict[str, Any]] = []
    for equipment_id, connectors in piles:
        infos: list[dict[str, Any]] = [
            {"ConnectorID": cid, "ConnectorElectricity": next(parts)} for cid, _ in connectors
        ]
        equipment.append(
            {
                "EquipmentID": equipment_id,
                "EquipmentElectricity": sum(
                    (c["ConnectorElectricity"] for c in infos), Decimal("0.00")
                ),
                "ConnectorStatsInfos": infos,
            }
        )
    return {
        "StationStats": {
            "StationID": station_id,
            "StartTime": start.strftime(_DAY),
            "EndTime": end.strftime(_DAY),
            "StationElectricity": sum(
                (e["EquipmentElectricity"] for e in equipment), Decimal("0.00")
            ),
            "EquipmentStatsInfos": equipment,
        }
    }


def policy_infos(
    tariff: Tariff, day: date, day_type: DayType, spelling: Spelling = Spelling.STANDARD
) -> dict[str, Any]:
    """The day's price periods as T/CEC PolicyInfos; adjacent periods of one band are one."""
    plan = tariff.plan_for(day, day_type)
    merged: list[tuple[int, Band]] = []
    for period in sorted(plan.periods, key=lambda p: p.start):
        if not merged or merged[-1][1] is not period.band:
            merged.append((period.start, period.band))
    if len(merged) > MAX_PERIODS:
        raise PushDataError(
            f"tariff {tariff.tariff_id} v{tariff.version} has {len(merged)} periods on {day}; "
            f"T/CEC allows at most {MAX_PERIODS}"
        )
    infos: list[dict[str, Any]] = []
    for start, band in merged:
        price = tariff.prices.get(band)
        if price is None:
            raise PushDataError(f"tariff {tariff.tariff_id} v{tariff.version} has no {band} price")
        what = f"tariff {tariff.tariff_id} v{tariff.version} {band}"
        infos.append(
            {
                "StartTime": f"{start // 60:02d}{start % 60:02d}00",
                "ElecPrice": exact_to(price.energy, PRICE, f"{what} energy price"),
                f"{spelling}Price": exact_to(price.service, PRICE, f"{what} service price"),
            }
        )
    return {"SumPeriod": len(infos), "PolicyInfos": infos}


# -- reading either spelling ------------------------------------------------------------------


def read_service(item: Mapping[str, Any], prefix: str, suffix: str) -> Any:
    """The value of f"{prefix}Sevice{suffix}" or f"{prefix}Service{suffix}", whichever is sent."""
    found = [
        item[key]
        for key in (f"{prefix}{s}{suffix}" for s in Spelling)
        if key in item and item[key] is not None
    ]
    if not found:
        raise PushDataError(f"{prefix}Sevice{suffix} (or {prefix}Service{suffix}) is missing")
    if len(found) == 2 and found[0] != found[1]:
        raise PushDataError(
            f"{prefix}Sevice{suffix} {found[0]!r} and {prefix}Service{suffix} {found[1]!r} differ"
        )
    return found[0]


def service_price(item: Mapping[str, Any], prefix: str = "") -> Decimal:
    """SevicePrice or ServicePrice (CNY/kWh) as a Decimal."""
    return decimal_of(read_service(item, prefix, "Price"), f"{prefix}ServicePrice")


def service_money(item: Mapping[str, Any], prefix: str) -> Decimal:
    """Total or Detail (prefix) SeviceMoney or ServiceMoney (CNY) as a Decimal."""
    return decimal_of(read_service(item, prefix, "Money"), f"{prefix}ServiceMoney")


def normalize(obj: Any) -> Any:
    """A copy with every "Sevice" in a key spelt "Service", for readers that want one spelling."""
    if isinstance(obj, Mapping):
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            name = (
                key.replace(Spelling.STANDARD.value, Spelling.CORRECTED.value)
                if isinstance(key, str)
                else key
            )
            value = normalize(value)
            if name in out and out[name] != value:
                raise PushDataError(f"{key} and {name} are both present and differ")
            out[name] = value
        return out
    if isinstance(obj, list | tuple):
        return [normalize(item) for item in obj]
    return obj
