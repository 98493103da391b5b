"""Meter data decides the bill: rejected data is queued, flagged data is billed with reasons,
idle time and signed values reach the CDR, running costs reach stations, sites get demand."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from csms.bootstrap import Running, running
from csms.clock import isoformat, utcnow
from csms.domain.station import AdminState
from csms.domain.token import IdToken
from csms.services.events import Event, Subscription
from csms.store.stations import StationStore
from csms.store.tokens import TokenStore
from tests.conftest import ADMIN_TOKEN, Api, make_settings
from tests.ocpp_client import OcppClient, open_client

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

REGISTER = "Energy.Active.Import.Register"
CARD = "CARD-M"
_ids = itertools.count(1)


# --- helpers -----------------------------------------------------------------------------------


def now_ms() -> datetime:
    """Now, to the millisecond OCPP timestamps carry (so differences stay exact)."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def flat_tariff(idle_fee: dict[str, Any] | None = None) -> dict[str, Any]:
    """One band all day: 0.60 electricity + 0.40 service = 1.00 CNY per kWh."""
    body: dict[str, Any] = {
        "tariff_id": "flat",
        "name": "flat",
        "effective_from": "2020-01-01T00:00:00+08:00",
        "prices": {"flat": {"energy": "0.6000", "service": "0.4000"}},
        "plans": [{"periods": [{"start": "00:00", "end": "24:00", "band": "flat"}]}],
    }
    if idle_fee is not None:
        body["idle_fee"] = idle_fee
    return body


async def add_station(api: Api, station_id: str, **metadata: Any) -> None:
    body = {
        "id": station_id,
        "site_name": "Depot M",
        "owner_unit": "Unit 7",
        "operator_id": "op-m",
        "rated_power_kw": "120",
        "meter_cert_number": "JJG-1149-001",
        "meter_cert_expires_on": "2099-12-31",
        **metadata,
    }
    created = await api.post("/api/v1/stations", json=body)
    assert created.status_code == 201, created.text


async def set_up(
    csms: Running,
    api: Api,
    station_id: str,
    *,
    assign: bool = True,
    idle_fee: dict[str, Any] | None = None,
    **metadata: Any,
) -> None:
    """A station, the flat tariff (assigned to the whole network unless told not to), a card."""
    await add_station(api, station_id, **metadata)
    tariff = await api.post("/api/v1/tariffs", json=flat_tariff(idle_fee))
    assert tariff.status_code == 201, tariff.text
    if assign:
        assigned = await api.post(
            "/api/v1/tariff-assignments",
            json={"tariff_id": "flat", "scope": "network", "effective_from": "2020-01-01T00:00Z"},
        )
        assert assigned.status_code == 201, assigned.text
    await TokenStore(csms.pool).put(IdToken(CARD))


async def boot16(csms: Running, station_id: str) -> OcppClient:
    cp = await open_client(csms.ocpp_port, station_id, ["ocpp1.6"])
    await cp.call("BootNotification", {"chargePointVendor": "T", "chargePointModel": "M"})
    return cp


async def boot201(csms: Running, station_id: str) -> OcppClient:
    cs = await open_client(csms.ocpp_port, station_id, ["ocpp2.0.1"])
    await cs.call(
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "T"}},
    )
    return cs


def meter_value(at: datetime, wh: int) -> dict[str, Any]:
    """One 1.6 meterValue entry holding the import register in Wh."""
    return {"timestamp": isoformat(at), "sampledValue": [{"value": str(wh), "measurand": REGISTER}]}


async def start16(cp: OcppClient, at: datetime, wh: int, connector: int = 1) -> int:
    started = await cp.call(
        "StartTransaction",
        {"connectorId": connector, "idTag": CARD, "meterStart": wh, "timestamp": isoformat(at)},
    )
    tx: int = started["transactionId"]
    return tx


async def meter16(
    cp: OcppClient, at: datetime, wh: int, tx: int | None, connector: int = 1
) -> None:
    payload: dict[str, Any] = {"connectorId": connector, "meterValue": [meter_value(at, wh)]}
    if tx is not None:
        payload["transactionId"] = tx
    await cp.call("MeterValues", payload)


async def stop16(cp: OcppClient, tx: int, at: datetime, wh: int) -> None:
    await cp.call(
        "StopTransaction",
        {"transactionId": tx, "meterStop": wh, "timestamp": isoformat(at), "idTag": CARD},
    )


