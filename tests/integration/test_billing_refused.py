"""A start the CSMS refused is never billed: no CDR; a review (cause `refused`) only when the
session delivered energy anyway; the refusal stays visible in the transactions API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from csms.bootstrap import Running
from csms.clock import isoformat, utcnow
from tests.conftest import Api
from tests.integration.test_billing_metering import (
    bill_of,
    boot16,
    boot201,
    meter_value,
    pending_review,
    set_up,
    tx_event,
    tx_pk,
)
from tests.ocpp_client import OcppClient

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

UNKNOWN = "NOT-A-CARD"  # not in the token store: Invalid (tests run with --unknown-tokens reject)


async def refused16(cp: OcppClient, readings: list[tuple[int, int]]) -> tuple[int, dict[str, Any]]:
    """A 1.6 session of an unknown card: (minutes before now, register Wh) from start to stop;
    its id and its StopTransaction payload."""
    now = utcnow()
    (start_min, start_wh), *middle, (stop_min, stop_wh) = readings
    started = await cp.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": UNKNOWN,
            "meterStart": start_wh,
            "timestamp": isoformat(now - timedelta(minutes=start_min)),
        },
    )
    assert started["idTagInfo"]["status"] == "Invalid", started
    tx: int = started["transactionId"]
    for minutes, wh in middle:
        await cp.call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx,
                "meterValue": [meter_value(now - timedelta(minutes=minutes), wh)],
            },
        )
    stop = {
        "transactionId": tx,
        "meterStop": stop_wh,
        "timestamp": isoformat(now - timedelta(minutes=stop_min)),
        "idTag": UNKNOWN,
    }
    await cp.call("StopTransaction", stop)
    return tx, stop


async def listed(api: Api, **params: Any) -> list[int]:
    response = await api.get("/api/v1/transactions", params=params)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


async def test_refused_start_without_energy_files_nothing(csms: Running, api: Api) -> None:
    """Refused, then stopped with 0 Wh: no CDR, no review, not a session in settlement; the
    metering check is kept and the refusal is listed by ?refused=true."""
    await set_up(csms, api, "CP-REF0")
    cp = await boot16(csms, "CP-REF0")
    tx, stop = await refused16(cp, [(10, 5000), (0, 5000)])
    await cp.call("StopTransaction", stop)  # a replayed stop settles again, files nothing
    await cp.close()

    bill = await bill_of(api, tx)
    assert bill["cdrs"] == [] and bill["total"] is None and bill["review"] is None, bill
    assert bill["metering"]["energy_wh"] == 0
    assert (await api.get("/api/v1/cdrs")).json() == []
    assert (await api.get("/api/v1/billing/reviews", params={"status": "pending"})).json() == []
    assert await csms.services.billing.sweep_unbilled(timedelta(0)) == 0

    assert await listed(api, refused="true") == [tx]
    assert await listed(api, refused="false") == []
    detail = (await api.get(f"/api/v1/transactions/{tx}")).json()
    assert detail["refused"] is True and detail["auth_status"] == "Invalid"
    assert detail["status"] == "closed" and detail["cost"] is None
    assert detail["seq_anomalies"] == [] and detail["linked_to"] is None
    assert detail["conflicts"] == []

    today = utcnow().date()
    statement = await api.get(
        "/api/v1/settlement",
        params={
            "since": (today - timedelta(days=1)).isoformat(),
            "until": (today + timedelta(days=1)).isoformat(),
        },
    )
    assert statement.status_code == 200, statement.text
    body = statement.json()
    assert body["rows"] == [] and body["totals"]["sessions"] == 0
    reconciliation = body["reconciliation"]
    assert reconciliation["sessions_unaccounted"] == 0, reconciliation
    assert reconciliation["sessions_refused"] == 1 and reconciliation["balanced"] is True


async def test_refused_start_with_energy_is_held_for_review(csms: Running, api: Api) -> None:
    """A refused session that delivered 4 kWh (charged on a local list): review cause `refused`,
    no CDR; the operator decides, and approving bills it."""
    await set_up(csms, api, "CP-REF1")
    cp = await boot16(csms, "CP-REF1")
    tx, _ = await refused16(cp, [(20, 1000), (10, 3000), (0, 5000)])
    await cp.close()

    bill = await bill_of(api, tx)
    assert bill["cdrs"] == [] and bill["total"] is None
    assert bill["metering"]["energy_wh"] == 4000
    review = await pending_review(api, tx)
    assert review["cause"] == "refused" and review["station_id"] == "CP-REF1"
    assert "Invalid" in review["detail"] and "4000 Wh" in review["detail"], review
    assert (await api.get("/api/v1/cdrs")).json() == []
    assert await listed(api, refused="true") == [tx]

    approved = await api.post(
        f"/api/v1/billing/reviews/{tx}/approve", json={"note": "card on the local list"}
    )
    assert approved.status_code == 201, approved.text
    cdr = approved.json()
    assert cdr["energy_wh"] == 4000 and cdr["total"] == "4.00"
    assert cdr["detail"]["note"] == "approved on review: card on the local list"
    assert (await bill_of(api, tx))["review"]["status"] == "billed"


async def test_v201_refused_start_with_energy_is_held_for_review(csms: Running, api: Api) -> None:
    """2.0.1 alike: the refusal is the transaction's `refused`, whatever the version."""
    await set_up(csms, api, "CS-REF")
    cs = await boot201(csms, "CS-REF")
    end = utcnow()
    started = tx_event("Started", 0, end - timedelta(minutes=10), "TX-REF", 1000)
    started["idToken"] = {"idToken": UNKNOWN, "type": "ISO14443"}
    answer = await cs.call("TransactionEvent", started)
    assert answer["idTokenInfo"]["status"] == "Invalid", answer
    ended = await cs.call("TransactionEvent", tx_event("Ended", 1, end, "TX-REF", 3000))
    assert "totalCost" not in ended  # nothing billed
    await cs.close()

    tx = await tx_pk(api, "CS-REF")
    assert (await bill_of(api, tx))["cdrs"] == []
    review = await pending_review(api, tx)
    assert review["cause"] == "refused" and "2000 Wh" in review["detail"], review
    assert await listed(api, refused="true") == [tx]
