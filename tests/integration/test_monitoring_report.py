"""Progress against the plan, the station map and the monthly report, through the API and CLI."""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from csms.bootstrap import Running
from csms.clock import utcnow
from csms.services.monitoring import build_reports
from tests.conftest import Api, make_settings
from tests.ocpp_client import open_client
from tests.processes import run_cli

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = (
    "station_id,county,township,village,site_name,site_category,address,latitude,longitude,"
    "parking_spaces,connectors,commissioned_on,access_mode,owner_unit,operator_id,"
    "rated_power_kw"
)


def registry(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def network(api: Api) -> None:
    """Three public piles in 朔城区 (two new in 2025, in the plan's window), one in 应县."""
    body = registry(
        "MR-1,朔城区,北城街道,,站点A,urban_public_parking,,39.33,112.43,40,60DC;60DC,2025-03-01,public,,op,",
        "MR-2,朔城区,北城街道,,站点A,urban_public_parking,,39.331,112.431,40,7AC,2025-03-02,public,,op,",
        "MR-3,朔城区,南城街道,,站点B,commercial,,39.30,112.40,20,7AC,2023-01-05,public,,op,",
        "MR-4,应县,金城镇,,站点C,transport_hub,,39.55,113.19,30,7AC,2023-01-05,public,,op,",
    )
    result = await ok(
        await api.client.post(
            "/api/v1/registry/import",
            content=body.encode(),
            headers={**api.headers("operator"), "Content-Type": "text/csv"},
        )
    )
    assert result["imported"] == 4


async def test_progress_and_map_follow_the_registry(csms: Running, api: Api) -> None:
    await network(api)
    cp = await open_client(csms.ocpp_port, "MR-1", ["ocpp1.6"])
    await cp.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
    progress = await ok(await api.get("/api/v1/monitoring/progress"))
    assert progress["plan"]["plan_id"] == "shuozhou-2024-2025"
    figures = {f["key"]: f for f in progress["figures"]}
    new_2025 = figures["county.Shuocheng.new_piles.2025"]
    assert (new_2025["actual"], new_2025["target"], new_2025["status"]) == ("2", "555", "behind")
    assert new_2025["gap"] == "553"
    county_piles = [f for f in progress["figures"] if f["kind"] == "county_piles"]
    shuocheng_piles = next(f for f in county_piles if f["subject"] == "朔城区")
    assert shuocheng_piles["actual"] == "3" and shuocheng_piles["target"] == "45"
    assert shuocheng_piles["status"] == "behind"
    assert sum(progress["by_status"].values()) == len(progress["figures"])
    future = (utcnow().astimezone(SHANGHAI).date() + timedelta(days=2)).isoformat()
    assert (await api.get("/api/v1/monitoring/progress", params={"on": future})).status_code == 422

    stations = {s["id"]: s for s in (await ok(await api.get("/api/v1/monitoring/map")))["stations"]}
    assert set(stations) == {"MR-1", "MR-2", "MR-3", "MR-4"}
    assert stations["MR-1"]["state"] == "available" and stations["MR-2"]["state"] == "offline"
    lat, lon = stations["MR-1"]["gcj02"]
    assert abs(lat - 39.33) < 0.01 and abs(lon - 112.43) < 0.01 and (lat, lon) != (39.33, 112.43)
    await cp.close()


async def test_monthly_report_in_three_formats(csms: Running, api: Api) -> None:
    await network(api)
    month = utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
    document = await ok(await api.get(f"/api/v1/reports/monthly/{month}"))
    assert document["month"] == month and document["plan_id"] == "shuozhou-2024-2025"
    assert document["summary"]["public_piles"] == 4
    assert {"utilization_by_county", "sharing", "lockouts", "changes"} <= set(document)
    html = await api.get(f"/api/v1/reports/monthly/{month}", params={"format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<svg" in html.text and "朔城区" in html.text and "<script" not in html.text
    text = (await api.get(f"/api/v1/reports/monthly/{month}", params={"format": "csv"})).text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["key", "scope", "subject"]
    assert len([r for r in rows[1:] if r and r[0].startswith("county.")]) > 0
    listed = await ok(await api.get("/api/v1/reports/monthly"))
    assert [r["month"] for r in listed] == [month]
    # bad months
    for bad in ("2026-13", "26-01", "2999-01"):
        assert (await api.get(f"/api/v1/reports/monthly/{bad}")).status_code == 422, bad


async def test_last_month_is_filed_by_itself_and_changes_are_reported(
    csms: Running, api: Api, database_url: str
) -> None:
    await network(api)
    _, reports = build_reports(csms.pool, make_settings(database_url))
    # a fixed month (so the test passes on any day): filed once it is over and settled
    due = datetime(2025, 4, 2, 4, 0, tzinfo=SHANGHAI)
    assert await reports.file_last_month(due - timedelta(minutes=1)) is None
    assert await reports.file_last_month(due) == "2025-03"
    assert await reports.file_last_month(due + timedelta(days=3)) is None  # filed once
    today = utcnow().astimezone(SHANGHAI)
    this_month = await reports.generate(today.year, today.month, by="test")
    changes = this_month["document"]["changes"]
    # MR-1 and MR-2 were commissioned this year; if that is this month they show as changes
    assert isinstance(changes, list)
    assert all({"before", "after", "change"} <= set(c) for c in changes)


async def test_report_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    month = (utcnow().astimezone(SHANGHAI).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    code, out = await run_cli(
        [sys.executable, "-m", "csms", "report", "month", month, "--out", str(tmp_path),
         "--database-url", database_url]
    )  # fmt: skip
    assert code == 0, out
    assert (tmp_path / f"report-{month}.html").read_text("utf-8").startswith("<!doctype html>")
    assert (tmp_path / f"report-{month}.json").exists() and (tmp_path / f"report-{month}.csv")
    code, out = await run_cli(
        [sys.executable, "-m", "csms", "report", "month", "2999-01", "--out", str(tmp_path),
         "--database-url", database_url]
    )  # fmt: skip
    assert code == 1 and "has not begun" in out