async def session16(cp: OcppClient, readings: list[tuple[datetime, int]]) -> int:
    """Start at the first reading, MeterValues for the middle ones, stop at the last."""
    tx = await start16(cp, *readings[0])
    for at, wh in readings[1:-1]:
        await meter16(cp, at, wh, tx)
    await stop16(cp, tx, *readings[-1])
    return tx


async def status16(cp: OcppClient, at: datetime, status: str, connector: int = 1) -> None:
    await cp.call(
        "StatusNotification",
        {
            "connectorId": connector,
            "errorCode": "NoError",
            "status": status,
            "timestamp": isoformat(at),
        },
    )


IDLE_FEE = {"per_minute": "0.5000", "grace_minutes": 10, "cap": "20.00"}


def check_idle_cdr(cdr: dict[str, Any], idle_from: datetime) -> None:
    """10 kWh while charging, then 25 minutes parked: 15 billable minutes at 0.50."""
    assert cdr["verdict"] == "valid", cdr["reasons"]
    assert cdr["energy_wh"] == 10_000 and cdr["allocation"] == "metered"
    assert cdr["idle_minutes"] == 25 and cdr["idle_fee"] == "7.50"
    assert cdr["detail"]["idle_billable_minutes"] == 15
    assert datetime.fromisoformat(cdr["detail"]["idle_from"]) == idle_from
    lines = sum(
        Decimal(line["energy_money"]) + Decimal(line["service_money"]) for line in cdr["lines"]
    )
    assert lines == Decimal("10.00")
    assert Decimal(cdr["total"]) == lines + Decimal("7.50") == Decimal("17.50")


async def idle_session16(cp: OcppClient) -> tuple[int, datetime]:
    """1.6: Charging for 30 minutes (10 kWh), SuspendedEV at T, stopped now at T + 25 min."""
    end = now_ms()
    idle_from = end - timedelta(minutes=25)
    begin = idle_from - timedelta(minutes=30)
    tx = await start16(cp, begin, 1000)
    await status16(cp, begin, "Charging")
    await meter16(cp, idle_from, 11_000, tx)
    await status16(cp, idle_from, "SuspendedEV")
    await stop16(cp, tx, end, 11_000)
    await status16(cp, end, "Finishing")
    return tx, idle_from


def sampled(wh: int, context: str, **extra: Any) -> dict[str, Any]:
    """A 2.0.1 register sampledValue in kWh."""
    return {
        "value": wh / 1000,
        "context": context,
        "measurand": REGISTER,
        "unitOfMeasure": {"unit": "kWh"},
        **extra,
    }


