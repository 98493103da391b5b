"""Live charging data of a running session (T/CEC 102.4 charge status), built from its latest
meter samples and its bill so far (pure).

One builder serves the push (notification_equip_charge_status) and the platform's query
(query_equip_charge_status). The outbox keeps our own JSON (`live_facts`); `charge_status`
renders it per platform. Field names and units follow ConnectorChargeStatusInfo as provincial
platforms use it: currents in A and voltages in V per phase (A also holds a DC or single-phase
value), Soc in %, each 0 when the station reports none (T/CEC's default), TotalPower in kWh and
money in CNY to 0.01, unit prices to 0.0001.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from csms.billing.pricing import Bill
from csms.domain.meter import ENERGY_REGISTER, Sample, energy_wh
from csms.tcec.codes import CONNECTOR_STATUSES, PushDataError
from csms.tcec.messages import (
    Spelling,
    centi_kwh,
    connector_code,
    cst_text,
    priced_lines,
    start_charge_seq,
)

# StartChargeSeqStat: 1 starting, 2 charging, 3 stopping, 4 ended, 5 unknown
SEQ_CHARGING: Final = 2
SEQ_ENDED: Final = 4

VOLTAGE: Final = "Voltage"
CURRENT: Final = "Current.Import"
SOC: Final = "SoC"
POWER: Final = "Power.Active.Import"
MEASURANDS: Final = (ENERGY_REGISTER, VOLTAGE, CURRENT, SOC, POWER)

# Phase labels per T/CEC phase A, B, C, most specific first; "" is an unphased value (DC, or
# an AC meter that reports one figure), which counts as phase A.
_VOLTAGE_PHASES: Final = (("L1-N", "L1", ""), ("L2-N", "L2"), ("L3-N", "L3"))
_CURRENT_PHASES: Final = (("L1", ""), ("L2",), ("L3",))
_OUTLET: Final = ("", "Outlet")
_TENTH: Final = Decimal("0.1")
_POWER_SCALE: Final = {"W": Decimal(1), "": Decimal(1), "kW": Decimal(1000)}


def _pick(
    samples: Sequence[Sample], measurand: str, units: Iterable[str], phases: Sequence[str]
) -> Sample | None:
    """The sample of the first phase label that has one (samples are the latest per phase)."""
    allowed = frozenset(units)
    for phase in phases:
        for s in samples:
            if (
                s.measurand == measurand
                and s.phase == phase
                and s.unit in allowed
                and s.value is not None
                and (measurand == SOC or s.location in _OUTLET)
            ):
                return s
    return None


def _text(sample: Sample | None) -> str | None:
    return None if sample is None or sample.value is None else str(sample.value)


def live_facts(
    session: Mapping[str, Any],
    samples: Sequence[Sample],
    bill: Mapping[str, Any] | None,
    *,
    status: int,
    now: datetime,
) -> dict[str, Any]:
    """Our JSON of a session's live state: where, since when, the latest sample of each
    measurand (the newest sample per measurand and phase), the energy so far and the bill so
    far (`bill_data`, None when the session cannot be priced yet: no tariff, or meter data
    billing would hold for review). Without a bill the energy is the register's rise since the
    start (1.6 meterStart, else the first reading)."""
    register = _pick(samples, ENERGY_REGISTER, ("", "Wh", "kWh"), ("",))
    latest_wh = None if register is None else energy_wh(register)
    start_wh = session.get("meter_start_wh")
    if start_wh is None:
        start_wh = session.get("first_wh")
    if bill is not None:
        energy = int(bill["energy_wh"])
    elif latest_wh is not None and start_wh is not None:
        energy = max(0, latest_wh - int(start_wh))
    else:
        energy = 0
    power = _pick(samples, POWER, _POWER_SCALE, ("",))
    sampled = max((s.sampled_at for s in samples), default=now)
    return {
        "transaction_id": int(session["transaction_id"]),
        "station_id": session["station_id"],
        "evse_id": session["evse_id"],
        "connector_id": session["connector_id"],
        "ended": session.get("status", "open") != "open",
        "status": status,
        "started_at": session["started_at"].isoformat(),
        "sampled_at": sampled.isoformat(),
        "energy_wh": energy,
        "power_w": None
        if power is None or power.value is None
        else str(power.value * _POWER_SCALE[power.unit]),
        "voltage": [_text(_pick(samples, VOLTAGE, ("", "V"), p)) for p in _VOLTAGE_PHASES],
        "current": [_text(_pick(samples, CURRENT, ("", "A"), p)) for p in _CURRENT_PHASES],
        "soc": _text(_pick(samples, SOC, ("", "Percent"), ("",))),
        "bill": bill,
    }


def bill_data(bill: Bill) -> dict[str, Any]:
    """A bill so far in the shape of a CDR's money and lines (exact decimals as text)."""
    return {
        "energy_wh": bill.energy_wh,
        "energy_money": str(bill.energy_money),
        "service_money": str(bill.service_money),
        "total": str(bill.total),
        "lines": [
            {
                "start": line.start.isoformat(),
                "end": line.end.isoformat(),
                "energy_wh": line.energy_wh,
                "energy_price": str(line.energy_price),
                "service_price": str(line.service_price),
                "energy_money": str(line.energy_money),
                "service_money": str(line.service_money),
            }
            for line in bill.lines
        ],
    }


