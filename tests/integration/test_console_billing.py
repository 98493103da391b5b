"""The console's bills, CDRs and settlement in headless Chromium: a session's bill opened from
the transactions list shows the API's total and lines; an operator re-bills it by another
tariff and credits the re-bill (each after a confirm step, seen through the API); the billing
page lists the CDRs with their filters, checks the hash chains (and shows where a tampered
one breaks), and shows and downloads the settlement statement with the API's totals; a viewer
sees no credit or re-bill buttons and no chain check, a county-scoped account is told its
scope does not allow billing, and every word is there in English.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from csms.bootstrap import Running
from tests.chromium import Page, live_page
from tests.conftest import Api
from tests.integration.test_billing_api import tamper
from tests.integration.test_billing_metering import (
    boot16,
    flat_tariff,
    meter16,
    now_ms,
    session16,
    set_up,
    start16,
)
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

# the settlement is by the local day a session ended: `make test-clock` runs it at a fixed moment
pytestmark = pytest.mark.time_sensitive
CHINESE = re.compile(r"[\u4e00-\u9fff]")


async def billed_sessions(
    csms: Running, api: Api, station_id: str, count: int = 1, **station: Any
) -> list[int]:
    """`count` ended sessions of 10 kWh in 30 minutes each, billed by the flat tariff (1.00 CNY
    per kWh: 10.00 CNY), plus a dearer tariff `dear` (1.50 CNY per kWh) to re-bill by."""
    await set_up(csms, api, station_id, **station)
    dear = flat_tariff() | {"tariff_id": "dear", "name": "dear"}
    dear["prices"] = {"flat": {"energy": "0.9000", "service": "0.6000"}}
    ok(await api.post("/api/v1/tariffs", json=dear), 201)
    cp = await boot16(csms, station_id)
    end = now_ms()
    step = timedelta(minutes=15)
    txs = []
    for i in range(count):
        first = end - timedelta(minutes=40 * (count - i))
        readings = [(first + step * n, wh) for n, wh in enumerate((1000, 6000, 11000))]
        txs.append(await session16(cp, readings))
    await cp.close()
    for tx in txs:
        for _ in range(100):
            bill = ok(await api.get(f"/api/v1/transactions/{tx}/bill"))
            if bill["cdrs"]:
                break
            await asyncio.sleep(0.1)
        assert bill["total"] == "10.00", bill
    return txs


async def amount(page: Page, test_id: str) -> Any:
    return await page.evaluate(f"{node(test_id)}?.querySelector('[data-amount]')?.dataset.amount")


async def bill_of(api: Api, tx: int) -> dict[str, Any]:
    bill: dict[str, Any] = ok(await api.get(f"/api/v1/transactions/{tx}/bill"))
    return bill


async def test_an_operator_opens_a_bill_re_bills_it_and_credits_the_re_bill(
    csms: Running, api: Api, chromium: str
) -> None:
    (tx,) = await billed_sessions(csms, api, "CP-BILL")
    (original,) = (await bill_of(api, tx))["cdrs"]
    await make_user(api, "ops-bill", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-bill")
        await shown(page, "overview")
        await click(page, "nav-transactions")
        await shown(page, "transactions")
        await click(page, f"tx-bill-{tx}")
        await page.wait_for(f"{node('bill')}?.dataset.cdrs", "1")
        assert await text(page, "bill-title") == f"充电记录 {tx} 的账单"
        assert await amount(page, "bill-total") == "10.00"
        assert await text(page, "bill-total") == "10.00 元"
        prefix = f"cdr-{original['id']}"
        assert await amount(page, f"{prefix}-total") == original["total"] == "10.00"
        assert await text(page, f"{prefix}-kwh") == original["energy_kwh"]
        assert await text(page, f"{prefix}-verdict") == "有效"
        lines = await page.evaluate(
            f"{node(prefix + '-lines')}.querySelectorAll('tbody tr').length"
        )
        assert lines == len(original["lines"]) > 0

        # re-bill by the dearer tariff: a reason first, then a confirm step that can be cancelled
        await click(page, "rebill-start")
        assert (await text(page, "rebill-problem")).startswith("请先填写原因")
        await fill(page, "rebill-reason", "wrong tariff assigned")
        await fill(page, "rebill-version", "2")
        await click(page, "rebill-start")
        assert (await text(page, "rebill-problem")).startswith("填写版本时也要填写电价编号")
        await fill(page, "rebill-version", "")
        await fill(page, "rebill-tariff", "dear")
        await click(page, "rebill-start")
        assert await page.evaluate(f"{node('rebill-confirm')}.hidden") is False
        assert "电价 dear" in await text(page, "rebill-question")
        await click(page, "rebill-no")
        assert await page.evaluate(f"{node('rebill-confirm')}.hidden") is True
        assert len((await bill_of(api, tx))["cdrs"]) == 1  # nothing sent
        await click(page, "rebill-start")
        await click(page, "rebill-yes")
        await page.wait_for(f"{node('bill-result')}.dataset.status", "ok")
        bill = await bill_of(api, tx)
        credit, rebill = bill["cdrs"][1:]
        assert credit["kind"] == "credit" and credit["corrects"] == original["id"]
        assert rebill["kind"] == "rebill" and rebill["tariff"]["id"] == "dear"
        assert rebill["total"] == "15.00" and bill["total"] == "15.00", bill
        assert rebill["detail"]["note"] == "wrong tariff assigned"
        assert (await text(page, "bill-answer")).startswith("已重新开票：")
        assert f"CDR {rebill['id']}" in await text(page, "bill-answer")
        await page.wait_for(f"{node('bill')}.dataset.cdrs", "3")
        assert await amount(page, "bill-total") == "15.00"
        assert await page.evaluate(f"{node('cdr-' + str(credit['id']))}.dataset.kind") == "credit"
        assert await amount(page, f"cdr-{credit['id']}-total") == credit["total"] == "-10.00"
        # the credited bill and the credit itself offer no credit any more
        assert not await exists(page, f"credit-{original['id']}-start")
        assert not await exists(page, f"credit-{credit['id']}-start")

        # credit the re-bill
        await fill(page, f"credit-{rebill['id']}-reason", "goodwill: charger fault")
        await click(page, f"credit-{rebill['id']}-start")
        assert "15.00" in await text(page, f"credit-{rebill['id']}-question")
        await click(page, f"credit-{rebill['id']}-yes")
        await page.wait_for(f"{node('bill')}.dataset.cdrs", "4")
        bill = await bill_of(api, tx)
        last = bill["cdrs"][-1]
        assert last["kind"] == "credit" and last["corrects"] == rebill["id"], last
        assert last["detail"]["note"] == "goodwill: charger fault"
        assert bill["total"] == "0.00"
        assert await amount(page, "bill-total") == "0.00"
        assert await text(page, "bill-answer") == f"已生成冲正记录 CDR {last['id']}（-15.00 元）。"
        assert not await exists(page, f"credit-{rebill['id']}-start")
        # no bill stands now: a second re-bill just bills again, and the form says so
        assert (await text(page, "rebill")).count("当前没有有效账单") == 1
        await fill(page, "rebill-reason", "bill again")
        await click(page, "rebill-start")
        await click(page, "rebill-yes")
        await page.wait_for(f"{node('bill')}.dataset.cdrs", "5")
        again = (await bill_of(api, tx))["cdrs"][-1]
        assert again["kind"] == "rebill" and again["tariff"]["id"] == "flat", again
        assert await amount(page, "bill-total") == "10.00"
        # someone else credits it meanwhile: the page says so and shows the records as they are
        await fill(page, f"credit-{again['id']}-reason", "duplicate")
        await click(page, f"credit-{again['id']}-start")
        path = f"/api/v1/cdrs/{again['id']}/credit"
        ok(await api.post(path, json={"note": "by someone else"}), 201)
        await click(page, f"credit-{again['id']}-yes")
        await page.wait_for(f"{node('bill')}.dataset.cdrs", "6")
        assert await page.evaluate(f"{node('bill-result')}.dataset.status") == "error"
        assert (await text(page, "bill-error")).startswith("操作未执行")
        assert "already been credited" in await text(page, "bill-error")
        assert await amount(page, "bill-total") == "0.00"
        assert [c["kind"] for c in (await bill_of(api, tx))["cdrs"]].count("credit") == 3

        # a number that is no transaction, and one that does not exist
        await page.evaluate("location.hash = '#/transactions/abc'")
        await page.wait_for(f"{node('bill-error')}?.textContent.startsWith('“abc”不是')", True)
        await page.evaluate("location.hash = '#/transactions/999999'")
        await page.wait_for(f"{node('bill-error')}?.textContent.startsWith('找不到')", True)
        await click(page, "bill-back")
        await shown(page, "transactions")
        assert await exists(page, f"tx-bill-{tx}")


async def test_the_billing_page_lists_cdrs_checks_chains_and_exports_the_settlement(
    csms: Running, api: Api, chromium: str, tmp_path: Path
) -> None:
    first, second = await billed_sessions(csms, api, "CP-SET", count=2)
    await set_up_other_station(csms, api)
    ok(await api.post(f"/api/v1/cdrs/{(await bill_of(api, first))['cdrs'][0]['id']}/credit",
                      json={"note": "test"}), 201)  # fmt: skip
    cdrs = ok(await api.get("/api/v1/cdrs"))
    assert len(cdrs) == 4, cdrs  # two bills on CP-SET, a credit, one bill on CP-OTHER
    since, until = await days_around(api)
    await make_user(api, "adm-bill", "admin")
    async with live_page(console_url(csms), chromium) as page:
        await page.call("Page.setDownloadBehavior", {"behavior": "allow",
                                                     "downloadPath": str(tmp_path)})  # fmt: skip
        await sign_in(page, "adm-bill")
        await shown(page, "overview")
        await click(page, "nav-billing")
        await shown(page, "billing")
        assert await page.evaluate(f"{node('cdrs')}.dataset.count") == "4"
        for cdr in cdrs:
            assert await text(page, f"cdr-row-{cdr['id']}-total") == cdr["total"]
        # the filters go to the API
        await fill(page, "cdr-filter-station", "CP-OTHER")
        await click(page, "cdr-apply")
        await page.wait_for(f"{node('cdrs')}.dataset.count", "1")
        await fill(page, "cdr-filter-station", "")
        await fill(page, "cdr-filter-operator", "op-none")
        await click(page, "cdr-apply")
        await page.wait_for(f"{node('cdrs')}.dataset.count", "0")
        assert await exists(page, "cdrs-empty")
        await fill(page, "cdr-filter-operator", "op-m")
        await click(page, "cdr-apply")
        await page.wait_for(f"{node('cdrs')}.dataset.count", "3")
        await fill(page, "cdr-filter-operator", "")
        await fill(page, "cdr-filter-until", "2020-01-01T00:00")
        await click(page, "cdr-apply")
        await page.wait_for(f"{node('cdrs')}.dataset.count", "0")
        await fill(page, "cdr-filter-until", "")
        await click(page, "cdr-apply")
        await page.wait_for(f"{node('cdrs')}.dataset.count", "4")

        # the settlement: the API's rows and totals in the page
        await fill(page, "settle-since", since.isoformat())
        await fill(page, "settle-until", until.isoformat())
        await fill(page, "settle-group", "site", "change")
        await click(page, "settle-show")
        await page.wait_for(f"{node('settle-result')}.dataset.status", "ok")
        query = f"since={since}&until={until}&period=day&group=site"
        statement = ok(await api.get(f"/api/v1/settlement?{query}"))
        assert await page.evaluate(f"{node('settle')}.dataset.rows") == str(len(statement["rows"]))
        for name in ("energy_money", "service_money", "idle_money", "session_fees", "total"):
            assert await text(page, f"settle-totals-{name}") == statement["totals"][name]
        assert statement["totals"]["total"] == "20.00"  # 3 bills of 10.00, one credit
        assert await text(page, "settle-totals-kwh") == statement["totals"]["energy_kwh"]
        for i, row in enumerate(statement["rows"]):
            assert await text(page, f"settle-row-{i}-total") == row["total"]
        assert await page.evaluate(f"{node('settle-balanced')}.dataset.balanced") == "true"
        assert "20.00 元" in await text(page, "settle-balanced")
        assert "Asia/Shanghai" in await text(page, "settle-help")
        # and the same statement as a file
        await click(page, "settle-csv")
        await page.wait_for(f"{node('settle-file')}?.dataset.format", "csv")
        name = f"settlement-site-day-{since}-{until}.csv"
        assert await page.evaluate(f"{node('settle-file')}.download") == name
        saved = tmp_path / name
        for _ in range(100):
            if saved.exists() and saved.stat().st_size > 0:
                break
            await asyncio.sleep(0.1)
        expected = (await api.get(f"/api/v1/settlement?{query}&format=csv")).text
        assert saved.read_text(encoding="utf-8") == expected
        assert expected.splitlines()[-1].split(",")[-1] == "20.00"
        # a period the API refuses: the form says what to fix
        await fill(page, "settle-until", (since - timedelta(days=1)).isoformat())
        await click(page, "settle-show")
        await page.wait_for(f"{node('settle-result')}.dataset.status", "error")
        assert (await text(page, "settle-error")).startswith("截止日期早于起始日期")
        await fill(page, "settle-until", (since + timedelta(days=4000)).isoformat())
        await click(page, "settle-csv")
        await page.wait_for(f"{node('settle-error')}?.textContent.includes('three years')", True)

        # the chains hold; then a tampered record shows where the chain breaks
        await click(page, "verify-run")
        await page.wait_for(f"{node('verify-result')}.dataset.status", "ok")
        assert await text(page, "verify-answer") == "全部 2 条单据链完好（共 4 条单据）。"
        (victim,) = [c for c in cdrs if c["transaction_id"] == second]
        await tamper(csms, "UPDATE cdrs SET total = total + 1 WHERE id = $1", victim["id"])
        await click(page, "verify-run")
        await page.wait_for(f"{node('verify-result')}.dataset.status", "error")
        assert (await text(page, "verify-answer")).startswith("有单据链被破坏")
        broken = victim["operator_id"]
        assert await page.evaluate(f"{node('chain-' + broken)}.dataset.ok") == "false"
        assert f"CDR {victim['id']}" in await text(page, f"chain-{broken}")

        # every word of the page and of a bill in English
        await click(page, "language")
        await page.wait_for(f"{node('nav-billing')}.textContent", "Billing")
        await shown(page, "billing")
        await click(page, "settle-show")
        await click(page, "verify-run")
        await page.wait_for(f"{node('verify-result')}.dataset.status", "error")
        await page.wait_for(f"{node('settle-result')}.dataset.status", "ok")
        words = await page.evaluate("document.body.innerText")
        assert "Settlement statement" in words and "A chain is broken" in words, words
        assert not CHINESE.search(words.replace("中文", "")), words
        await click(page, f"cdr-row-{victim['id']}-tx")
        await page.wait_for(f"{node('bill')}?.dataset.cdrs", "1")
        assert await text(page, "bill-title") == f"Bill of transaction {second}"
        assert await text(page, "bill-total") == "11.00 CNY"  # the tampered total, as stored
        words = await page.evaluate("document.body.innerText")
        assert "Re-bill" in words and "Credit" in words, words
        assert not CHINESE.search(words.replace("中文", "")), words
        await click(page, "bill-back")
        await shown(page, "transactions")
        assert await text(page, f"tx-bill-{second}") == "Bill"
        words = await page.evaluate("document.body.innerText")
        assert not CHINESE.search(words.replace("中文", "")), words


async def set_up_other_station(
    csms: Running, api: Api, station_id: str = "CP-OTHER", operator_id: str = "op-n", **extra: Any
) -> int:
    """One billed session (10 kWh) on another station, by default of another operator (its
    own CDR chain); the transaction's id."""
    body = {"id": station_id, "site_name": "Depot N", "owner_unit": "Unit 8",
            "operator_id": operator_id, "rated_power_kw": "120",
            "meter_cert_number": "JJG-1149-002", "meter_cert_expires_on": "2099-12-31"}  # fmt: skip
    ok(await api.post("/api/v1/stations", json=body | extra), 201)
    cp = await boot16(csms, station_id)
    first = now_ms() - timedelta(minutes=30)
    step = timedelta(minutes=15)
    tx = await session16(cp, [(first + step * n, wh) for n, wh in enumerate((0, 5000, 10000))])
    await cp.close()
    for _ in range(100):
        if (await bill_of(api, tx))["cdrs"]:
            return tx
        await asyncio.sleep(0.1)
    raise AssertionError(f"transaction {tx} was not billed")


