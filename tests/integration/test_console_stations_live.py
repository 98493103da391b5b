"""The console's stations in headless Chromium, beyond the list and the commands: a safety
lockout set and lifted from a station's page (checked through the API), password rotation by
an admin (the password never reaches the page), the station's reported messages, live updates
from the event feed (a station connecting, a connector's status, a session starting and
ending show without a reload; the feed is closed when the page is left), the map (a dot per
station placed by its coordinates, coloured by state, a click opens the station; a scoped
account sees only its stations), deleting an id token after a confirm step, and a viewer
seeing none of the write buttons.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from csms.bootstrap import Running
from tests.chromium import Page, live_page
from tests.conftest import Api
from tests.integration.test_console_browser import (
    click,
    console_url,
    exists,
    fill,
    make_user,
    node,
    ok,
    shown,
    sign_in,
    text,
)
from tests.integration.test_password_rotation import basic
from tests.station_responder import DuplexStation, duplex_station

# Shuozhou-like coordinates; far enough apart that the dots do not overlap
PLACES = {"MAP-1": (39.331, 112.432), "MAP-2": (39.565, 113.187)}
START = {"connectorId": 1, "idTag": "CARD-LIVE", "meterStart": 0,
         "timestamp": "2026-05-01T02:00:00Z"}  # fmt: skip


async def go(page: Page, hash_: str, name: str) -> None:
    await page.evaluate(f"location.hash = {json.dumps(hash_)}")
    await shown(page, name)


async def dataset(page: Page, test_id: str, key: str) -> Any:
    return await page.evaluate(f"{node(test_id)}?.dataset.{key} ?? null")


async def status_of(page: Page, test_id: str) -> Any:
    return await dataset(page, test_id, "status")


async def live(page: Page, state: str = "on") -> None:
    await page.wait_for(f"{node('live-state')}?.dataset.state ?? null", state)


async def add_station(api: Api, station_id: str, county: str, **extra: Any) -> None:
    body = {"id": station_id, "county": county, "site_name": f"站点 {station_id}", **extra}
    ok(await api.post("/api/v1/stations", role="admin", json=body), 201)


async def status_notification(station: DuplexStation, status: str) -> None:
    await station.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                              "status": status})  # fmt: skip


async def test_a_lockout_is_set_and_lifted_from_the_station_page(
    csms: Running, api: Api, chromium: str
) -> None:
    await add_station(api, "LOCK-1", "朔城区")
    await make_user(api, "ops-lock", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-lock")
        await shown(page, "overview")
        await go(page, "#/stations/LOCK-1", "station")
        assert await dataset(page, "lockout", "open") == "false"
        assert await exists(page, "lockout-none")
        # no hazard named: the page says what to do, nothing is sent
        await click(page, "lockout-start")
        await page.wait_for(f"{node('lockout-result')}.dataset.status", "error")
        assert await text(page, "lockout-error") == "请先写明隐患，再停用该充电桩。"
        assert ok(await api.get("/api/v1/stations/LOCK-1"))["lockout"] is None
        # the hazard, then the confirm step
        await fill(page, "lockout-hazard-input", "充电枪线缆破损")
        assert await page.evaluate(f"{node('lockout-confirm')}.hidden") is True
        await click(page, "lockout-start")
        assert await page.evaluate(f"{node('lockout-confirm')}.hidden") is False
        await click(page, "lockout-confirm")
        await page.wait_for(f"{node('lockout-result')}.dataset.status", "ok")
        answer = await text(page, "lockout-answer")
        assert answer.startswith("已安全停用充电桩 LOCK-1。") and "下次上线" in answer
        station = ok(await api.get("/api/v1/stations/LOCK-1"))
        assert station["locked"] is True
        assert station["lockout"]["hazard"] == "充电枪线缆破损"
        assert station["lockout"]["locked_by"].endswith(":ops-lock")
        # the open lockout stands out, with the hazard, and in the history
        assert await dataset(page, "lockout", "open") == "true"
        assert await text(page, "lockout-hazard") == "此充电桩已安全停用：充电枪线缆破损"
        lockout_id = station["lockout"]["id"]
        assert await exists(page, f"lockout-{lockout_id}")
        # the list marks it too
        await go(page, "#/stations", "stations")
        cell = f"{node('station-LOCK-1')}.cells[4]"
        assert await page.evaluate(f"{cell}.dataset.locked") == "true"

        await go(page, "#/stations/LOCK-1", "station")
        await click(page, "lockout-lift")  # no rectification yet
        await page.wait_for(f"{node('lockout-result')}.dataset.status", "error")
        assert await text(page, "lockout-error") == "请先写明整改措施，再解除停用。"
        assert ok(await api.get("/api/v1/stations/LOCK-1"))["locked"] is True
        await fill(page, "lockout-rectification", "已更换线缆并检测合格")
        await click(page, "lockout-lift")
        await page.wait_for(f"{node('lockout-result')}.dataset.status", "ok")
        assert (await text(page, "lockout-answer")).startswith("已解除充电桩 LOCK-1 的安全停用。")
        assert ok(await api.get("/api/v1/stations/LOCK-1"))["lockout"] is None
        (row,) = ok(await api.get("/api/v1/stations/LOCK-1/lockouts"))
        assert row["open"] is False and row["rectification"] == "已更换线缆并检测合格"
        assert row["lifted_by"].endswith(":ops-lock")
        assert await dataset(page, "lockout", "open") == "false"
        # in English
        await click(page, "language")
        await shown(page, "station")
        assert await text(page, "lockout-none") == "No safety lockout is in force."
        assert await text(page, "live-state") == "Live"


async def test_the_list_and_a_station_update_live_without_a_reload(
    csms: Running, api: Api, chromium: str
) -> None:
    await add_station(api, "LIVE-1", "朔城区")
    await add_station(api, "LIVE-2", "怀仁市")
    ok(await api.post("/api/v1/tokens", json={"id_token": "CARD-LIVE"}), 201)
    await make_user(api, "ops-live", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-live")
        await shown(page, "overview")
        await go(page, "#/stations", "stations")
        await live(page)
        connection = "station-LIVE-1-connection"
        assert await page.evaluate(f"{node(connection)}.firstChild.dataset.connected") == "false"
        await page.evaluate("window.notReloaded = true")
        async with duplex_station(csms.ocpp_port, "LIVE-1", "1.6", DuplexStation) as station:
            await page.wait_for(f"{node(connection)}.firstChild.dataset.connected", "true")
            assert await text(page, connection) == "在线"
            assert await page.evaluate(f"{node('station-LIVE-2-connection')}.textContent") == "离线"

            await click(page, "station-link-LIVE-1")
            await shown(page, "station")
            await live(page)
            # the list's feed is closed: only the station page's is open
            assert await page.evaluate("document.body.dataset.liveStreams") == "1"
            assert await text(page, "field-connected") == "在线"
            await status_notification(station, "Preparing")
            await page.wait_for(f"{node('connector-1-1-status')}?.dataset.status ?? null",
                                "Preparing")  # fmt: skip
            started = await station.call("StartTransaction", START)
            tx = started["transactionId"]
            await status_notification(station, "Charging")
            await page.wait_for(f"{node(f'transaction-{tx}')}?.dataset.open ?? null", "true")
            await page.wait_for(f"{node('connector-1-1-status')}.dataset.status", "Charging")
            assert await text(page, "connector-1-1-status") == "充电中"
            stop = {"transactionId": tx, "meterStop": 5000, "timestamp": "2026-05-01T03:00:00Z"}
            await station.call("StopTransaction", stop)
            await page.wait_for(f"{node(f'transaction-{tx}')}.dataset.open", "false")
        await page.wait_for(f"{node('field-connected')}.textContent", "离线")
        assert await page.evaluate("window.notReloaded") is True
        # leaving the page closes its feed
        await go(page, "#/password", "password")
        await page.wait_for("document.body.dataset.liveStreams", "0")


async def test_the_map_places_colours_and_opens_stations(
    csms: Running, api: Api, chromium: str
) -> None:
    for station_id, (lat, lon) in PLACES.items():
        county = "朔城区" if station_id == "MAP-1" else "怀仁市"
        await add_station(api, station_id, county, latitude=lat, longitude=lon)
    await add_station(api, "MAP-3", "朔城区")  # no coordinates
    ok(await api.post("/api/v1/tokens", json={"id_token": "CARD-LIVE"}), 201)
    await make_user(api, "map-viewer", "viewer")
    await make_user(api, "map-county", "viewer", scope={"counties": ["朔城区"]})
    async with (
        duplex_station(csms.ocpp_port, "MAP-1", "1.6", DuplexStation) as station,
        live_page(console_url(csms), chromium) as page,
    ):
        started = await station.call("StartTransaction", START)
        await sign_in(page, "map-viewer")
        await shown(page, "overview")
        await click(page, "nav-map")
        await shown(page, "map")
        await live(page)
        assert await dataset(page, "map-svg", "points") == "2"
        assert await dataset(page, "map-dot-MAP-1", "state") == "charging"
        assert await dataset(page, "map-dot-MAP-2", "state") == "offline"
        assert not await exists(page, "map-dot-MAP-3")
        assert await exists(page, "map-unplaced") and "MAP-3" in await text(page, "map-unplaced")
        assert await text(page, "map-count-charging") == "充电中 1"
        assert await text(page, "map-count-offline") == "离线 2"
        # placed by coordinates: the eastern, northern station is right of and above the other
        x1, y1 = await dot_centre(page, "MAP-1")
        x2, y2 = await dot_centre(page, "MAP-2")
        assert x2 > x1 and y2 < y1
        # the session ends: the dot turns to connected without a reload
        await station.call("StopTransaction", {"transactionId": started["transactionId"],
                                               "meterStop": 100,
                                               "timestamp": "2026-05-01T03:00:00Z"})  # fmt: skip
        await page.wait_for(f"{node('map-dot-MAP-1')}.dataset.state", "connected")
        # a click on a dot opens the station
        await page.evaluate(
            f"{node('map-dot-MAP-2')}.dispatchEvent(new MouseEvent('click', {{bubbles: true}}))"
        )
        await shown(page, "station")
        assert await text(page, "station-title") == "充电站 MAP-2"

    # a county-scoped account: its county's stations only
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "map-county")
        await shown(page, "overview")
        await go(page, "#/map", "map")
        assert await exists(page, "map-dot-MAP-1")
        assert not await exists(page, "map-dot-MAP-2")
        assert await dataset(page, "map", "count") == "2"  # MAP-1 and the unplaced MAP-3
        await live(page)
        assert await dataset(page, "map-dot-MAP-1", "state") == "offline"
        # a refused feed (here: a feed address that does not exist): the page reads every 15 s
        # (shortened to 0.5 s here: the test checks the fallback, not the wait)
        await page.evaluate(
            "window.EventSource = class extends EventSource {"
            " constructor() { super('/api/v1/no-such-feed'); } };"
            "const every = window.setInterval;"
            "window.setInterval = (f, ms, ...rest) => every(f, ms >= 15000 ? 500 : ms, ...rest);"
        )
        await go(page, "#/stations", "stations")
        await go(page, "#/map", "map")
        await live(page, "polling")
        assert await page.evaluate("document.body.dataset.liveStreams") == "0"
        async with duplex_station(csms.ocpp_port, "MAP-1", "1.6", DuplexStation):
            await page.wait_for(f"{node('map-dot-MAP-1')}.dataset.state", "connected", 10)


async def dot_centre(page: Page, station_id: str) -> tuple[float, float]:
    circle = f"{node(f'map-dot-{station_id}')}.querySelector('circle:last-of-type')"
    x, y = await page.evaluate(
        f"[Number({circle}.getAttribute('cx')), Number({circle}.getAttribute('cy'))]"
    )
    return float(x), float(y)


async def test_a_token_is_deleted_after_a_confirm_step(
    csms: Running, api: Api, chromium: str
) -> None:
    for token in ("CARD-GONE", "CARD-KEPT"):
        ok(await api.post("/api/v1/tokens", json={"id_token": token}), 201)
    await make_user(api, "ops-tokens", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-tokens")
        await shown(page, "overview")
        await go(page, "#/tokens", "tokens")
        await click(page, "token-delete-CARD-GONE")
        assert (await text(page, "token-delete-question-CARD-GONE")).startswith(
            "确定删除卡片 CARD-GONE？"
        )
        # cancelling sends nothing
        await click(page, "token-delete-cancel-CARD-GONE")
        assert await exists(page, "token-delete-CARD-GONE")
        assert ok(await api.get("/api/v1/tokens/CARD-GONE"))["deleted_at"] is None
        await click(page, "token-delete-CARD-GONE")
        await click(page, "token-delete-confirm-CARD-GONE")
        await page.wait_for(f"{node('token-result')}.dataset.status", "ok")
        assert await text(page, "token-answer") == "卡片 CARD-GONE 已删除；此后用它充电会被拒绝。"
        assert not await exists(page, "token-CARD-GONE") and await exists(page, "token-CARD-KEPT")
        assert ok(await api.get("/api/v1/tokens/CARD-GONE"))["deleted_at"] is not None
        listed = [t["id_token"] for t in ok(await api.get("/api/v1/tokens"))]
        assert listed == ["CARD-KEPT"]


def station_with_password(
    csms: Running, station_id: str, password: str
) -> contextlib.AbstractAsyncContextManager[DuplexStation]:
    return duplex_station(
        csms.ocpp_port, station_id, "1.6", DuplexStation, headers=basic(station_id, password)
    )


async def test_an_admin_rotates_a_station_password_and_sees_its_messages(
    csms: Running, api: Api, chromium: str
) -> None:
    old = "old-password-0123456789"
    await add_station(api, "ROT-1", "朔城区", password=old, security_profile=1)
    await add_station(api, "ROT-2", "朔城区")  # no password
    await make_user(api, "boss-rot", "admin")
    async with (
        station_with_password(csms, "ROT-1", old) as station,
        live_page(console_url(csms), chromium) as page,
    ):
        await station.call("DataTransfer", {"vendorId": "com.example", "data": "hello"})
        await sign_in(page, "boss-rot")
        await shown(page, "overview")
        await go(page, "#/stations/ROT-1", "station")
        assert await exists(page, "messages")
        assert "DataTransfer" in await text(page, "messages")
        await click(page, "rotate-password")
        await page.wait_for(f"{node('rotate-result')}.dataset.status", "ok")
        assert (await text(page, "rotate-answer")).startswith("充电桩回复 Accepted：新旧密码")
        (sent,) = station.sent("ChangeConfiguration")
        assert sent["key"] == "AuthorizationKey"
        password = bytes.fromhex(sent["value"]).decode()
        html = await page.evaluate("document.documentElement.outerHTML")
        assert password not in html and sent["value"] not in html and old not in html
        # the command log has it, without the password
        commands = ok(await api.get("/api/v1/commands", params={"station_id": "ROT-1"}))
        assert any(c["action"] == "ChangeConfiguration" for c in commands)
        assert password not in json.dumps(commands)
        # a station without a password says so and offers nothing to rotate
        await go(page, "#/stations/ROT-2", "station")
        assert await exists(page, "password-none") and not await exists(page, "rotate-password")


async def test_a_viewer_sees_none_of_the_write_buttons(
    csms: Running, api: Api, chromium: str
) -> None:
    await add_station(api, "VIEW-1", "朔城区", password="view-password-0123456789")
    ok(await api.post("/api/v1/stations/VIEW-1/lockout", json={"hazard": "积水"}), 201)
    ok(await api.post("/api/v1/tokens", json={"id_token": "CARD-VIEW"}), 201)
    await make_user(api, "viewer-1", "viewer")
    await make_user(api, "ops-1", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "viewer-1")
        await shown(page, "overview")
        await go(page, "#/stations/VIEW-1", "station")
        # the open lockout is shown to everyone, its lift only to operators
        assert await text(page, "lockout-hazard") == "此充电桩已安全停用：积水"
        for test_id in ("lockout-lift", "lockout-rectification", "lockout-start", "commands",
                        "rotate-password", "reset-soft"):  # fmt: skip
            assert not await exists(page, test_id), test_id
        assert await exists(page, "commands-viewer")
        await go(page, "#/tokens", "tokens")
        assert await exists(page, "token-CARD-VIEW")
        assert not await exists(page, "token-delete-CARD-VIEW")
        assert not await exists(page, "token-create")
        await click(page, "sign-out")
        # an operator gets the lift, but rotating a password is for admins
        await sign_in(page, "ops-1")
        await shown(page, "tokens")  # back where it signed out
        assert await exists(page, "token-delete-CARD-VIEW")
        await go(page, "#/stations/VIEW-1", "station")
        assert await exists(page, "lockout-lift") and not await exists(page, "rotate-password")
