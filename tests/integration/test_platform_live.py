"""Live charging data (T/CEC 102.4 notification_equip_charge_status / query_equip_charge_status)
from a running 1.6 and 2.0.1 session over real sockets to a platform over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from csms.bootstrap import Running
from csms.domain.token import IdToken
from csms.store.tokens import TokenStore
from csms.tcec.messages import start_charge_seq
from simulators.platform.server import CHARGE_STATUS, PlatformSimulator
from tests.conftest import Api
from tests.integration.test_billing_flow import edge_time, session_times, setup_network
from tests.ocpp_client import OcppClient, open_client
from tests.platform_support import (
    OPERATOR_ID,
    add_platform,
    client_for,
    drained,
)

# the fixtures sim, pushing and papi
pytest_plugins = ("tests.platform_support",)
# tariff bands: `make test-clock` runs it fixed too; clear_of_midnight: see tests/conftest.py
pytestmark = [pytest.mark.time_sensitive, pytest.mark.usefixtures("clear_of_midnight")]

V16, V201 = "CP-L16", "CS-L201"
CONNECTORS = {V16: f"{V16}-1", V201: f"{V201}-1"}


def lives(sim: PlatformSimulator, connector: str) -> list[dict[str, Any]]:
    return [
        r.data
        for r in sim.received
        if r.method == CHARGE_STATUS and r.data["ConnectorID"] == connector
    ]


def register(when: str, wh: int) -> dict[str, Any]:
    """A 1.6 meterValue with the import register in Wh."""
    value = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    return {"timestamp": when, "sampledValue": [value]}


async def start_v16(cp: OcppClient, times: list[str]) -> int:
    await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    await cp.call(
        "StatusNotification", {"connectorId": 1, "status": "Charging", "errorCode": "NoError"}
    )
    start = await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "CARD-1", "meterStart": 1000, "timestamp": times[0]},
    )
    tx: int = start["transactionId"]
    values = [
        {"value": "6000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "230.14", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
        {"value": "229.5", "measurand": "Voltage", "phase": "L2-N", "unit": "V"},
        {"value": "231", "measurand": "Voltage", "phase": "L3-N", "unit": "V"},
        {"value": "16.05", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
        {"value": "15.9", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
        {"value": "16", "measurand": "Current.Import", "phase": "L3", "unit": "A"},
        {"value": "11", "measurand": "Power.Active.Import", "unit": "kW"},
    ]
    await cp.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx,
            "meterValue": [{"timestamp": times[1], "sampledValue": values}],
        },
    )
    return tx


async def start_v201(cs: OcppClient, times: list[str]) -> None:
    boot = {"reason": "PowerUp", "chargingStation": {"model": "DC", "vendorName": "V"}}
    await cs.call("BootNotification", boot)
    await cs.call(
        "StatusNotification",
        {"timestamp": times[0], "evseId": 1, "connectorId": 1, "connectorStatus": "Occupied"},
    )
    kwh = {"unitOfMeasure": {"unit": "kWh"}}
    await cs.call(
        "TransactionEvent",
        {
            "eventType": "Started",
            "timestamp": times[0],
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "TX-LIVE", "chargingState": "Charging"},
            "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": "CARD-2", "type": "ISO14443"},
            "meterValue": [
                {
                    "timestamp": times[0],
                    "sampledValue": [
                        {"value": 2.0, "measurand": "Energy.Active.Import.Register", **kwh}
                    ],
                }
            ],
        },
    )
    await cs.call("TransactionEvent", _v201_update(1, times[1], 12.5, 80))


def _v201_update(seq: int, when: str, kwh: float, soc: int) -> dict[str, Any]:
    return {
        "eventType": "Updated",
        "timestamp": when,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "transactionInfo": {"transactionId": "TX-LIVE"},
        "meterValue": [
            {
                "timestamp": when,
                "sampledValue": [
                    {
                        "value": kwh,
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "kWh"},
                    },
                    {"value": 402.26, "measurand": "Voltage", "unitOfMeasure": {"unit": "V"}},
                    {
                        "value": 148.04,
                        "measurand": "Current.Import",
                        "unitOfMeasure": {"unit": "A"},
                    },
                    {
                        "value": soc,
                        "measurand": "SoC",
                        "location": "EV",
                        "unitOfMeasure": {"unit": "Percent"},
                    },
                ],
            }
        ],
    }


async def _running_bill(api: Api, tx: int) -> dict[str, Any]:
    bill = (await api.get(f"/api/v1/transactions/{tx}/bill")).json()
    running: dict[str, Any] = bill["running_cost"]
    assert running is not None, bill
    return running


async def test_live_data_of_running_sessions_on_the_interval_and_on_query(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    created = await add_platform(papi, sim, live_interval=1)
    assert created["live_interval"] == 1 and "charge_status" in created["kinds"]
    assert created["methods"]["charge_status"] == "notification_equip_charge_status"
    edge = edge_time()
    times = session_times(edge)
    await setup_network(papi, V16, edge)
    second = await papi.post(
        "/api/v1/stations", json={"id": V201, "site_name": "Depot A", "rated_power_kw": "120"}
    )
    assert second.status_code == 201, second.text
    for card in ("CARD-1", "CARD-2"):
        await TokenStore(pushing.pool).put(IdToken(card))
    loop = asyncio.get_running_loop()
    began = loop.time()
    cp = await open_client(pushing.ocpp_port, V16, ["ocpp1.6"])
    cs = await open_client(pushing.ocpp_port, V201, ["ocpp2.0.1"])
    tx16 = await start_v16(cp, times)
    await start_v201(cs, times)
    tx201 = await pushing.pool.fetchval(
        "SELECT id FROM transactions WHERE station_tx_id = 'TX-LIVE'"
    )

    # records keep coming, one per connector per interval (1 s here)
    await sim.wait_for(lambda s: all(len(lives(s, c)) >= 3 for c in CONNECTORS.values()), 20)
    elapsed = loop.time() - began
    for connector in CONNECTORS.values():
        assert len(lives(sim, connector)) <= elapsed / 1 + 3  # not more often than the interval

    # 1.6: three phases, the register's rise since meterStart, the bill so far
    live = lives(sim, CONNECTORS[V16])[-1]
    assert live["StartChargeSeq"] == start_charge_seq(OPERATOR_ID, tx16)
    assert (live["StartChargeSeqStat"], live["ConnectorStatus"]) == (2, 3)
    currents = [str(live[f"Current{p}"]) for p in "ABC"]
    voltages = [str(live[f"Voltage{p}"]) for p in "ABC"]
    assert currents == ["16.1", "15.9", "16.0"] and voltages == ["230.1", "229.5", "231.0"]
    assert str(live["Soc"]) == "0.0"  # not reported: T/CEC's default
    assert str(live["TotalPower"]) == "5.00"
    running = await _running_bill(papi, tx16)
    assert str(live["ElecMoney"]) == running["energy_money"] == "1.50"  # 5 kWh x 0.3000
    assert str(live["SeviceMoney"]) == running["service_money"] == "2.00"  # x 0.4000
    assert str(live["TotalMoney"]) == running["total"] == "3.50"
    assert live["SumPeriod"] == len(live["ChargeDetails"]) == 1
    [detail] = live["ChargeDetails"]
    assert (str(detail["ElecPrice"]), str(detail["SevicePrice"])) == ("0.3000", "0.4000")
    assert (str(detail["DetailPower"]), str(detail["DetailElecMoney"])) == ("5.00", "1.50")

    # 2.0.1: a DC value is phase A, SoC from the EV, energy since the first reading
    live = lives(sim, CONNECTORS[V201])[-1]
    assert live["StartChargeSeq"] == start_charge_seq(OPERATOR_ID, tx201)
    assert (live["StartChargeSeqStat"], live["ConnectorStatus"]) == (2, 3)
    assert (str(live["CurrentA"]), str(live["VoltageA"]), str(live["Soc"])) == (
        "148.0",
        "402.3",
        "80.0",
    )
    assert (str(live["CurrentB"]), str(live["VoltageC"])) == ("0.0", "0.0")
    assert str(live["TotalPower"]) == "10.50"
    running = await _running_bill(papi, tx201)
    assert str(live["TotalMoney"]) == running["total"] == "7.35"  # 10.5 x (0.3 + 0.4)

    # the platform asks: the same builder answers, and an ended session answers 4
    async with client_for(pushing) as client:
        await client.fetch_token()
        seq = start_charge_seq(OPERATOR_ID, tx201)
        answer = await client.query("query_equip_charge_status", {"StartChargeSeq": seq})
        assert answer.ret == 0, answer.msg
        assert answer.data["StartChargeSeqStat"] == 2
        assert str(answer.data["TotalPower"]) == "10.50"
        assert answer.data["ConnectorID"] == CONNECTORS[V201]
        unknown = await client.query(
            "query_equip_charge_status", {"StartChargeSeq": OPERATOR_ID + "9" * 18}
        )
        assert unknown.ret == 4004 and "no charging session" in unknown.msg
        await cs.call(
            "TransactionEvent",
            {
                **_v201_update(2, times[2], 14.0, 90),
                "eventType": "Ended",
                "triggerReason": "EVDeparted",
                "transactionInfo": {"transactionId": "TX-LIVE", "stoppedReason": "Local"},
            },
        )
        ended = await client.query("query_equip_charge_status", {"StartChargeSeq": seq})
        assert ended.ret == 0 and ended.data["StartChargeSeqStat"] == 4
        assert str(ended.data["TotalPower"]) == "12.00"
    await drained(pushing)
    order = sim.orders[start_charge_seq(OPERATOR_ID, tx201)]
    assert str(order["TotalPower"]) == "12.00"
    await cp.close()
    await cs.close()


async def test_a_platform_that_was_down_gets_the_latest_live_state_then_the_order(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    await add_platform(papi, sim, live_interval=1)
    edge = edge_time()
    times = session_times(edge)
    await setup_network(papi, V16, edge)
    await TokenStore(pushing.pool).put(IdToken("CARD-1"))
    cp = await open_client(pushing.ocpp_port, V16, ["ocpp1.6"])
    tx = await start_v16(cp, times)
    connector = CONNECTORS[V16]
    await sim.wait_for(lambda s: len(lives(s, connector)) >= 1, 20)
    port = sim.port
    await sim.stop()
    arrived_before = len(lives(sim, connector))

    # while the platform is down the meter moves on; rounds keep replacing the unsent record
    for when, wh in ((times[2], 11000), (times[3], 19000)):
        await cp.call(
            "MeterValues",
            {"connectorId": 1, "transactionId": tx, "meterValue": [register(when, wh)]},
        )
        await asyncio.sleep(2.5)  # two rounds or more
    waiting = await pushing.pool.fetch(
        """SELECT coalesce_key, count(*) AS n FROM platform_outbox
           WHERE kind = 'charge_status' AND state <> 'sent' GROUP BY coalesce_key"""
    )
    assert [(r["coalesce_key"], r["n"]) for r in waiting] == [(f"live:{V16}:1:1", 1)]
    await cp.call(
        "StopTransaction",
        {"transactionId": tx, "meterStop": 27000, "timestamp": times[-1], "idTag": "CARD-1"},
    )
    await cp.call(
        "StatusNotification", {"connectorId": 1, "status": "Finishing", "errorCode": "NoError"}
    )

    await sim.start(port=port)
    await drained(pushing)
    after = [
        (r.method, r.data)
        for r in sim.received
        if r.method in (CHARGE_STATUS, "notification_charge_order_info")
    ][arrived_before:]
    # one live record, the latest (19 kWh on the register: 18 kWh since meterStart), then
    # the order; no backlog of the rounds the platform missed
    assert [method for method, _ in after] == [CHARGE_STATUS, "notification_charge_order_info"]
    assert str(after[0][1]["TotalPower"]) == "18.00"
    order = after[1][1]
    assert order["StartChargeSeq"] == start_charge_seq(OPERATOR_ID, tx)
    assert str(order["TotalPower"]) == "26.00" and str(order["TotalMoney"]).count(".") == 1
    assert len(str(order["TotalMoney"]).split(".")[1]) == 2
    # a live record is never sent again by hand: the next round is the current state
    [sent] = await pushing.pool.fetch(
        """SELECT id FROM platform_outbox WHERE kind = 'charge_status' AND state = 'sent'
           ORDER BY id DESC LIMIT 1"""
    )
    await pushing.pool.execute("UPDATE platform_outbox SET state = 'failed' WHERE id = $1", sent[0])
    again = await papi.post(f"/api/v1/platforms/province/outbox/{sent[0]}/retry")
    assert again.status_code == 409 and "live charging data" in again.text
    await cp.close()
