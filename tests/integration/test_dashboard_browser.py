"""The dashboard in headless Chromium shows what the monitoring API answers, in the language
chosen (no raw keys), draws the stations on the city's county map, opens a monthly report by a
signed link, and follows the feed.

Chromium is required, not optional: CI installs it (.ci/run). Without it these tests fail.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from csms.bootstrap import Running
from csms.clock import isoformat, utcnow
from csms.monitoring.registry_csv import COLUMNS
from simulators.platform.server import PlatformSimulator
from tests.chromium import Dom, Page, dump_dom, live_page
from tests.conftest import Api, api_for
from tests.ocpp_client import OcppClient, open_client
from tests.platform_support import add_platform, drained, pushing_csms, sim_config

BOOT = {"chargePointVendor": "Dash", "chargePointModel": "Board"}
# Public piles in three counties, commissioned in 2025 but one (2024), with coordinates
REGISTRY = [
    "SC-1,朔城区,北城街道,,开发区公交场站,bus_depot,,39.331,112.432,20,60DC,2025-03-01,public,,,60",
    "SC-2,朔城区,北城街道,,开发区公交场站,bus_depot,,39.335,112.440,20,7AC,2025-05-01,public,,,7",
    "HR-1,怀仁市,云中镇,,怀仁客运站,transport_hub,,39.829,113.100,30,120DC;120DC,2025-02-01,"
    "public,,,240",
    "YX-1,应县,金城镇,,木塔景区,scenic_4a_plus,,39.565,113.183,50,7AC,2024-12-01,public,,,7",
]
CARD = "DASH-CARD-1"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def booted(csms: Running, station_id: str) -> OcppClient:
    cp = await open_client(csms.ocpp_port, station_id, ["ocpp1.6"])
    assert (await cp.call("BootNotification", BOOT))["status"] == "Accepted"
    await cp.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                         "status": "Available"})  # fmt: skip
    return cp


async def network(csms: Running, api: Api) -> list[OcppClient]:
    """Four registered piles and one without coordinates; SC-1 and HR-1 online, HR-1 charging,
    YX-1 locked out for a hazard."""
    csv = "\r\n".join([",".join(COLUMNS), *REGISTRY]) + "\r\n"
    headers = {**api.headers("operator"), "content-type": "text/csv"}
    r = await api.client.post("/api/v1/registry/import", content=csv.encode(), headers=headers)
    assert (ok(r))["imported"] == len(REGISTRY)
    ok(await api.post("/api/v1/stations", json={"id": "NOWHERE-1"}), 201)
    ok(await api.post("/api/v1/tokens", json={"id_token": CARD}), 201)
    clients = [await booted(csms, "SC-1"), await booted(csms, "HR-1")]
    started = await clients[1].call(
        "StartTransaction",
        {"connectorId": 1, "idTag": CARD, "meterStart": 0,
         "timestamp": isoformat(utcnow())},
    )  # fmt: skip
    assert started["idTagInfo"]["status"] == "Accepted"
    await clients[1].call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                 "status": "Charging"})  # fmt: skip
    ok(await api.post("/api/v1/stations/YX-1/lockout", json={"hazard": "线缆破损"}), 201)
    return clients


SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # a raw key (highway_service_area, on_track)


def this_month() -> str:
    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


def url(csms: Running, key: str, query: str = "live=0") -> str:
    return f"http://127.0.0.1:{csms.http_port}/dashboard?{query}#key={key}"


async def test_the_dashboard_shows_what_the_api_answers(
    csms: Running, api: Api, chromium: str
) -> None:
    clients = await network(csms, api)
    try:
        ok(await api.get(f"/api/v1/reports/monthly/{this_month()}"))  # filed: listed
        live = ok(await api.get("/api/v1/monitoring/live"))
        progress = ok(await api.get("/api/v1/monitoring/progress"))
        stations = (ok(await api.get("/api/v1/monitoring/map")))["stations"]
        lockouts = ok(await api.get("/api/v1/lockouts?open=true"))

        dom = Dom(await dump_dom(url(csms, api.keys["viewer"]), chromium))
        assert dom.body["data-state"] == "ready", dom.body
        assert dom.root["lang"] == "zh-CN"

        # (a) live counts
        assert live["stations"] == {"total": 5, "online": 2, "offline": 3, "locked": 1}
        for name in ("total", "online", "offline", "locked"):
            assert dom.text(f"stations-{name}") == str(live["stations"][name]), name
        assert dom.text("open-sessions") == str(live["open_sessions"]) == "1"
        for status, n in live["connectors"].items():
            assert dom.text(f"connectors-{status}") == str(n), status

        # (b) progress: every figure's actual, a county's new piles of 2025 among them
        figures = {f["key"]: f for f in progress["figures"]}
        shuocheng = figures["county.Shuocheng.new_piles.2025"]
        assert shuocheng["actual"] == "2"
        assert dom.attr("figure-county.Shuocheng.new_piles.2025-actual", "data-value") == "2"
        assert dom.text("figure-county.Shuocheng.new_piles.2025-actual") == "2 台"
        assert dom.text("figure-county.Huairen.new_piles.2025-actual") == "1 台"
        for key, figure in figures.items():
            shown = dom.attr(f"figure-{key}-actual", "data-value")
            assert shown == (figure["actual"] or ""), key
            assert dom.attr(f"figure-{key}", "data-status") == figure["status"], key
        assert len(dom.ids("figure-")) == 5 * len(figures)  # row, target, actual, gap, status
        for status, n in progress["by_status"].items():
            assert dom.text(f"figures-{status}") == str(n)
        assert dom.attr("chart-progress", "data-bars") == "6"  # the plan's six counties

        # (c) coverage meters for the coverage figures
        assert dom.ids("coverage-") and all(
            key.removeprefix("coverage-") in figures for key in dom.ids("coverage-")
        )
        # every key is named in Chinese: no highway_service_area, township_seat, on_track...
        for test_id in [*dom.ids("figure-"), *dom.ids("coverage-")]:
            assert not SNAKE.search(dom.text(test_id)), (test_id, dom.text(test_id))
        assert dom.text("figure-township_seat.distance").count("乡镇（街道）所在地") >= 1

        # (e) one point per station with coordinates, coloured by state
        placed = [s for s in stations if s["latitude"] is not None]
        assert len(placed) == 4 and len(stations) == 5
        assert dom.text("map-points") == str(len(placed))
        assert dom.attr("chart-map", "data-points") == str(len(placed))
        # ... on the county boundaries of the plan's city, shipped with the CSMS
        assert dom.attr("chart-map", "data-boundaries") == "朔州市"
        assert dom.text("map-note") == ""
        by_state = {s["id"]: s["state"] for s in stations}
        assert by_state == {"SC-1": "available", "SC-2": "offline", "HR-1": "charging",
                            "YX-1": "locked", "NOWHERE-1": "offline"}  # fmt: skip
        assert dom.text("map-state-offline") == "2" and dom.text("map-state-locked") == "1"

        # (f) the open lockout
        assert [lockout["station_id"] for lockout in lockouts] == ["YX-1"]
        assert dom.attr("lockouts", "data-count") == "1"
        assert "线缆破损" in dom.text(f"lockout-{lockouts[0]['id']}")

        # (d) the utilization trend asked for 30 days by county; "sessions" are counted ones
        assert int(dom.attr("chart-utilization", "data-rows")) > 0
        assert dom.text("utilization-sessions").isdigit()
        assert dom.text("utilization-all-sessions").isdigit()

        # (h) the monthly reports filed, each with its open and CSV buttons
        assert dom.attr("reports", "data-count") == "1"
        assert dom.attr(f"report-{this_month()}", "data-version") == "1"
        assert dom.text(f"report-{this_month()}-open") == "打开"
    finally:
        for cp in clients:
            await cp.close()


async def test_the_dashboard_speaks_english(csms: Running, api: Api, chromium: str) -> None:
    html = await dump_dom(url(csms, api.keys["viewer"], "live=0&lang=en"), chromium)
    dom = Dom(html)
    assert dom.body["data-state"] == "ready", dom.body
    assert dom.root["lang"] == "en"
    assert dom.text("stations-total") == "0"
    assert "Charging plan monitoring" in html and "Live status" in html
    assert "实时状态" not in html


async def test_a_wrong_key_is_asked_for_again(csms: Running, api: Api, chromium: str) -> None:
    dom = Dom(await dump_dom(url(csms, "csms_not-a-real-key"), chromium))
    assert dom.body["data-state"] == "needs-key", dom.body
    assert dom.text("error") == "密钥无效或已撤销，请重新输入。"
    assert dom.text("stations-online") == "–"  # nothing shown without a valid key


async def test_the_page_and_its_files_need_no_key_but_nothing_else_is_served(api: Api) -> None:
    page = await api.client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-cache"
    again = await api.client.get("/dashboard", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304
    script = await api.client.get("/dashboard/static/dashboard.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    style = await api.client.get("/dashboard/static/dashboard.css")
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    echarts = await api.client.get("/dashboard/static/vendor/echarts.min.js")
    assert echarts.status_code == 200 and echarts.headers["cache-control"].startswith("public")
    assert b'version="5.6.0"' in echarts.content
    licence = await api.client.get("/dashboard/static/vendor/ECHARTS-LICENSE.txt")
    assert "Apache License" in licence.text
    for module in ("dashboard/i18n.js", "dashboard/names.js"):  # ES modules of the page
        answer = await api.client.get(f"/dashboard/static/{module}")
        assert answer.headers["content-type"] == "text/javascript; charset=utf-8", module
    # the county map and its licence, and the names of figure keys: no key needed
    shape = await api.client.get("/dashboard/static/vendor/maps/140600.json")
    assert shape.status_code == 200 and shape.headers["cache-control"].startswith("public")
    maps = await api.client.get("/dashboard/static/vendor/maps/LICENSES.txt")
    assert "MIT License" in maps.text and "AMap" in maps.text
    names = await api.client.get("/dashboard/labels.json")
    assert names.status_code == 200 and names.json()["status"]["met"]["zh"] == "达标"
    again = await api.client.get(
        "/dashboard/labels.json", headers={"If-None-Match": names.headers["etag"]}
    )
    assert again.status_code == 304
    for path in (
        "/dashboard/static/../routes/dashboard.py",
        "/dashboard/static/%2e%2e/%2e%2e/app.py",
        "/dashboard/static/..%2f..%2fapp.py",
        "/dashboard/static//etc/passwd",
        "/dashboard/static/vendor",
        "/dashboard/static/dashboard",
        "/dashboard/static/nothing.js",
    ):
        r = await api.client.get(path)
        assert r.status_code == 404, (path, r.status_code)


async def test_the_dashboard_follows_the_live_feed(csms: Running, api: Api, chromium: str) -> None:
    clients = await network(csms, api)
    try:
        async with live_page(url(csms, api.keys["viewer"], "lang=zh"), chromium) as page:
            await page.wait_for("document.body.dataset.state", "ready")
            await page.wait_for("document.body.dataset.live", "connected")
            online = "document.querySelector('[data-testid=\"stations-online\"]').textContent"
            assert await page.evaluate(online) == "2"
            clients.append(await booted(csms, "SC-2"))  # a third station comes online
            await page.wait_for(online, "3")
            state = "document.querySelector('[data-testid=\"map-state-offline\"]').textContent"
            await page.wait_for(state, "1")
            # the page did not reload: it refreshed from the feed
            assert await page.evaluate("document.body.dataset.lastEvent") in {
                "station.connected", "station.booted", "status.changed"
            }  # fmt: skip
    finally:
        for cp in clients:
            await cp.close()


def node(test_id: str) -> str:
    """JavaScript for the page's element with this data-testid."""
    return f"document.querySelector('[data-testid=\"{test_id}\"]')"


