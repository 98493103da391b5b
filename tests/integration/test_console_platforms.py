"""The console's monitoring platforms page in headless Chromium: an admin adds a platform in
the page (the console checks the data key first; the generated query secret is shown once),
changes its URL and revokes its query secret, disables and enables it, queues a full resync
and a period's statistics (the answers shown match the outbox the API lists) and deletes it
after a confirm step, each checked through the API. Operators see the settings and the retry
but no set-up buttons, viewers only the health, a county-scoped admin is told its scope does
not allow platforms, and the page reads in English once chosen.
"""

from __future__ import annotations

import re

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
    register,
    shown,
    sign_in,
    text,
)

NEW = {
    "platform-new-id": "MON-C",
    "platform-new-name": "市平台",
    "platform-new-url": "http://127.0.0.1:9/evcs/v1",
    "platform-new-operator-id": "MA0CSMS01",
    "platform-new-platform-operator-id": "MA0MONC01",
    "platform-new-operator-secret": "operator-secret",
    "platform-new-data-secret": "0123456789abcdef",
    "platform-new-data-iv": "fedcba9876543210",
    "platform-new-sig-secret": "sig-secret",
    "platform-new-service-tel": "0349-1234567",
}
MONITOR = {
    "id": "MON-R",
    "name": "省平台",
    "enabled": False,
    "base_url": "http://127.0.0.1:9/evcs/v1",
    "operator_id": "MA0CSMS01",
    "platform_operator_id": "MA0MONR01",
    "operator_secret": "s",
    "data_secret": "0123456789abcdef",
    "data_iv": "0123456789abcdef",
    "sig_secret": "s",
}


async def done(page: Page, status: str = "ok") -> str:
    """Wait for the page's next answer (ok or error) and return its text."""
    await page.wait_for(f"{node('platform-result')}?.dataset.status ?? null", status)
    testid = "platform-answer" if status == "ok" else "platform-error"
    answer: str = await text(page, testid)
    return answer


async def clear(page: Page) -> None:
    await page.evaluate(f"{node('platform-result')}.removeAttribute('data-status')")


async def outbox(api: Api, platform: str, kind: str) -> int:
    rows = ok(await api.get(f"/api/v1/platforms/{platform}/outbox?kind={kind}", role="operator"))
    return len(rows)


