"""The console's transactions, id-token and audit pages in headless Chromium: the transactions
across stations with their filters and the billing review queue (a held bill approved and
another voided leave the queue), id tokens created, blocked, unblocked and given an expiry
through the form (seen through the API), read-only for viewers and refused with the scope
message for a county-scoped account, and the audit log showing sign-ins and a token deletion.
"""

from __future__ import annotations

import re
from datetime import timedelta

from csms.bootstrap import Running
from tests.chromium import live_page
from tests.conftest import Api
from tests.integration.test_billing_metering import boot16, now_ms, session16, set_up
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


async def held_sessions(csms: Running, api: Api, station_id: str) -> list[int]:
    """Two ended sessions whose meter data is rejected (10 kWh in 30 minutes from a 7 kW
    charger), so both are held for review instead of billed."""
    await set_up(csms, api, station_id, rated_power_kw="7")
    cp = await boot16(csms, station_id)
    end = now_ms()
    step = timedelta(minutes=15)
    txs = []
    for first in (end - timedelta(minutes=80), end - timedelta(minutes=30)):
        readings = [(first + step * i, wh) for i, wh in enumerate((1000, 6000, 11000))]
        txs.append(await session16(cp, readings))
    await cp.close()
    pending = ok(await api.get("/api/v1/billing/reviews"))
    assert sorted(r["transaction_id"] for r in pending) == sorted(txs), pending
    return txs


async def test_transactions_are_listed_and_held_bills_approved_or_voided(
    csms: Running, api: Api, chromium: str
) -> None:
    first, second = await held_sessions(csms, api, "CP-HOLD")
    await make_user(api, "ops-tx", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-tx")
        await shown(page, "overview")
        await click(page, "nav-transactions")
        await shown(page, "transactions")
        assert await page.evaluate(f"{node('tx-list')}.dataset.count") == "2"
        assert await text(page, f"tx-{first}-status") == "已结束"
        assert await exists(page, "tx-station-CP-HOLD")
        # the filters go to the API
        await fill(page, "tx-filter-status", "open", "change")
        await click(page, "tx-apply")
        await page.wait_for(f"{node('tx-list')}.dataset.count", "0")
        assert await exists(page, "tx-empty")
        await fill(page, "tx-filter-status", "", "change")
        await fill(page, "tx-filter-station", "CP-NONE")
        await click(page, "tx-apply")
        await page.wait_for(f"{node('tx-list')}.dataset.count", "0")
        await fill(page, "tx-filter-station", "CP-HOLD")
        await click(page, "tx-apply")
        await page.wait_for(f"{node('tx-list')}.dataset.count", "2")

        # the review queue: both sessions held
        assert await page.evaluate(f"{node('reviews')}.dataset.count") == "2"
        # a decision needs a note
        await click(page, f"review-approve-{first}")
        await page.wait_for(f"{node('review-result')}.dataset.status", "error")
        assert (await text(page, "review-result")).startswith("请先填写说明")
        await fill(page, f"review-note-{first}", "meter swap, checked on site")
        await click(page, f"review-approve-{first}")
        await page.wait_for(f"{node('review-result')}.dataset.status", "ok")
        assert await page.evaluate(f"{node('reviews')}.dataset.count") == "1"
        answer = await text(page, "review-answer")
        assert answer.startswith(f"记录 {first} 已开票"), answer
        assert "10.00 元" in answer, answer  # 10 kWh at 1.00 CNY
        assert not await exists(page, f"review-{first}")
        await fill(page, f"review-note-{second}", "test session")
        await click(page, f"review-void-{second}")
        await page.wait_for(
            f"{node('review-answer')}?.textContent", f"记录 {second} 已作废，不会开票。"
        )
        assert await page.evaluate(f"{node('reviews')}.dataset.count") == "0"
        assert await exists(page, "reviews-empty")
        # the decided ones under their states
        await fill(page, "review-filter-status", "voided", "change")
        await page.wait_for(f"{node('reviews')}.dataset.count", "1")
        assert await exists(page, f"review-{second}")
        # each row links to its station
        await click(page, "tx-station-CP-HOLD")
        await shown(page, "station")
        assert await text(page, "station-title") == "充电站 CP-HOLD"

    assert ok(await api.get("/api/v1/billing/reviews")) == []
    bill = ok(await api.get(f"/api/v1/transactions/{first}/bill"))
    assert len(bill["cdrs"]) == 1 and bill["review"]["status"] == "billed", bill
    bill = ok(await api.get(f"/api/v1/transactions/{second}/bill"))
    assert bill["cdrs"] == [] and bill["review"]["status"] == "voided", bill
    assert bill["review"]["note"] == "test session"


async def test_a_viewer_sees_the_queue_without_buttons_and_a_scoped_account_is_told(
    csms: Running, api: Api, chromium: str
) -> None:
    (first, _) = await held_sessions(csms, api, "CP-VIEW")
    await make_user(api, "viewer-tx", "viewer")
    await make_user(api, "sc-ops", "operator", scope={"counties": ["朔城区"]})
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "viewer-tx")
        await shown(page, "overview")
        await click(page, "nav-transactions")
        await shown(page, "transactions")
        assert await exists(page, f"review-{first}")
        assert not await exists(page, f"review-approve-{first}")
        await click(page, "sign-out")
        await sign_in(page, "sc-ops")  # back on the page it signed out of
        await shown(page, "transactions")
        # transactions and the review queue are scope-aware (none in this county)
        assert await page.evaluate(f"{node('tx-list')}.dataset.count") == "0"
        assert await page.evaluate(f"{node('reviews')}.dataset.count") == "0"
        assert await exists(page, "reviews-empty") and not await exists(page, "reviews-error")
        # id tokens and the audit need a whole-network account: the message says so
        for link in ("nav-tokens", "nav-audit"):
            await click(page, link)
            await page.wait_for(f"{node('message')}.dataset.kind", "error")
            assert (await text(page, "message")).startswith("您的账号仅限于 区县：朔城区")
            assert await exists(page, link)  # the links stay; the message explains