async def value_of(page: Page, test_id: str, field: str = "textContent") -> Any:
    """A property of the element with this data-testid (None while there is none)."""
    return await page.evaluate(f"{node(test_id)}?.{field} ?? null")


async def test_the_dashboard_shows_push_health_of_monitoring_platforms(
    database_url: str, chromium: str
) -> None:
    async with (
        pushing_csms(database_url) as csms,
        api_for(csms) as api,
        PlatformSimulator(sim_config()) as sim,
    ):
        platform = await add_platform(api, sim, name="省监管平台")
        ok(await api.post("/api/v1/stations", json={"id": "PF-1"}), 201)
        cp = await booted(csms, "PF-1")  # Available: one connector status to push
        try:
            await drained(csms)
            assert sim.statuses_by_connector() == {"PF-1-1": [1]}
            (health,) = ok(await api.get("/api/v1/platforms/health"))
            assert health["last_success_at"] is not None and health["pending"] == 0

            async with live_page(url(csms, api.keys["viewer"], "lang=en"), chromium) as page:
                await page.wait_for("document.body.dataset.state", "ready")
                await page.wait_for("document.body.dataset.live", "connected")
                row = f"platform-{platform['id']}"
                assert await value_of(page, f"{row}-name") == "省监管平台"
                assert await value_of(page, f"{row}-state") == "OK"
                assert await value_of(page, row, "dataset.state") == "ok"
                success = await value_of(page, f"{row}-success")
                assert success.endswith(" ago") and success[0].isdigit(), success
                assert await value_of(page, f"{row}-success", "dataset.at") is not None
                assert await value_of(page, f"{row}-pending", "dataset.value") == "0"
                assert await value_of(page, f"{row}-failed") == "0"
                assert await value_of(page, f"{row}-oldest") == "–"  # nothing waits
                assert (await value_of(page, f"{row}-token")).startswith("in ")

                # the platform goes down: the next status waits, and the page says so live
                await sim.stop()
                await cp.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                     "status": "Preparing"})  # fmt: skip
                # the failed push is on the feed at once (platform.push)
                await page.wait_for(f"{node(row)}?.dataset.state", "unreachable")
                assert await value_of(page, f"{row}-state") == "unreachable"
                assert (await value_of(page, f"{row}-failure")).endswith(" ago")
                assert await value_of(page, f"{row}-reason")  # why: the connection error
                # the backlog comes with the next health snapshot (every ~10 s)
                backlog = f"Number({node(row + '-pending')}?.dataset.value) >= 1"
                await page.wait_for(backlog, True, timeout=25)
                assert (await value_of(page, f"{row}-oldest")).endswith(" s")
                assert (await value_of(page, f"{row}-success")).endswith(" ago")  # still shown
                assert await page.evaluate("document.body.dataset.lastEvent") in {
                    "platform.health", "platform.push"
                }  # fmt: skip
        finally:
            await cp.close()


