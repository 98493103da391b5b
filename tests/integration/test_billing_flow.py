"""Sessions over real sockets become CDRs priced band by band, visible through the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from csms.bootstrap import Running
from csms.clock import isoformat, utcnow
from csms.domain.token import IdToken
from csms.store.tokens import TokenStore
from tests.conftest import Api
from tests.ocpp_client import OcppClient, open_client

# `make test-clock` runs it at a fixed moment too; clear_of_midnight: see tests/conftest.py
pytestmark = [pytest.mark.time_sensitive, pytest.mark.usefixtures("clear_of_midnight")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Readings every 15 minutes around a band edge at T (10 kWh before it, 16 kWh after), the
# last one "now": the stop's timestamp matches its receipt, so the clock shows no skew.
REGISTER = (1000, 6000, 11000, 19000, 27000)


def edge_time() -> datetime:
    """A whole local minute about 20 minutes ago (never midnight)."""
    t = (utcnow() - timedelta(minutes=20)).replace(second=0, microsecond=0)
    if t.astimezone(SHANGHAI).hour == 0 and t.astimezone(SHANGHAI).minute == 0:
        t -= timedelta(minutes=1)
    return t


def session_times(edge: datetime) -> list[str]:
    moments = [edge + timedelta(minutes=m) for m in (-30, -15, 0, 15)]
    return [isoformat(m) for m in [*moments, utcnow()]]


def two_band_tariff(edge: datetime, tariff_id: str = "city") -> dict[str, Any]:
    local = edge.astimezone(SHANGHAI)
    hhmm = f"{local.hour:02d}:{local.minute:02d}"
    return {
        "tariff_id": tariff_id,
        "name": "two bands",
        "effective_from": "2020-01-01T00:00:00+08:00",
        "prices": {
            "valley": {"energy": "0.3000", "service": "0.4000"},
            "flat": {"energy": "0.6000", "service": "0.6000"},
        },
        "plans": [
            {
                "periods": [
                    {"start": "00:00", "end": hhmm, "band": "valley"},
                    {"start": hhmm, "end": "24:00", "band": "flat"},
                ]
            }
        ],
    }


async def setup_network(api: Api, station_id: str, edge: datetime) -> None:
    created = await api.post(
        "/api/v1/stations",
        json={"id": station_id, "site_name": "Depot A", "rated_power_kw": "120"},
    )
    assert created.status_code == 201, created.text
    tariff = await api.post("/api/v1/tariffs", json=two_band_tariff(edge))
    assert tariff.status_code == 201, tariff.text
    assign = await api.post(
        "/api/v1/tariff-assignments",
        json={
            "tariff_id": "city",
            "scope": "network",
            "effective_from": "2020-01-01T00:00:00Z",
        },
    )
    assert assign.status_code == 201, assign.text


def check_two_band_cdr(cdr: dict[str, Any], edge: datetime) -> None:
    assert cdr["energy_wh"] == 26000 and cdr["energy_kwh"] == "26.000"
    lines = [
        (line["band"], line["energy_kwh"], line["energy_money"], line["service_money"])
        for line in cdr["lines"]
    ]
    assert lines == [
        ("valley", "10.000", "3.00", "4.00"),
        ("flat", "16.000", "9.60", "9.60"),
    ]
    assert datetime.fromisoformat(cdr["lines"][0]["end"]) == edge
    assert cdr["total"] == "26.20"
    assert cdr["allocation"] == "metered"
    assert cdr["tariff"] == {"id": "city", "version": 1}
    assert cdr["kind"] == "bill" and cdr["seq"] >= 1 and len(cdr["hash"]) == 64


async def run_v16_session(cp: OcppClient, edge: datetime) -> int:
    times = session_times(edge)
    start = await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "CARD-1", "meterStart": REGISTER[0], "timestamp": times[0]},
    )
    tx: int = start["transactionId"]
    for ts, wh in zip(times[1:-1], REGISTER[1:-1], strict=True):
        await cp.call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx,
                "meterValue": [
                    {
                        "timestamp": ts,
                        "sampledValue": [
                            {"value": str(wh), "measurand": "Energy.Active.Import.Register"}
                        ],
                    }
                ],
            },
        )
    await cp.call(
        "StopTransaction",
        {"transactionId": tx, "meterStop": REGISTER[-1], "timestamp": times[-1], "idTag": "CARD-1"},
    )
    return tx


async def test_v16_session_across_a_band_edge(csms: Running, api: Api) -> None:
    edge = edge_time()
    await setup_network(api, "CP-BILL", edge)
    await TokenStore(csms.pool).put(IdToken("CARD-1"))
    cp = await open_client(csms.ocpp_port, "CP-BILL", ["ocpp1.6"])
    await cp.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
    tx = await run_v16_session(cp, edge)
    bill = (await api.get(f"/api/v1/transactions/{tx}/bill")).json()
    assert bill["review"] is None, bill
    assert len(bill["cdrs"]) == 1
    check_two_band_cdr(bill["cdrs"][0], edge)
    assert bill["metering"]["verdict"] == "valid", bill["metering"]
    assert (await api.get(f"/api/v1/transactions/{tx}")).json()["cost"] == "26.20"
    verify = (await api.get("/api/v1/cdrs/verify", role="admin")).json()
    assert verify["ok"] and verify["chains"][0]["records"] == 1
    await cp.close()


async def test_v201_session_across_a_band_edge(csms: Running, api: Api) -> None:
    edge = edge_time()
    await setup_network(api, "CS-BILL", edge)
    await TokenStore(csms.pool).put(IdToken("CARD-2"))
    cs = await open_client(csms.ocpp_port, "CS-BILL", ["ocpp2.0.1"])
    await cs.call(
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"model": "DC", "vendorName": "A"}},
    )
    times = session_times(edge)

    def event(kind: str, seq: int, i: int, context: str, **extra: Any) -> dict[str, Any]:
        return {
            "eventType": kind,
            "timestamp": times[i],
            "triggerReason": {"Started": "Authorized", "Ended": "EVDeparted"}.get(
                kind, "MeterValuePeriodic"
            ),
            "seqNo": seq,
            "transactionInfo": {"transactionId": "TX-B", **extra.pop("info", {})},
            "meterValue": [
                {
                    "timestamp": times[i],
                    "sampledValue": [
                        {
                            "value": REGISTER[i] / 1000,
                            "context": context,
                            "measurand": "Energy.Active.Import.Register",
                            "unitOfMeasure": {"unit": "kWh"},
                        }
                    ],
                }
            ],
            **extra,
        }

    started = await cs.call(
        "TransactionEvent",
        event(
            "Started",
            0,
            0,
            "Transaction.Begin",
            evse={"id": 1, "connectorId": 1},
            idToken={"idToken": "CARD-2", "type": "ISO14443"},
            info={"chargingState": "Charging"},
        ),
    )
    assert "totalCost" not in started
    for i in (1, 2, 3):
        updated = await cs.call("TransactionEvent", event("Updated", i, i, "Sample.Periodic"))
    # The running total so far (cached for the cost interval, so at least the first update's).
    assert updated["totalCost"] >= 0
    ended = await cs.call(
        "TransactionEvent",
        event("Ended", 4, 4, "Transaction.End", info={"stoppedReason": "EVDisconnected"}),
    )
    assert ended["totalCost"] == 26.2
    cdrs = (await api.get("/api/v1/cdrs", params={"station_id": "CS-BILL"})).json()
    assert len(cdrs) == 1
    check_two_band_cdr(cdrs[0], edge)
    # A replayed Ended event gets the same total and files nothing new.
    again = await cs.call(
        "TransactionEvent",
        event("Ended", 4, 4, "Transaction.End", info={"stoppedReason": "EVDisconnected"}),
    )
    assert again["totalCost"] == 26.2
    assert len((await api.get("/api/v1/cdrs")).json()) == 1
    await cs.close()
