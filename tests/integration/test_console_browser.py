"""The operator console in headless Chromium: signing in through its form, the overview and
station list from the API (a county-scoped account sees its county only), a command to a
connected station and its answer, the offline and ended-session messages, signing out, and
the English switch remembered by the browser. Plus the page's files over plain HTTP.

Chromium is required, not optional: CI installs it (.ci/run). Without it these tests fail.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from csms.bootstrap import Running
from tests.chromium import Page, live_page
from tests.conftest import Api
from tests.station_responder import DuplexStation, duplex_station

PASSWORD = "console-password-1"
STATIONS = [("CON-1", "朔城区", "开发区公交场站"), ("CON-2", "怀仁市", "怀仁客运站")]
_REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def make_user(api: Api, login: str, role: str, **extra: Any) -> dict[str, Any]:
    body = {"login": login, "role": role, "password": PASSWORD, **extra}
    user: dict[str, Any] = ok(await api.post("/api/v1/users", role="admin", json=body), 201)
    return user


async def register(api: Api) -> None:
    for station_id, county, site in STATIONS:
        body = {"id": station_id, "county": county, "site_name": site}
        ok(await api.post("/api/v1/stations", json=body), 201)


def node(test_id: str) -> str:
    return f"document.querySelector('[data-testid=\"{test_id}\"]')"


async def text(page: Page, test_id: str) -> Any:
    return await page.evaluate(f"{node(test_id)}?.textContent ?? null")


async def exists(page: Page, test_id: str) -> bool:
    return bool(await page.evaluate(f"{node(test_id)} !== null"))


async def click(page: Page, test_id: str) -> None:
    await page.wait_for(f"{node(test_id)} !== null", True)
    await page.evaluate(f"{node(test_id)}.click()")


async def fill(page: Page, test_id: str, value: str, event: str = "input") -> None:
    await page.evaluate(
        f"(() => {{ const e = {node(test_id)}; e.value = {json.dumps(value)}; "
        f"e.dispatchEvent(new Event('{event}')); }})()"
    )


async def shown(page: Page, name: str) -> None:
    """Wait until the console shows page `name` with its data."""
    await page.wait_for("document.body.dataset.page", name)
    await page.wait_for("document.body.dataset.state", "ready")


async def sign_in(page: Page, login: str) -> None:
    await page.wait_for("document.body?.dataset.state", "signed-out")
    await fill(page, "sign-in-login", login)
    await fill(page, "sign-in-password", PASSWORD)
    await click(page, "sign-in-submit")


def console_url(csms: Running) -> str:
    return f"http://127.0.0.1:{csms.http_port}/console"


async def test_an_operator_signs_in_sends_a_reset_and_signs_out(
    csms: Running, api: Api, chromium: str
) -> None:
    await register(api)
    await make_user(api, "ops1", "operator", display_name="值班员")
    async with duplex_station(csms.ocpp_port, "CON-1", "1.6", DuplexStation) as station:
        await station.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                   "status": "Available"})  # fmt: skip
        detail = ok(await api.get("/api/v1/stations/CON-1"))
        (connector,) = [c for c in detail["connectors"] if c["evse_id"] > 0]
        async with live_page(console_url(csms), chromium) as page:
            await page.wait_for("document.body?.dataset.state", "signed-out")
            assert await page.evaluate("document.documentElement.lang") == "zh-CN"
            assert await text(page, "sign-in-submit") == "登录"
            await sign_in(page, "ops1")
            await shown(page, "overview")
            assert await text(page, "who") == "值班员（运营人员）"
            assert await text(page, "count-total-value") == "2"
            assert await text(page, "count-connected-value") == "1"
            assert await text(page, "count-offline-value") == "1"

            await click(page, "nav-stations")
            await shown(page, "stations")
            assert await page.evaluate(f"{node('stations')}.dataset.count") == "2"
            assert await exists(page, "station-CON-1") and await exists(page, "station-CON-2")
            # the search box and the filters
            await fill(page, "filter-search", "客运")
            await page.wait_for(f"{node('stations')}.dataset.count", "1")
            assert await exists(page, "station-CON-2") and not await exists(page, "station-CON-1")
            await fill(page, "filter-search", "")
            await page.wait_for(f"{node('stations')}.dataset.count", "2")
            await fill(page, "filter-connected", "true", "change")
            await page.wait_for(f"{node('stations')}.dataset.count", "1")
            assert await exists(page, "station-CON-1")
            await fill(page, "filter-connected", "", "change")
            await page.wait_for(f"{node('stations')}.dataset.count", "2")
            await fill(page, "filter-county", "怀仁市", "change")
            await page.wait_for(f"{node('stations')}.dataset.count", "1")
            assert await exists(page, "station-CON-2")
            await fill(page, "filter-county", "", "change")
            await page.wait_for(f"{node('stations')}.dataset.count", "2")

            await click(page, "station-link-CON-1")
            await shown(page, "station")
            assert await text(page, "station-title") == "充电站 CON-1"
            assert await text(page, "field-county") == "朔城区"
            assert await text(page, "field-connected") == "在线"
            cell = f"connector-{connector['evse_id']}-{connector['connector_id']}-status"
            assert await text(page, cell) == "空闲"  # Available, in the page's language
            assert await page.evaluate(f"{node(cell)}.dataset.status") == "Available"
            assert await exists(page, "transactions-empty")
            await click(page, "reset-soft")
            await page.wait_for(f"{node('command-result')}.dataset.status", "Accepted")
            assert await text(page, "command-answer") == "“重启”：充电桩回复 Accepted"
            assert station.sent("Reset") == [{"type": "Soft"}]
            await click(page, "unlock-" + cell.removeprefix("connector-").removesuffix("-status"))
            await page.wait_for(f"{node('command-result')}.dataset.status", "Unlocked")

            # an offline station: the command is refused, and the console says why
            await page.evaluate("location.hash = '#/stations/CON-2'")
            await shown(page, "station")
            assert await text(page, "field-connected") == "离线"
            await click(page, "reset-hard")
            await page.wait_for(f"{node('command-result')}.dataset.status", "error")
            assert (await text(page, "command-error")).startswith("该充电桩当前未连接")

            await click(page, "sign-out")
            await page.wait_for("document.body.dataset.state", "signed-out")
            assert await text(page, "message") == "已退出登录。"
            assert await exists(page, "sign-in-form")
            assert await page.evaluate(f"{node('nav-stations')}.offsetParent") is None
            # signed out for the API too: reloading shows the form again
            await page.evaluate("location.reload()")
            await page.wait_for("document.body.dataset.state", "signed-out")


async def test_a_county_scoped_viewer_sees_its_county_and_no_commands(
    csms: Running, api: Api, chromium: str
) -> None:
    await register(api)
    await make_user(api, "sc-viewer", "viewer", scope={"counties": ["朔城区"]})
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "sc-viewer")
        await shown(page, "overview")
        assert await text(page, "count-total-value") == "1"
        assert await text(page, "scope") == "您的账号范围：区县：朔城区"
        await click(page, "nav-stations")
        await shown(page, "stations")
        assert await page.evaluate(f"{node('stations')}.dataset.count") == "1"
        assert await exists(page, "station-CON-1") and not await exists(page, "station-CON-2")
        await click(page, "station-link-CON-1")
        await shown(page, "station")
        assert await exists(page, "commands-viewer")
        assert not await exists(page, "reset-soft") and not await exists(page, "commands")
        # another county's station does not exist for this account
        await page.evaluate("location.hash = '#/stations/CON-2'")
        await page.wait_for(f"{node('message')}.dataset.kind", "error")
        assert (await text(page, "message")).startswith("找不到该对象")


async def test_an_ended_session_goes_back_to_the_sign_in_form(
    csms: Running, api: Api, chromium: str
) -> None:
    user = await make_user(api, "ops2", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops2")
        await shown(page, "overview")
        ok(await api.patch(f"/api/v1/users/{user['id']}", role="admin", json={"disabled": True}))
        await click(page, "nav-stations")
        await page.wait_for("document.body.dataset.state", "signed-out")
        assert (await text(page, "message")).startswith("登录已失效")
        # a wrong password says so, in the form
        await fill(page, "sign-in-login", "ops2")
        await fill(page, "sign-in-password", "not-the-password")
        await click(page, "sign-in-submit")
        await page.wait_for(f"{node('message')}.textContent", "账号或密码错误，请检查后重新输入。")


async def test_english_is_chosen_and_remembered(csms: Running, api: Api, chromium: str) -> None:
    await register(api)
    await make_user(api, "ops3", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await page.wait_for("document.body.dataset.state", "signed-out")
        await click(page, "language")
        await page.wait_for(f"{node('sign-in-submit')}.textContent", "Sign in")
        assert await page.evaluate("document.documentElement.lang") == "en"
        await page.evaluate("location.reload()")  # remembered by this browser
        # (waiting on the text: right after reload() the old page may still answer)
        await page.wait_for(f"{node('sign-in-submit')}?.textContent ?? null", "Sign in")
        await page.wait_for("document.body.dataset.state", "signed-out")
        await sign_in(page, "ops3")
        await shown(page, "overview")
        assert await text(page, "nav-stations") == "Stations"
        assert await text(page, "sign-out") == "Sign out"
        await click(page, "nav-stations")
        await shown(page, "stations")
        assert await text(page, "stations-count") == "2 stations shown"
        assert await page.evaluate("document.title") == "CSMS operator console"
        html = await page.evaluate("document.body.innerText")
        assert "充电站" not in html and "登录" not in html
        await click(page, "language")  # and back
        await page.wait_for(f"{node('nav-stations')}.textContent", "充电站")


async def test_the_console_and_its_files_are_served_and_linked(csms: Running) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.http_port}") as http:
        page = await http.get("/console")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "<script>" not in page.text  # scripts are files (the policy allows no inline)
        references = _REFERENCE.findall(page.text)
        assert "/console/static/app.js" in references
        for reference in references:
            if reference.startswith("#"):
                continue
            assert reference.startswith("/console/static/"), reference
            fetched = await http.get(reference)
            assert fetched.status_code == 200, reference
        for module in ("app.js", "api.js", "dom.js", "i18n.js", "stations.js", "transactions.js",
                       "tokens.js", "tariffs.js", "audit.js"):  # fmt: skip
            answer = await http.get(f"/console/static/{module}")
            assert answer.headers["content-type"] == "text/javascript; charset=utf-8", module
        style = await http.get("/console/static/console.css")
        assert style.headers["content-type"] == "text/css; charset=utf-8"
        for path in ("/console/static/../dashboard.js", "/console/static/%2e%2e/dashboard.js",
                     "/console/static/nothing.js", "/console/static/"):  # fmt: skip
            assert (await http.get(path)).status_code == 404, path
        landing = await http.get("/")
        assert "/console" in _REFERENCE.findall(landing.text)


async def test_the_password_is_changed_in_the_form(csms: Running, api: Api, chromium: str) -> None:
    await make_user(api, "ops4", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops4")
        await shown(page, "overview")
        await click(page, "nav-password")
        await shown(page, "password")
        await fill(page, "password-current", "not-the-password")
        await fill(page, "password-new", "a-new-password-2")
        await fill(page, "password-again", "a-new-password-2")
        await click(page, "password-submit")
        await page.wait_for(f"{node('message')}.textContent", "当前密码不正确，请重新输入。")
        await fill(page, "password-current", PASSWORD)
        await click(page, "password-submit")
        await page.wait_for(f"{node('message')}.dataset.kind", "ok")
        assert (await text(page, "message")).startswith("密码已修改")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.http_port}") as http:
        new = {"login": "ops4", "password": "a-new-password-2"}
        assert (await http.post("/api/v1/session", json=new)).status_code == 200