async def test_the_dashboard_says_when_no_platform_is_configured(
    csms: Running, api: Api, chromium: str
) -> None:
    dom = Dom(await dump_dom(url(csms, api.keys["viewer"]), chromium))
    assert dom.body["data-state"] == "ready", dom.body
    assert dom.attr("platforms", "data-count") == "0"
    assert dom.text("platforms-empty") == "未配置监管平台"


async def test_english_counts_one_pile_and_names_every_key(
    csms: Running, api: Api, chromium: str
) -> None:
    clients = await network(csms, api)
    try:
        dom = Dom(await dump_dom(url(csms, api.keys["viewer"], "live=0&lang=en"), chromium))
        assert dom.body["data-state"] == "ready", dom.body
        assert dom.text("figure-county.Shuocheng.new_piles.2025-actual") == "2 piles"
        assert dom.text("figure-county.Huairen.new_piles.2025-actual") == "1 pile"
        assert dom.text("figure-county.Pinglu.new_piles.2025-actual") == "0 piles"
        for test_id in [*dom.ids("figure-"), *dom.ids("coverage-")]:
            assert not SNAKE.search(dom.text(test_id)), (test_id, dom.text(test_id))
    finally:
        for cp in clients:
            await cp.close()


CHART = "echarts.getInstanceByDom(document.getElementById('{}')).getOption()"


