"""A unit's shared pile: the public inside opening windows only, members always (1.6 smoke)."""

from __future__ import annotations

import pytest

from csms.bootstrap import Running
from csms.domain.token import IdToken
from csms.store.tokens import TokenStore
from tests.conftest import Api
from tests.ocpp_client import open_client

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

WORKDAY_10 = "2026-11-25T02:00:00Z"  # Wednesday 10:00 in Shanghai
WORKDAY_19 = "2026-11-25T11:00:00Z"  # Wednesday 19:00


async def test_v16_public_refused_in_working_hours_member_always(csms: Running, api: Api) -> None:
    tokens = TokenStore(csms.pool)
    await tokens.put(IdToken("STAFF-1"))
    await tokens.put(IdToken("PUBLIC-1"))
    assert (await api.post("/api/v1/stations", json={"id": "GOV-1"})).status_code == 201
    unit = await api.post(
        "/api/v1/units",
        json={
            "unit_id": "gov-a",
            "name": "县政府机关",
            "kind": "government",
            "members": [{"kind": "token", "value": "STAFF-1"}],
        },
    )
    assert unit.status_code == 201, unit.text
    access = await api.put(
        "/api/v1/stations/GOV-1/access", json={"access_mode": "shared", "unit_id": "gov-a"}
    )
    assert access.status_code == 200, access.text
    schedule = await api.post(
        "/api/v1/units/gov-a/schedules",
        json={
            "effective_from": "2024-01-01",
            "windows": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "18:00", "end": "08:00"},
                {"days": ["sat", "sun"], "start": "00:00", "end": "24:00"},
            ],
        },
    )
    assert schedule.status_code == 201, schedule.text
    at_10 = (await api.get("/api/v1/stations/GOV-1/access", params={"at": WORKDAY_10})).json()
    assert at_10["public_may_charge"] is False
    assert at_10["next_change"].startswith("2026-11-25T10:00:00")  # 18:00 local

    cp = await open_client(csms.ocpp_port, "GOV-1", ["ocpp1.6"])
    await cp.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
    refused = await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "PUBLIC-1", "meterStart": 0, "timestamp": WORKDAY_10},
    )
    assert refused["idTagInfo"]["status"] == "Invalid"
    await cp.call(
        "StopTransaction",
        {"transactionId": refused["transactionId"], "meterStop": 0, "timestamp": WORKDAY_10},
    )
    member = await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "STAFF-1", "meterStart": 0, "timestamp": WORKDAY_10},
    )
    assert member["idTagInfo"]["status"] == "Accepted"
    await cp.call(
        "StopTransaction",
        {"transactionId": member["transactionId"], "meterStop": 10, "timestamp": WORKDAY_10},
    )
    evening = await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "PUBLIC-1", "meterStart": 10, "timestamp": WORKDAY_19},
    )
    assert evening["idTagInfo"]["status"] == "Accepted"
    decisions = (await api.get("/api/v1/access-decisions", params={"station_id": "GOV-1"})).json()
    assert [(d["id_token"], d["context"], d["allowed"]) for d in decisions] == [
        ("PUBLIC-1", "StartTransaction", False)
    ]
    assert "reserved for its members" in decisions[0]["reason"]
    member_tx = (await api.get(f"/api/v1/transactions/{member['transactionId']}")).json()
    assert member_tx["id"] == member["transactionId"]
    await cp.close()
