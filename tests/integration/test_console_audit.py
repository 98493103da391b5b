"""The console's audit page in headless Chromium: filtered by actor and by time as the API
filters them (`GET /api/v1/audit?actor=&since=&until=`), an end before the start named in the
page before anything is asked, and id-token changes named in both languages.
"""

from __future__ import annotations

from csms.bootstrap import Running
from tests.chromium import live_page
from tests.conftest import Api
from tests.integration.test_console_browser import (
    click,
    console_url,
    fill,
    make_user,
    node,
    ok,
    shown,
    sign_in,
    text,
)


async def test_the_audit_is_filtered_by_actor_and_time(
    csms: Running, api: Api, chromium: str
) -> None:
    ok(await api.post("/api/v1/tokens", json={"id_token": "CARD-AUD"}), 201)
    ok(await api.post("/api/v1/tokens/CARD-AUD/block"))
    await make_user(api, "aud-boss", "admin")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "aud-boss")
        await shown(page, "overview")
        await click(page, "nav-audit")
        await shown(page, "audit")

        # by actor: exactly the rows the API gives for the same filter
        await fill(page, "audit-filter-actor", "aud-boss", "change")
        expected = ok(await api.get("/api/v1/audit?actor=aud-boss", role="admin"))
        assert expected and all("aud-boss" in a["actor"] for a in expected)
        await page.wait_for(f"{node('audit')}.dataset.count", str(len(expected)))
        actions = await page.evaluate(
            f"[...{node('audit-table')}.querySelectorAll('tbody tr')].map(r => r.dataset.action)"
        )
        assert actions == [a["action"] for a in expected]

        # the key's token changes, named in Chinese
        await fill(page, "audit-filter-actor", "", "change")
        await fill(page, "audit-filter-kind", "token", "change")
        await page.wait_for(f"{node('audit')}.dataset.count", "2")
        table = await page.evaluate(f"{node('audit-table')}.innerText")
        assert "新建卡片" in table and "停用卡片" in table, table

        # by time: nothing before 2000; an end before the start is named, nothing is asked
        await fill(page, "audit-filter-until", "2000-01-01T00:00", "change")
        await page.wait_for(f"{node('audit')}.dataset.count", "0")
        await fill(page, "audit-filter-since", "2000-01-02T00:00", "change")
        await page.wait_for(f"{node('audit-error')} !== null", True)
        assert await text(page, "audit-error") == "截止时间早于起始时间：请改正其中一个后再筛选。"
        await fill(page, "audit-filter-until", "", "change")
        await page.wait_for(f"{node('audit')}.dataset.count", "2")  # since 2000: both again

        await click(page, "language")
        await page.wait_for(f"{node('nav-audit')}.textContent", "Audit log")
        await shown(page, "audit")
        await page.wait_for(f"{node('audit')}.dataset.count", "2")
        table = await page.evaluate(f"{node('audit-table')}.innerText")
        assert "id token created" in table and "id token blocked" in table, table