def tx_event(
    kind: str,
    seq: int,
    at: datetime,
    tx_id: str,
    wh: int | None = None,
    *,
    state: str | None = None,
    samples: list[tuple[datetime, int]] | None = None,
    signed: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A 2.0.1 TransactionEvent; `wh` is a register sample at the event time."""
    context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(
        kind, "Sample.Periodic"
    )
    info: dict[str, Any] = {"transactionId": tx_id}
    if state is not None:
        info["chargingState"] = state
    if kind == "Ended":
        info["stoppedReason"] = "EVDisconnected"
    event: dict[str, Any] = {
        "eventType": kind,
        "timestamp": isoformat(at),
        "triggerReason": {"Started": "Authorized", "Ended": "EVDeparted"}.get(
            kind, "ChargingStateChanged" if state else "MeterValuePeriodic"
        ),
        "seqNo": seq,
        "transactionInfo": info,
    }
    readings = list(samples or [])
    if wh is not None:
        readings.append((at, wh))
    if readings:
        extra = {"signedMeterValue": signed} if signed is not None else {}
        event["meterValue"] = [
            {"timestamp": isoformat(t), "sampledValue": [sampled(v, context, **extra)]}
            for t, v in readings
        ]
    if kind == "Started":
        event["evse"] = {"id": 1, "connectorId": 1}
        event["idToken"] = {"idToken": CARD, "type": "ISO14443"}
    return event


async def tx_pk(api: Api, station_id: str) -> int:
    """The CSMS id of the station's only transaction."""
    rows = (await api.get("/api/v1/transactions", params={"station_id": station_id})).json()
    assert len(rows) == 1, rows
    pk: int = rows[0]["id"]
    return pk


async def bill_of(api: Api, tx: int) -> dict[str, Any]:
    response = await api.get(f"/api/v1/transactions/{tx}/bill")
    assert response.status_code == 200, response.text
    bill: dict[str, Any] = response.json()
    return bill


async def only_cdr(api: Api, tx: int) -> dict[str, Any]:
    bill = await bill_of(api, tx)
    assert bill["review"] is None, bill
    assert len(bill["cdrs"]) == 1, bill
    cdr: dict[str, Any] = bill["cdrs"][0]
    return cdr


async def pending_review(api: Api, tx: int) -> dict[str, Any]:
    reviews = (await api.get("/api/v1/billing/reviews")).json()
    mine = [r for r in reviews if r["transaction_id"] == tx]
    assert len(mine) == 1, reviews
    review: dict[str, Any] = mine[0]
    assert review["status"] == "pending"
    return review


def codes(reasons: list[dict[str, str]]) -> set[str]:
    return {reason["code"] for reason in reasons}


class AnsweringStation:
    """A 2.0.1 station that answers every CSMS CALL with [3, id, {}], also while it waits for
    the reply to one of its own CALLs, and remembers what it was sent."""

    def __init__(self, client: OcppClient) -> None:
        self.client = client
        self.received: list[tuple[str, dict[str, Any]]] = []

    async def _answer(self, frame: list[Any]) -> tuple[str, dict[str, Any]]:
        _, unique_id, action, payload = frame
        self.received.append((action, payload))
        await self.client.ws.send(json.dumps([3, unique_id, {}]))
        return action, payload

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        unique_id = f"s{next(_ids)}"
        await self.client.ws.send(json.dumps([2, unique_id, action, payload]))
        while True:
            frame = await self.client.recv()
            if frame[0] == 2:
                await self._answer(frame)
                continue
            assert frame[:2] == [3, unique_id], frame
            result: dict[str, Any] = frame[2]
            return result

    async def expect(self, action: str, timeout: float = 5) -> dict[str, Any]:
        """The payload of the next (or an already received) CALL named `action`."""
        for name, payload in self.received:
            if name == action:
                return payload
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.client.recv(timeout)
                if frame[0] == 2:
                    name, payload = await self._answer(frame)
                    if name == action:
                        return payload


@contextlib.asynccontextmanager
async def api_for(csms: Running) -> AsyncIterator[Api]:
    """The API of a CSMS started with other settings (the admin token holds every role)."""
    keys = dict.fromkeys(("admin", "operator", "viewer"), ADMIN_TOKEN)
    base = f"http://127.0.0.1:{csms.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield Api(client, keys)


def drain(events: Subscription) -> list[Event]:
    out = []
    while not events.queue.empty():
        out.append(events.queue.get_nowait())
    return out


# --- 1. rejected meter data is queued, not billed ------------------------------------------------


@pytest.mark.parametrize(
    ("rated_kw", "register", "rule", "wording"),
    [
        # 5000 then 3000 Wh: not a rollover, not a reset to near zero
        ("120", (1000, 5000, 3000, 6000), "register_decreased", "register decreased"),
        # 10 kWh in 30 minutes from a 7 kW charger: at most 3.675 kWh is possible
        ("7", (1000, 6000, 11000), "energy_exceeds_rating", "7000 W can deliver"),
    ],
)
async def test_rejected_meter_data_is_queued_then_approved(
    csms: Running, api: Api, rated_kw: str, register: tuple[int, ...], rule: str, wording: str
) -> None:
    """No CDR; a metering review names the rule; approval bills it as rejected, once."""
    await set_up(csms, api, "CP-REJ", rated_power_kw=rated_kw)
    cp = await boot16(csms, "CP-REJ")
    end = now_ms()
    step = timedelta(minutes=30) / (len(register) - 1)
    readings = [(end - step * (len(register) - 1 - i), wh) for i, wh in enumerate(register)]
    tx = await session16(cp, readings)
    await cp.close()

    bill = await bill_of(api, tx)
    assert bill["cdrs"] == [] and bill["total"] is None
    assert bill["metering"]["verdict"] == "rejected"
    assert rule in codes(bill["metering"]["reasons"])
    review = await pending_review(api, tx)
    assert review["cause"] == "metering" and review["station_id"] == "CP-REJ"
    assert wording in review["detail"], review["detail"]
    assert bill["review"]["cause"] == "metering"

    approved = await api.post(
        f"/api/v1/billing/reviews/{tx}/approve", json={"note": "meter swap, checked on site"}
    )
    assert approved.status_code == 201, approved.text
    cdr = approved.json()
    assert cdr["verdict"] == "rejected" and rule in codes(cdr["reasons"])
    assert cdr["metering"]["verdict"] == "rejected"
    assert cdr["detail"]["note"] == "approved on review: meter swap, checked on site"
    assert cdr["energy_wh"] == register[-1] - register[0]
    assert Decimal(cdr["total"]) == Decimal(cdr["energy_wh"]) / 1000  # 1.00 CNY per kWh
    assert cdr["created_by"] != "system"

    again = await api.post(f"/api/v1/billing/reviews/{tx}/approve", json={"note": "again"})
    assert again.status_code == 409, again.text
    bill = await bill_of(api, tx)
    assert [c["id"] for c in bill["cdrs"]] == [cdr["id"]]
    assert bill["review"]["status"] == "billed"
    assert (await api.get("/api/v1/billing/reviews")).json() == []


async def test_voided_review_is_not_billed(csms: Running, api: Api) -> None:
    """Voiding closes the review with its note and files no CDR; it cannot be approved after."""
    await set_up(csms, api, "CP-VOID")
    cp = await boot16(csms, "CP-VOID")
    end = now_ms()
    minutes = [timedelta(minutes=m) for m in (30, 20, 10, 0)]
    register = (1000, 5000, 3000, 6000)
    tx = await session16(cp, [(end - m, wh) for m, wh in zip(minutes, register, strict=True)])
    await cp.close()
    await pending_review(api, tx)

    voided = await api.post(f"/api/v1/billing/reviews/{tx}/void", json={"note": "test drive"})
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided" and voided.json()["note"] == "test drive"
    bill = await bill_of(api, tx)
    assert bill["cdrs"] == [] and bill["review"]["status"] == "voided"
    late = await api.post(f"/api/v1/billing/reviews/{tx}/approve", json={"note": "oops"})
    assert late.status_code == 409, late.text
    assert (await api.get("/api/v1/cdrs")).json() == []


# --- 2. no tariff in force ---------------------------------------------------------------------


async def test_no_tariff_in_force_is_queued(csms: Running, api: Api) -> None:
    """Valid data but no assignment: a no_tariff review that says how to fix it; once fixed,
    approval bills the session as the automatic path would (idle fee included)."""
    await set_up(csms, api, "CP-NOTARIFF", assign=False, idle_fee=IDLE_FEE)
    cp = await boot16(csms, "CP-NOTARIFF")
    tx, idle_from = await idle_session16(cp)
    await cp.close()

    review = await pending_review(api, tx)
    assert review["cause"] == "no_tariff"
    assert "CP-NOTARIFF" in review["detail"] and "assign one" in review["detail"]
    assert "network" in review["detail"]
    bill = await bill_of(api, tx)
    assert bill["cdrs"] == [] and bill["metering"]["verdict"] == "valid"
    assert (await api.get("/api/v1/cdrs")).json() == []

    assigned = await api.post(
        "/api/v1/tariff-assignments",
        json={"tariff_id": "flat", "scope": "network", "effective_from": "2020-01-01T00:00Z"},
    )
    assert assigned.status_code == 201, assigned.text
    approved = await api.post(f"/api/v1/billing/reviews/{tx}/approve", json={"note": "assigned"})
    assert approved.status_code == 201, approved.text
    check_idle_cdr(approved.json(), idle_from)
    assert approved.json()["detail"]["note"] == "approved on review: assigned"


# --- 3. flagged data is billed with its reasons ------------------------------------------------


async def test_expired_meter_certificate_is_billed_flagged(csms: Running, api: Api) -> None:
    """A session on a charger whose verification lapsed is billed, flagged with the reason."""
    await set_up(csms, api, "CP-CERT", meter_cert_expires_on="2021-06-30")
    cp = await boot16(csms, "CP-CERT")
    end = now_ms()
    tx = await session16(
        cp, [(end - timedelta(minutes=20), 1000), (end - timedelta(minutes=10), 4000), (end, 7000)]
    )
    await cp.close()

    cdr = await only_cdr(api, tx)
    assert cdr["verdict"] == "flagged"
    [reason] = cdr["reasons"]
    assert reason["code"] == "meter_certificate_expired" and reason["severity"] == "flag"
    assert "JJG-1149-001" in reason["message"] and "2021-06-30" in reason["message"]
    assert cdr["energy_wh"] == 6000 and cdr["total"] == "6.00"
    assert (await bill_of(api, tx))["metering"]["verdict"] == "flagged"


async def test_v201_clock_ahead_is_billed_flagged(csms: Running, api: Api) -> None:
    """Station timestamps 30 s ahead of the CSMS clock: billed, flagged clock_skew."""
    await set_up(csms, api, "CS-SKEW")
    cs = await boot201(csms, "CS-SKEW")
    ahead = timedelta(seconds=30)
    start = now_ms() - timedelta(minutes=10) + ahead
    await cs.call("TransactionEvent", tx_event("Started", 0, start, "TX-SKEW", 1000))
    ended = await cs.call(
        "TransactionEvent", tx_event("Ended", 1, now_ms() + ahead, "TX-SKEW", 3000)
    )
    assert ended["totalCost"] == 2.0
    await cs.close()

    cdr = await only_cdr(api, await tx_pk(api, "CS-SKEW"))
    assert cdr["verdict"] == "flagged" and codes(cdr["reasons"]) == {"clock_skew"}
    assert "ahead of" in cdr["reasons"][0]["message"]
    assert cdr["total"] == "2.00"
    skew_ms = (await bill_of(api, cdr["transaction_id"]))["metering"]["clock_skew_ms"]
    assert 29_000 <= skew_ms <= 30_000


async def test_v16_offline_replay_is_not_clock_skew(csms: Running, api: Api) -> None:
    """A 1.6 session the station queued while offline and sends hours later on a new
    connection: stamped before that connection opened, so its lag is the outage, not skew."""
    await set_up(csms, api, "CP-REPLAY")
    cp = await boot16(csms, "CP-REPLAY")  # the connection opens now, after the whole session
    began = utcnow() - timedelta(hours=3)
    readings = [(began + timedelta(minutes=m), 1000 + m * 200) for m in (0, 10, 20, 30)]
    tx = await session16(cp, readings)
    await cp.close()

    cdr = await only_cdr(api, tx)
    assert cdr["verdict"] == "valid" and cdr["reasons"] == [], cdr["reasons"]
    assert cdr["energy_wh"] == 6000 and cdr["total"] == "6.00"
    assert (await bill_of(api, tx))["metering"]["clock_skew_ms"] is None


async def test_v16_live_clock_ahead_is_billed_flagged(csms: Running, api: Api) -> None:
    """A live 1.6 session whose station clock runs 60 s ahead: still flagged clock_skew."""
    await set_up(csms, api, "CP-AHEAD")
    cp = await boot16(csms, "CP-AHEAD")
    # Stamped at most 60 s ahead of their receipt: the stop, sent last, is stamped now + 60 s.
    stop_at = utcnow() + timedelta(seconds=60)
    readings = [(stop_at - timedelta(seconds=s), 2020 - s * 10) for s in (2, 1, 0)]
    tx = await session16(cp, readings)
    await cp.close()

    cdr = await only_cdr(api, tx)
    assert cdr["verdict"] == "flagged" and codes(cdr["reasons"]) == {"clock_skew"}, cdr
    assert "ahead of" in cdr["reasons"][0]["message"]
    assert cdr["energy_wh"] == 20 and cdr["total"] == "0.02"
    skew_ms = (await bill_of(api, tx))["metering"]["clock_skew_ms"]
    assert 55_000 <= skew_ms <= 60_000, skew_ms


@pytest.mark.parametrize(
    ("moment", "verdict"),
    [(10, "flagged"), (20, "rejected")],  # minutes into the 20-minute session
)
async def test_v16_conflicting_register_sample(
    csms: Running, api: Api, moment: int, verdict: str
) -> None:
    """The register at one moment reported twice with different values: the conflict is kept
    and shown; mid-session it flags the bill, at the stop it holds the session for review."""
    station_id = f"CP-CLASH-{moment}"
    await set_up(csms, api, station_id)
    cp = await boot16(csms, station_id)
    begin = now_ms() - timedelta(minutes=20)
    clash_at = begin + timedelta(minutes=moment)
    tx = await start16(cp, begin, 1000)
    await meter16(cp, clash_at, 1000 + moment * 200, tx)
    await meter16(cp, clash_at, 1000 + moment * 200 + 50, tx)  # same key, another value
    if moment < 20:
        await meter16(cp, begin + timedelta(minutes=15), 4000, tx)
    await stop16(cp, tx, begin + timedelta(minutes=20), 5000)
    await cp.close()

    [conflict] = (await api.get(f"/api/v1/transactions/{tx}")).json()["conflicts"]
    assert datetime.fromisoformat(conflict["sampled_at"]) == clash_at
    assert Decimal(conflict["stored_value"]) == 1000 + moment * 200
    assert Decimal(conflict["value"]) == 1000 + moment * 200 + 50
    bill = await bill_of(api, tx)
    assert bill["metering"]["verdict"] == verdict, bill["metering"]
    [reason] = [r for r in bill["metering"]["reasons"] if r["code"] == "conflicting_samples"]
    assert clash_at.isoformat() in reason["message"], reason
    if verdict == "flagged":
        assert bill["cdrs"][0]["verdict"] == "flagged" and bill["cdrs"][0]["energy_wh"] == 4000
    else:
        assert bill["cdrs"] == [] and (await pending_review(api, tx))["cause"] == "metering"


# --- 4. start and stop only --------------------------------------------------------------------


async def test_start_and_stop_only_is_estimated(csms: Running, api: Api) -> None:
    """Without MeterValues the energy is meterStop - meterStart, allocated as estimated."""
    await set_up(csms, api, "CP-EST")
    cp = await boot16(csms, "CP-EST")
    end = now_ms()
    tx = await session16(cp, [(end - timedelta(minutes=40), 12_345), (end, 30_000)])
    await cp.close()

    cdr = await only_cdr(api, tx)
    assert cdr["allocation"] == "estimated" and cdr["verdict"] == "valid"
    assert cdr["energy_wh"] == 30_000 - 12_345 and cdr["energy_kwh"] == "17.655"
    assert sum(line["energy_wh"] for line in cdr["lines"]) == cdr["energy_wh"]
    assert cdr["energy_money"] == "10.59" and cdr["service_money"] == "7.06"
    assert cdr["total"] == "17.65"


# --- 5. idle (occupancy) fee -------------------------------------------------------------------


async def test_v201_idle_fee_from_suspended_ev(csms: Running, api: Api) -> None:
    """chargingState SuspendedEV at T and Ended at T + 25 min: idle fee after the grace."""
    await set_up(csms, api, "CS-IDLE", idle_fee=IDLE_FEE)
    cs = await boot201(csms, "CS-IDLE")
    end = now_ms()
    idle_from = end - timedelta(minutes=25)
    begin = idle_from - timedelta(minutes=30)
    await cs.call("TransactionEvent", tx_event("Started", 0, begin, "TX-I", 1000, state="Charging"))
    await cs.call(
        "TransactionEvent", tx_event("Updated", 1, idle_from, "TX-I", 11_000, state="SuspendedEV")
    )
    ended = await cs.call("TransactionEvent", tx_event("Ended", 2, end, "TX-I", 11_000))
    assert ended["totalCost"] == 17.5
    await cs.close()
    check_idle_cdr(await only_cdr(api, await tx_pk(api, "CS-IDLE")), idle_from)


async def test_v16_idle_fee_from_status_notification(csms: Running, api: Api) -> None:
    """A 1.6 connector reporting SuspendedEV during the transaction starts the idle period."""
    await set_up(csms, api, "CP-IDLE", idle_fee=IDLE_FEE)
    cp = await boot16(csms, "CP-IDLE")
    tx, idle_from = await idle_session16(cp)
    await cp.close()
    check_idle_cdr(await only_cdr(api, tx), idle_from)


# --- 6. signed meter values --------------------------------------------------------------------


async def test_signed_meter_value_is_kept_verbatim(csms: Running, api: Api) -> None:
    """The Ended event's signedMeterValue object is copied unchanged into the CDR."""
    await set_up(csms, api, "CS-OCMF")
    cs = await boot201(csms, "CS-OCMF")
    signed = {
        "signedMeterData": 'OCMF|{"FV":"1.0","RD":[{"RV":5.0,"RI":"1-b:1.8.0"}]}|'
        '{"SA":"ECDSA-secp256r1-SHA256","SD":"3045022100ab"}',
        "signingMethod": "ECDSA-secp256r1-SHA256",
        "encodingMethod": "OCMF",
        "publicKey": "3059301306072a8648ce3d020106082a8648ce3d03010703420004abcdef",
    }
    end = now_ms()
    await cs.call(
        "TransactionEvent",
        tx_event("Started", 0, end - timedelta(minutes=15), "TX-S", 1000),
    )
    await cs.call("TransactionEvent", tx_event("Ended", 1, end, "TX-S", 5000, signed=signed))
    await cs.close()

    cdr = await only_cdr(api, await tx_pk(api, "CS-OCMF"))
    assert cdr["verdict"] == "valid" and cdr["energy_wh"] == 4000
    kept = cdr["detail"]["signed_data"]
    assert [entry["signed_meter_value"] for entry in kept] == [signed]
    assert kept[0]["context"] == "Transaction.End" and kept[0]["measurand"] == REGISTER
    assert datetime.fromisoformat(kept[0]["sampled_at"]) == end
    assert (await api.get("/api/v1/cdrs/verify", role="admin")).json()["ok"]


# --- 7. running cost ---------------------------------------------------------------------------


async def test_v16_open_transaction_has_a_running_cost(csms: Running, api: Api) -> None:
    """While a 1.6 session is open its bill shows the cost so far, line by line."""
    await set_up(csms, api, "CP-RUN")
    cp = await boot16(csms, "CP-RUN")
    end = now_ms()
    tx = await start16(cp, end - timedelta(minutes=20), 1000)
    await meter16(cp, end - timedelta(minutes=10), 3000, tx)
    await meter16(cp, now_ms(), 5000, tx)

    bill = await bill_of(api, tx)
    assert bill["status"] == "open" and bill["cdrs"] == [] and bill["review"] is None
    running = bill["running_cost"]
    assert running is not None, bill
    assert Decimal(running["total"]) > 0 and running["total"] == "4.00"
    assert running["energy_wh"] == 4000 and running["allocation"] == "metered"
    assert [line["band"] for line in running["lines"]] == ["flat"]
    assert running["lines"][0]["energy_kwh"] == "4.000"
    assert running["tariff"] == {"id": "flat", "version": 1}
    await stop16(cp, tx, now_ms(), 5000)
    assert (await bill_of(api, tx))["running_cost"] is None
    await cp.close()


async def test_v201_cost_updated_and_live_feed(database_url: str) -> None:
    """A 2.0.1 station is sent CostUpdated with the API's running total; the live feed carries
    transaction.cost while the session runs and cdr.created when it ends."""
    async with (
        running(make_settings(database_url, cost_interval=0.5)) as csms,
        api_for(csms) as api,
    ):
        await set_up(csms, api, "CS-COST")
        with csms.bus.subscribe(lambda event: event.station_id == "CS-COST") as feed:
            cs = AnsweringStation(await boot201(csms, "CS-COST"))
            begin = now_ms() - timedelta(minutes=10)
            # Started carries the begin reading and a current one, so the session has a price
            # the station has not been told yet (an Updated event's reply would tell it).
            started = await cs.call(
                "TransactionEvent",
                tx_event("Started", 0, begin, "TX-C", samples=[(begin, 1000), (now_ms(), 4000)]),
            )
            assert "totalCost" not in started
            pushed = await cs.expect("CostUpdated")
            assert pushed["transactionId"] == "TX-C"
            tx = await tx_pk(api, "CS-COST")
            running_cost = (await bill_of(api, tx))["running_cost"]
            assert Decimal(str(pushed["totalCost"])) == Decimal(running_cost["total"])
            assert running_cost["total"] == "3.00"

            ended = await cs.call("TransactionEvent", tx_event("Ended", 1, now_ms(), "TX-C", 5000))
            assert ended["totalCost"] == 4.0
            await cs.client.close()
            events = drain(feed)
        costs = [e.data for e in events if e.type == "transaction.cost"]
        assert {"transaction_id": tx, "total": "3.00", "energy_wh": 3000} in costs
        [created] = [e.data for e in events if e.type == "cdr.created"]
        assert created["transaction_id"] == tx and created["total"] == "4.00"
        assert created["verdict"] == "valid" and created["energy_wh"] == 4000
        cdr = await only_cdr(api, tx)
        assert created["cdr_id"] == cdr["id"]


async def test_v201_restricted_station_is_not_sent_cost_updates(database_url: str) -> None:
    """B03.FR.03 / B02.FR.09: a Rejected station whose billing data is kept
    (--unaccepted-transactions keep) has its session priced, but is sent no CostUpdated."""
    settings = make_settings(database_url, cost_interval=0.5, keep_unaccepted_transactions=True)
    async with running(settings) as csms, api_for(csms) as api:
        await set_up(csms, api, "CS-BLK")
        await StationStore(csms.pool).update_auth("CS-BLK", admin_state=AdminState.BLOCKED)
        cs = AnsweringStation(await open_client(csms.ocpp_port, "CS-BLK", ["ocpp2.0.1"]))
        boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "T"}}
        assert (await cs.call("BootNotification", boot))["status"] == "Rejected"
        begin = now_ms() - timedelta(minutes=10)
        await cs.call(
            "TransactionEvent",
            tx_event("Started", 0, begin, "TX-B", samples=[(begin, 1000), (now_ms(), 4000)]),
        )
        await csms.gateway.push_costs()
        tx = await tx_pk(api, "CS-BLK")
        assert (await bill_of(api, tx))["running_cost"]["total"] == "3.00"
        with pytest.raises(TimeoutError):
            await cs.expect("CostUpdated", timeout=1)
        await cs.client.close()


