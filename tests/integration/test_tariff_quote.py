"""POST /api/v1/tariffs/{id}/quote: what a session would cost, by the same pricing as its bill
(bands split at their boundaries, energy spread evenly over the charging time as for a session
reporting only start and stop, idle minutes after the grace period, cents rounded half up)."""

from __future__ import annotations

from typing import Any

from csms.bootstrap import Running
from tests.conftest import Api

TARIFF = {
    "tariff_id": "QUOTE-TF",
    "name": "quote",
    "time_zone": "Asia/Shanghai",
    "effective_from": "2026-01-01T00:00:00+08:00",
    "prices": {
        "valley": {"energy": "0.3000", "service": "0.4000"},
        "flat": {"energy": "0.6000", "service": "0.5000"},
    },
    "plans": [
        {
            "periods": [
                {"start": "00:00", "end": "08:00", "band": "valley"},
                {"start": "08:00", "end": "24:00", "band": "flat"},
            ]
        }
    ],
    "idle_fee": {"per_minute": "0.50", "grace_minutes": 10, "cap": "20.00"},
}
SESSION = {
    "start": "2026-03-10T07:00:00+08:00",
    "end": "2026-03-10T09:00:00+08:00",
    "energy_kwh": "10",
    "occupied_until": "2026-03-10T09:30:00+08:00",
}


async def quote(api: Api, body: dict[str, Any], tariff_id: str = "QUOTE-TF") -> Any:
    return await api.post(f"/api/v1/tariffs/{tariff_id}/quote", json=body, role="viewer")


async def test_a_quote_is_priced_like_a_bill(csms: Running, api: Api) -> None:
    created = await api.post("/api/v1/tariffs", json=TARIFF)
    assert created.status_code == 201, created.text
    answer = await quote(api, SESSION)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    # 10 kWh over 07:00-09:00: 5 kWh in the valley hour, 5 kWh in the flat hour
    # valley 5 x 0.30 = 1.50 + 5 x 0.40 = 2.00; flat 5 x 0.60 = 3.00 + 5 x 0.50 = 2.50
    # idle 09:00-09:30 = 30 min, 20 after the grace period x 0.50 = 10.00 (under the cap)
    assert [
        (line["band"], line["energy_kwh"], line["energy_money"], line["service_money"])
        for line in got["lines"]
    ] == [("valley", "5.000", "1.50", "2.00"), ("flat", "5.000", "3.00", "2.50")]
    assert (got["energy_money"], got["service_money"]) == ("4.50", "4.50")
    assert (got["idle_minutes"], got["idle_fee"], got["total"]) == (30, "10.00", "19.00")
    assert got["tariff"] == {"id": "QUOTE-TF", "version": 1}
    assert got["allocation"] == "estimated"


async def test_a_quote_refuses_what_is_not_a_session(csms: Running, api: Api) -> None:
    assert (await api.post("/api/v1/tariffs", json=TARIFF)).status_code == 201
    backwards = {**SESSION, "end": "2026-03-10T06:00:00+08:00"}
    too_long = {**SESSION, "end": "2026-03-20T09:00:00+08:00"}
    freed_early = {**SESSION, "occupied_until": "2026-03-10T08:00:00+08:00"}
    before_tariff = {**SESSION, "start": "2025-12-31T07:00:00+08:00"}
    negative = {**SESSION, "energy_kwh": "-1"}
    for body in (backwards, too_long, freed_early, before_tariff, negative):
        answer = await quote(api, body)
        assert answer.status_code == 422, (body, answer.text)
    assert (await quote(api, SESSION, "NO-SUCH-TF")).status_code == 404
    assert (await quote(api, {**SESSION, "version": 9})).status_code == 404
    unsigned = await api.client.post("/api/v1/tariffs/QUOTE-TF/quote", json=SESSION)
    assert unsigned.status_code == 401