async def days_around(api: Api) -> tuple[date, date]:
    """A range of local days (the CSMS's zone) holding every CDR's stop, a day either side."""
    cdrs = ok(await api.get("/api/v1/cdrs"))
    statement = ok(await api.get("/api/v1/settlement?since=2020-01-01&until=2020-01-01"))
    tz = ZoneInfo(statement["time_zone"])
    days = sorted({datetime.fromisoformat(c["stopped_at"]).astimezone(tz).date() for c in cdrs})
    return days[0] - timedelta(days=1), days[-1] + timedelta(days=1)


async def test_a_viewer_reads_bills_without_buttons_and_a_scoped_account_is_told(
    csms: Running, api: Api, chromium: str
) -> None:
    (tx,) = await billed_sessions(csms, api, "CP-VIEWB", county="怀仁市")
    mine = await set_up_other_station(csms, api, "CP-SC", "op-m", county="朔城区")
    # an open session on CP-VIEWB: 2.5 kWh so far
    cp = await boot16(csms, "CP-VIEWB")
    started = now_ms() - timedelta(minutes=10)
    running = await start16(cp, started, 11000)
    await meter16(cp, started + timedelta(minutes=5), 13500, running)
    await cp.close()
    since, until = await days_around(api)
    await make_user(api, "viewer-bill", "viewer")
    await make_user(api, "sc-bill", "operator", scope={"counties": ["朔城区"]})
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "viewer-bill")
        await shown(page, "overview")
        await page.evaluate(f"location.hash = '#/transactions/{tx}'")
        await page.wait_for(f"{node('bill')}?.dataset.cdrs", "1")
        assert await amount(page, "bill-total") == "10.00"
        assert await exists(page, "bill-viewer")
        assert not await exists(page, "rebill") and not await exists(page, "rebill-start")
        assert await page.evaluate("document.querySelector('[data-testid$=\"-start\"]')") is None
        # the open session: its cost so far, as the API prices it, and no CDR yet
        await page.evaluate(f"location.hash = '#/transactions/{running}'")
        await page.wait_for(f"{node('bill')}?.dataset.cdrs", "0")
        cost = (await bill_of(api, running))["running_cost"]
        assert cost["total"] == "2.50" and cost["energy_kwh"] == "2.500", cost
        assert await amount(page, "running-total") == "2.50"
        assert await text(page, "bill-total") == "尚未开票"
        assert (await text(page, "bill-hint")).startswith("充电尚未结束")
        await click(page, "nav-billing")
        await shown(page, "billing")
        assert await page.evaluate(f"{node('cdrs')}.dataset.count") == "2"
        assert await exists(page, "verify-admin-only") and not await exists(page, "verify-run")
        await fill(page, "settle-since", date(2020, 1, 1).isoformat())
        await fill(page, "settle-until", date(2020, 1, 31).isoformat())
        await click(page, "settle-show")
        await page.wait_for(f"{node('settle-result')}.dataset.status", "ok")
        assert await exists(page, "settle-empty")
        assert await text(page, "settle-totals-total") == "0.00"

        # a county-scoped operator: its county's records only; another county's is not found
        await click(page, "sign-out")
        await sign_in(page, "sc-bill")  # back on the billing page it signed out of
        await shown(page, "billing")
        assert await page.evaluate(f"{node('cdrs')}.dataset.count") == "1"
        (own,) = (await bill_of(api, mine))["cdrs"]
        assert await exists(page, f"cdr-row-{own['id']}")
        await fill(page, "settle-since", since.isoformat())
        await fill(page, "settle-until", until.isoformat())
        await click(page, "settle-show")
        await page.wait_for(f"{node('settle-result')}.dataset.status", "ok")
        assert await text(page, "settle-totals-total") == "10.00"  # the network's is 20.00
        assert not await exists(page, "verify-run")
        await page.evaluate(f"location.hash = '#/transactions/{tx}'")
        await page.wait_for(f"{node('bill-error')}?.textContent.startsWith('找不到')", True)
        await page.evaluate(f"location.hash = '#/transactions/{mine}'")
        await page.wait_for(f"{node('bill')}?.dataset.cdrs", "1")
        assert await exists(page, f"credit-{own['id']}-start") and await exists(page, "rebill")
    # nothing was written
    assert [c["kind"] for c in (await bill_of(api, tx))["cdrs"]] == ["bill"]
    assert Decimal((await bill_of(api, tx))["total"]) == Decimal("10.00")
    network = ok(await api.get(f"/api/v1/settlement?since={since}&until={until}"))
    assert network["totals"]["total"] == "20.00"