# --- 8. site energy report ---------------------------------------------------------------------


async def site_reading(cp: OcppClient, cs: OcppClient, at: datetime, wh: int) -> None:
    """The same register value from both EVSEs of the site (1.6 in Wh, 2.0.1 in kWh)."""
    await meter16(cp, at, wh, None)
    meter_values = [{"timestamp": isoformat(at), "sampledValue": [sampled(wh, "Sample.Periodic")]}]
    await cs.call("MeterValues", {"evseId": 1, "meterValue": meter_values})


async def test_site_energy_report_peak_demand(csms: Running, api: Api) -> None:
    """Two EVSEs each deliver 5 kWh in one 15-minute window: 40.00 kW peak demand, waived on
    a two-part tariff; months are local (Asia/Shanghai)."""
    for station_id in ("CP-SITE", "CS-SITE"):
        await add_station(api, station_id, site_name="Depot S")
    cp = await boot16(csms, "CP-SITE")
    cs = await boot201(csms, "CS-SITE")
    window = datetime(2024, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    await site_reading(cp, cs, window + timedelta(minutes=1), 10_000)
    await site_reading(cp, cs, window + timedelta(minutes=14), 15_000)
    # 00:05 on 1 April in Shanghai, still 31 March in UTC: April's report, not March's
    april = datetime(2024, 3, 31, 16, 5, tzinfo=UTC)
    await site_reading(cp, cs, april, 15_000)
    await site_reading(cp, cs, april + timedelta(minutes=5), 15_500)
    await cp.close()
    await cs.close()

    async def report(month: str) -> dict[str, Any]:
        response = await api.get("/api/v1/sites/Depot S/energy-report", params={"month": month})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    march = await report("2024-03")
    assert march["meters"] == 2 and march["energy_kwh"] == "10.000"
    assert march["peak_demand_kw"] == "40.00" and march["peak_window_kwh"] == "10.000"
    assert datetime.fromisoformat(march["peak_window_start"]) == window
    assert march["two_part_tariff"] is False and march["demand_charge"] == "not applicable"
    april_report = await report("2024-04")
    assert april_report["energy_kwh"] == "1.000" and april_report["peak_demand_kw"] == "4.00"
    assert (await report("2024-02"))["peak_demand_kw"] == "0.00"

    put = await api.client.put(
        "/api/v1/sites/Depot S", headers=api.headers("operator"), json={"two_part_tariff": True}
    )
    assert put.status_code == 200, put.text
    march = await report("2024-03")
    assert march["two_part_tariff"] is True and march["demand_charge"] == "waived"
    assert march["peak_demand_kw"] == "40.00"

    for bad in ("2024-13", "2024-3", "March", "2024-00"):
        response = await api.get("/api/v1/sites/Depot S/energy-report", params={"month": bad})
        assert response.status_code == 422, (bad, response.text)
    unknown = await api.get("/api/v1/sites/Nowhere/energy-report", params={"month": "2024-03"})
    assert unknown.status_code == 404, unknown.text