async def test_an_admin_sets_up_a_platform_in_the_page(
    csms: Running, api: Api, chromium: str
) -> None:
    await register(api)
    await make_user(api, "boss-mon", "admin")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "boss-mon")
        await shown(page, "overview")
        await click(page, "nav-platforms")
        await shown(page, "platforms")
        assert await exists(page, "platforms-empty")
        for test_id, value in NEW.items():
            await fill(page, test_id, value)
        await fill(page, "platform-new-inbound", "generate", "change")
        await click(page, "platform-new-enabled")  # created paused
        await click(page, "platform-new-kind-charge_status")  # no live charging data
        # a data key of 15 characters: the console says so before sending
        await fill(page, "platform-new-data-secret", "0123456789abcde")
        await click(page, "platform-create-submit")
        error = await done(page, "error")
        assert error.startswith("请先修正") and "数据加密密钥" in error, error
        assert ok(await api.get("/api/v1/platforms", role="operator")) == []
        await fill(page, "platform-new-data-secret", NEW["platform-new-data-secret"])
        await clear(page)
        await click(page, "platform-create-submit")
        assert (await done(page)).startswith("平台 MON-C 已添加（未启用")
        secret = await text(page, "platform-secret-value")
        assert len(secret) >= 30, secret
        stored = ok(await api.get("/api/v1/platforms/MON-C", role="operator"))
        assert stored["enabled"] is False and stored["queries_enabled"] is True
        assert stored["name"] == "市平台" and stored["service_tel"] == "0349-1234567"
        assert stored["platform_operator_id"] == "MA0MONC01" and stored["live_interval"] == 50
        assert "operator_secret" not in stored and "inbound_secret" not in stored
        assert stored["kinds"] == [
            "station_info",
            "connector_status",
            "charge_order",
            "station_stats",
        ]
        assert await text(page, "platform-MON-C-enabled") == "否"
        assert await text(page, "platform-MON-C-url") == NEW["platform-new-url"]

        # change the URL and revoke the query secret: only those go in the PATCH
        await click(page, "platform-edit-open-MON-C")
        await fill(page, "platform-edit-MON-C-url", "https://platform.example/evcs/v2")
        await fill(page, "platform-edit-MON-C-inbound", "revoke", "change")
        await click(page, "platform-edit-MON-C-kind-charge_status")
        await clear(page)
        await click(page, "platform-save-MON-C")
        assert await done(page) == "平台 MON-C 的设置已保存。"
        stored = ok(await api.get("/api/v1/platforms/MON-C", role="operator"))
        assert stored["base_url"] == "https://platform.example/evcs/v2"
        assert stored["queries_enabled"] is False and stored["name"] == "市平台"
        assert "charge_status" in stored["kinds"] and len(stored["kinds"]) == 5
        assert await text(page, "platform-MON-C-queries") == "否"

        # enable, then disable
        await clear(page)
        await click(page, "platform-toggle-MON-C")
        assert (await done(page)).startswith("平台 MON-C 已启用")
        assert ok(await api.get("/api/v1/platforms/MON-C", role="operator"))["enabled"] is True
        await clear(page)
        await click(page, "platform-toggle-MON-C")
        assert (await done(page)).startswith("平台 MON-C 已停用")
        assert ok(await api.get("/api/v1/platforms/MON-C", role="operator"))["enabled"] is False
        assert await text(page, "platform-MON-C-enabled") == "否"

        # a full resync: what the page says was queued is in the outbox
        before = await outbox(api, "MON-C", "station_info")
        await clear(page)
        await click(page, "platform-resync-MON-C")
        answer = await done(page)
        found = re.fullmatch(
            r"平台 MON-C：已排队 (\d+) 条场站信息、(\d+) 条接口状态，将按顺序推送。", answer
        )
        assert found, answer
        info = int(found.group(1))
        assert info > 0
        assert await outbox(api, "MON-C", "station_info") >= before + info
        assert await text(page, "platform-MON-C-pending") != "0"

        # statistics for a period (fixed dates: any period works)
        await clear(page)
        await click(page, "platform-stats-MON-C")
        assert (await done(page, "error")).startswith("请选择统计的起止日期")
        await fill(page, "platform-stats-first-MON-C", "2026-01-01")
        await fill(page, "platform-stats-last-MON-C", "2026-01-02")
        await clear(page)
        await click(page, "platform-stats-MON-C")
        answer = await done(page)
        found = re.match(
            r"已为所有接收统计的平台排队 (\d+) 条场站日统计（2026-01-01 至 2026-01-02）", answer
        )
        assert found, answer
        assert int(found.group(1)) == await outbox(api, "MON-C", "station_stats") > 0

        # delete: a confirm step, cancelled once, then confirmed
        await click(page, "platform-delete-MON-C")
        assert await page.evaluate(f"{node('platform-confirm-MON-C')}.hidden") is False
        await click(page, "platform-delete-no-MON-C")
        assert await page.evaluate(f"{node('platform-confirm-MON-C')}.hidden") is True
        assert (await api.get("/api/v1/platforms/MON-C", role="operator")).status_code == 200
        await click(page, "platform-delete-MON-C")
        await clear(page)
        await click(page, "platform-delete-yes-MON-C")
        assert await done(page) == "平台 MON-C 已删除。"
        assert await exists(page, "platforms-empty")
        assert (await api.get("/api/v1/platforms/MON-C", role="operator")).status_code == 404

        # English
        await click(page, "language")
        await shown(page, "platforms")
        await page.wait_for(f"{node('platform-create-submit')}.textContent", "Add platform")
        await clear(page)
        await click(page, "platform-create-submit")
        assert (await done(page, "error")).startswith("Fill in: Platform id")


async def test_operators_and_viewers_see_no_set_up(csms: Running, api: Api, chromium: str) -> None:
    ok(await api.post("/api/v1/platforms", role="admin", json=MONITOR), 201)
    await make_user(api, "ops-plat", "operator")
    await make_user(api, "view-plat", "viewer")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-plat")
        await shown(page, "overview")
        await click(page, "nav-platforms")
        await shown(page, "platforms")
        assert await text(page, "platform-MON-R-url") == MONITOR["base_url"]
        assert await exists(page, "platform-MON-R-no-failed")
        for test_id in (
            "platform-create",
            "platform-MON-R-actions",
            "platform-toggle-MON-R",
            "platform-resync-MON-R",
            "platform-delete-MON-R",
            "platform-edit-MON-R",
        ):
            assert not await exists(page, test_id), test_id
        await click(page, "language")
        await shown(page, "platforms")
        await page.wait_for(
            "document.querySelector('h1').textContent", "Monitoring platform pushes"
        )
        assert await text(page, "platform-MON-R-enabled") == "no"
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "view-plat")
        await shown(page, "overview")
        await click(page, "nav-platforms")
        await shown(page, "platforms")
        assert await text(page, "platform-MON-R-enabled") == "否"
        assert not await exists(page, "platform-MON-R-settings")
        assert not await exists(page, "platform-MON-R-no-failed")
        assert not await exists(page, "platform-create")
        assert not await exists(page, "platform-toggle-MON-R")
    # a county-scoped admin: the API refuses platforms to scoped accounts, the page says why
    await make_user(api, "county-admin", "admin", scope={"counties": ["朔城区"]})
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "county-admin")
        await shown(page, "overview")
        await click(page, "nav-platforms")
        await page.wait_for(f"{node('message')}.dataset.kind", "error")
        assert (await text(page, "message")).startswith("您的账号仅限于 区县：朔城区")
        assert not await exists(page, "platform-create")
