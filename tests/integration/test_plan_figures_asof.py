"""A past month's report and a past day's progress count the network as it stood then (issue 17):
piles commissioned later, lockouts and decommissionings made later, EVs registered later."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from csms.bootstrap import Running
from csms.clock import utcnow
from csms.services.monitoring import build_reports
from tests.conftest import Api, make_settings

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = (
    "station_id,county,township,village,site_name,site_category,address,latitude,longitude,"
    "parking_spaces,connectors,commissioned_on,access_mode,owner_unit,operator_id,"
    "rated_power_kw"
)


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def row(station: str, commissioned: str) -> str:
    return (
        f"{station},朔城区,北城街道,,站点A,urban_public_parking,,39.33,112.43,40,7AC,"
        f"{commissioned},public,,op,"
    )


async def register(api: Api, *rows: str) -> None:
    body = "\n".join([HEADER, *rows]) + "\n"
    result = await ok(
        await api.client.post(
            "/api/v1/registry/import",
            content=body.encode(),
            headers={**api.headers("operator"), "Content-Type": "text/csv"},
        )
    )
    assert result["imported"] == len(rows)


async def test_last_months_report_counts_what_stood_at_its_end(
    csms: Running, api: Api, database_url: str
) -> None:
    # The report of last month, like the 2025-06 report: two piles commissioned after
    # it (on the 1st of this month), one locked out today and one decommissioned today.
    today = utcnow().astimezone(SHANGHAI).date()
    this_month = today.replace(day=1)
    last_month = this_month - timedelta(days=1)
    later = this_month.isoformat()
    await register(
        api,
        row("AS-1", "2023-01-05"),
        row("AS-2", "2023-01-05"),  # locked out today
        row("AS-3", "2023-01-05"),  # decommissioned today
        row("AS-4", "2023-01-05"),
        row("AS-5", later),
        row("AS-6", later),
    )
    await ok(await api.post("/api/v1/stations/AS-2/lockout", json={"hazard": "漏电"}), 201)
    await ok(await api.delete("/api/v1/stations/AS-3"))
    monitoring, _ = build_reports(csms.pool, make_settings(database_url))

    past = await monitoring.month_report(last_month.year, last_month.month)
    assert past["as_of"] == last_month.isoformat()
    # AS-1..AS-4 were in service then; AS-5 and AS-6 came later
    assert past["summary"]["public_piles"] == 4
    assert past["summary"]["new_piles_this_month"] == 0
    # stations at the month's end: AS-1..AS-4; none connected, none locked then
    assert past["status_counts"] == {"stations": 4, "online": 0, "locked": 0}
    figures = {f["key"]: f for f in past["figures"]}
    assert figures["county.Shuocheng.piles"]["actual"] == "4"

    now = await monitoring.month_report(today.year, today.month)
    # today: AS-1, AS-4, AS-5, AS-6 (AS-2 is locked out, AS-3 gone)
    assert now["summary"]["public_piles"] == 4
    assert now["summary"]["new_piles_this_month"] == 2
    # the live map: every station not decommissioned (AS-3 is), AS-2 locked
    assert now["status_counts"] == {"stations": 5, "online": 0, "locked": 1}
    figures = {f["key"]: f for f in now["figures"]}
    assert figures["county.Shuocheng.piles"]["actual"] == "4"


async def test_a_year_end_ratio_takes_that_year_ends_registrations(
    csms: Running, api: Api, database_url: str
) -> None:
    # 一(一): at most 7 EVs per public pile at the end of 2024, with the EVs of that year end
    await register(api, *(row(f"EV-{i}", "2023-01-05") for i in range(10)))
    counts = [
        {"county": "朔城区", "as_of": "2024-12-31", "evs": 70},
        {"county": "Shuocheng District", "as_of": "2025-03-31", "evs": 90},
    ]
    await ok(await api.put("/api/v1/ev-registrations", json=counts))
    monitoring, _ = build_reports(csms.pool, make_settings(database_url))
    result = await monitoring.progress(date(2025, 4, 30))
    figures = {f["key"]: f for f in result.figures}
    end_2024 = figures["county.Shuocheng.evs_per_pile.2024"]
    # 70 EVs / 10 piles = 7 (March 2025's 90 would make it 9, behind)
    assert (end_2024["actual"], end_2024["status"]) == ("7.0000", "met")
    assert end_2024["detail"]["evs_as_of"] == "2024-12-31"
    assert figures["county.Shuocheng.evs_per_pile.2025"]["actual"] == "9.0000"  # 90 / 10