async def test_id_tokens_are_created_blocked_and_given_an_expiry(
    csms: Running, api: Api, chromium: str
) -> None:
    ok(await api.post("/api/v1/tokens", json={"id_token": "CARD-OLD", "group_id": "G1"}), 201)
    await make_user(api, "ops-tok", "operator")
    await make_user(api, "viewer-tok", "viewer")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-tok")
        await shown(page, "overview")
        await click(page, "nav-tokens")
        await shown(page, "tokens")
        assert await page.evaluate(f"{node('tokens')}.dataset.count") == "1"
        await fill(page, "token-new-id", "CARD-NEW")
        await fill(page, "token-new-group", "G2")
        await fill(page, "token-new-expiry", "2030-06-01T12:00")
        await click(page, "token-create-submit")
        await page.wait_for(f"{node('tokens')}.dataset.count", "2")
        assert await text(page, "token-answer") == "卡片 CARD-NEW 已新建。"
        created = ok(await api.get("/api/v1/tokens/CARD-NEW"))
        assert created["group_id"] == "G2" and created["expires_at"].startswith("2030-06-0")
        assert created["blocked"] is False
        # an id taken already: the API's conflict, explained
        await fill(page, "token-new-id", "CARD-NEW")
        await click(page, "token-create-submit")
        await page.wait_for(f"{node('token-result')}.dataset.status", "error")
        assert (await text(page, "token-error")).startswith("操作未执行")

        # search in the page, the blocked filter asked of the API
        await fill(page, "token-search", "old")
        await page.wait_for(f"{node('tokens')}.dataset.count", "1")
        assert await exists(page, "token-CARD-OLD") and not await exists(page, "token-CARD-NEW")
        await fill(page, "token-search", "")
        await page.wait_for(f"{node('tokens')}.dataset.count", "2")

        await click(page, "token-block-CARD-NEW")
        await page.wait_for(f"{node('token-CARD-NEW-state')}?.dataset.blocked", "true")
        assert await text(page, "token-answer") == "卡片 CARD-NEW 已停用。"
        assert ok(await api.get("/api/v1/tokens/CARD-NEW"))["blocked"] is True
        await fill(page, "token-filter-blocked", "true", "change")
        await page.wait_for(f"{node('tokens')}.dataset.count", "1")
        await fill(page, "token-filter-blocked", "", "change")
        await page.wait_for(f"{node('tokens')}.dataset.count", "2")
        await click(page, "token-unblock-CARD-NEW")
        await page.wait_for(f"{node('token-CARD-NEW-state')}?.dataset.blocked", "false")
        assert ok(await api.get("/api/v1/tokens/CARD-NEW"))["blocked"] is False

        # a new expiry, then none
        await page.evaluate(f"{node('token-result')}.dataset.status = ''")
        await fill(page, "token-expiry-input-CARD-OLD", "2031-01-15T08:00")
        await click(page, "token-expiry-save-CARD-OLD")
        await page.wait_for(f"{node('token-result')}.dataset.status", "ok")
        assert ok(await api.get("/api/v1/tokens/CARD-OLD"))["expires_at"].startswith("2031-01-")
        await page.evaluate(f"{node('token-result')}.dataset.status = ''")
        await fill(page, "token-expiry-input-CARD-OLD", "")
        await click(page, "token-expiry-save-CARD-OLD")
        await page.wait_for(f"{node('token-result')}.dataset.status", "ok")
        assert ok(await api.get("/api/v1/tokens/CARD-OLD"))["expires_at"] is None

        await click(page, "sign-out")
        await sign_in(page, "viewer-tok")
        await shown(page, "tokens")
        assert await exists(page, "tokens-viewer") and not await exists(page, "token-create")
        assert not await exists(page, "token-block-CARD-NEW")
        assert await page.evaluate(f"{node('tokens')}.dataset.count") == "2"