def _tenth(value: str | None, what: str) -> Decimal:
    """A measured value to 0.1 (T/CEC's default 0 when the station reports none)."""
    if value is None:
        return Decimal("0.0")
    number = Decimal(value)
    if not number.is_finite():
        raise PushDataError(f"{what} {value} is not a number")
    return number.quantize(_TENTH, rounding=ROUND_HALF_UP)


def charge_status(
    facts: Mapping[str, Any], *, operator_id: str, spelling: Spelling = Spelling.STANDARD
) -> dict[str, Any]:
    """The T/CEC charge status Data (ConnectorChargeStatusInfo fields) of `live_facts`.

    StartChargeSeqStat is 2 while the session runs and 4 once it ended; EndTime is the time of
    the latest sample (T/CEC: 本次采样时间). The money and ChargeDetails are the bill so far,
    built exactly as the order's (`priced_lines`); a session that cannot be priced yet sends
    its energy with SumPeriod 0 and no money fields rather than a made-up amount.
    """
    tid = int(facts["transaction_id"])
    what = f"transaction {tid}"
    status = int(facts["status"])
    if status not in CONNECTOR_STATUSES:
        raise PushDataError(f"{status} is not a T/CEC connector status")
    started = datetime.fromisoformat(facts["started_at"])
    sampled = datetime.fromisoformat(facts["sampled_at"])
    current, voltage = facts["current"], facts["voltage"]
    data: dict[str, Any] = {
        "StartChargeSeq": start_charge_seq(operator_id, tid),
        "StartChargeSeqStat": SEQ_ENDED if facts["ended"] else SEQ_CHARGING,
        "ConnectorID": connector_code(
            facts["station_id"], facts["evse_id"] or 1, facts["connector_id"] or 1
        ),
        "ConnectorStatus": status,
    }
    for index, phase in enumerate("ABC"):
        data[f"Current{phase}"] = _tenth(current[index], f"{what} current {phase}")
    for index, phase in enumerate("ABC"):
        data[f"Voltage{phase}"] = _tenth(voltage[index], f"{what} voltage {phase}")
    data["Soc"] = _tenth(facts["soc"], f"{what} SoC")
    data["StartTime"] = cst_text(started, f"{what} start")
    data["EndTime"] = cst_text(max(sampled, started), f"{what} sample")
    bill = facts.get("bill")
    if bill is None:
        data["TotalPower"] = centi_kwh([int(facts["energy_wh"])])[0]
        data["SumPeriod"] = 0
        data["ChargeDetails"] = []
        return data
    money = priced_lines(bill, spelling, what)
    data["TotalPower"] = money.power
    data["ElecMoney"] = money.elec
    data[f"{spelling}Money"] = money.service
    data["TotalMoney"] = money.total
    data["SumPeriod"] = len(money.details)
    data["ChargeDetails"] = money.details
    return data