async def test_legends_show_the_colours_the_charts_draw(
    csms: Running, api: Api, chromium: str
) -> None:
    clients = await network(csms, api)
    try:
        figures = ok(await api.get("/api/v1/monitoring/progress"))["figures"]
        statuses = {
            f["subject"]: f["status"]
            for f in figures
            if f["kind"] == "new_piles" and f["scope"] == "county" and f["due"] == "2025-12-31"
        }
        async with live_page(url(csms, api.keys["viewer"], "live=0&lang=zh"), chromium) as page:
            await page.wait_for("document.body.dataset.state", "ready")
            await page.wait_for("document.querySelector('#progress-years [aria-pressed=true]')"
                                "?.dataset.year", "2025")  # fmt: skip
            progress = await page.evaluate(CHART.format("chart-progress"))
            counties = progress["xAxis"][0]["data"]
            target, *actual = progress["series"]
            assert target["name"] == "目标"
            colours = {"met": "#2e7d32", "on_track": "#f9a825", "behind": "#c62828"}
            names = {"met": "实际·达标", "on_track": "实际·进度正常", "behind": "实际·滞后"}
            for series in actual:
                # one colour per series, none per bar: the legend shows what the bars show
                assert all(not isinstance(v, dict) for v in series["data"]), series
                status = next(s for s, n in names.items() if n == series["name"])
                assert series["itemStyle"]["color"] == colours[status]
                for county, value in zip(counties, series["data"], strict=True):
                    assert (value != "-") == (statuses[county] == status), (county, series)

            trend = await page.evaluate(CHART.format("chart-utilization"))
            legend = set(trend["legend"][0]["data"])
            by_name: dict[str, set[str]] = {}
            for series in trend["series"]:
                assert series["name"] in legend, series["name"]  # no colour outside the legend
                by_name.setdefault(series["name"], set()).add(series["itemStyle"]["color"])
            assert by_name and all(len(c) == 1 for c in by_name.values()), by_name

            geo = await page.evaluate(CHART.format("chart-map"))
            assert geo["geo"][0]["map"] == "朔州市"
            assert {s["coordinateSystem"] for s in geo["series"]} == {"geo"}
            assert "xAxis" not in geo or not geo["xAxis"]  # no bare latitude/longitude plot
    finally:
        for cp in clients:
            await cp.close()


async def test_a_report_opens_from_the_dashboard_without_a_key_in_the_browser(
    csms: Running, api: Api, chromium: str
) -> None:
    month = this_month()
    ok(await api.get(f"/api/v1/reports/monthly/{month}"))
    async with live_page(url(csms, api.keys["viewer"], "live=0&lang=zh"), chromium) as page:
        await page.wait_for("document.body.dataset.state", "ready")
        await page.evaluate(f"{node(f'report-{month}-open')}.click()")
        await page.wait_for("Boolean(document.body.dataset.reportLink)", True)
        link = await page.evaluate("document.body.dataset.reportLink")
    assert re.fullmatch(rf"/reports/monthly/{month}/versions/1\?format=html&expires=\d+"
                        r"&signature=[\w-]+", link), link  # fmt: skip
    # what the new tab loads: no Authorization header, no cookie
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.http_port}") as browser:
        page = await browser.get(link)
    assert page.status_code == 200 and "充电基础设施建设进展月报" in page.text