async def test_the_audit_log_shows_sign_ins_and_a_token_deletion(
    csms: Running, api: Api, chromium: str
) -> None:
    ok(await api.post("/api/v1/tokens", json={"id_token": "CARD-GONE"}), 201)
    ok(await api.delete("/api/v1/tokens/CARD-GONE", role="operator"))
    await make_user(api, "aud", "viewer")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "aud")
        await shown(page, "overview")
        await click(page, "nav-audit")
        await shown(page, "audit")
        rows = await page.evaluate(
            f"[...{node('audit-table')}.querySelectorAll('tbody tr')].map(r => r.dataset.action)"
        )
        assert rows[0] == "user.sign-in", rows  # newest first
        assert "token.delete" in rows and "user.create" in rows, rows
        await fill(page, "audit-filter-kind", "token", "change")
        # the token's creation and its deletion (every token change is audited)
        await page.wait_for(f"{node('audit')}.dataset.count", "2")
        assert "删除卡片" in await page.evaluate(f"{node('audit-table')}.innerText")
        assert "CARD-GONE" in await page.evaluate(f"{node('audit-table')}.innerText")
        await fill(page, "audit-filter-kind", "", "change")
        await fill(page, "audit-filter-subject", "nobody", "change")
        await page.wait_for(f"{node('audit')}.dataset.count", "0")
        assert await exists(page, "audit-empty")
        # in English, every word of the three pages
        await click(page, "language")
        await page.wait_for(f"{node('nav-audit')}.textContent", "Audit log")
        for link, name in (("nav-audit", "audit"), ("nav-tokens", "tokens"),
                           ("nav-transactions", "transactions")):  # fmt: skip
            await click(page, link)
            await shown(page, name)
            words = await page.evaluate("document.body.innerText")
            assert not re.search(r"[\u4e00-\u9fff]", words.replace("中文", "")), words
