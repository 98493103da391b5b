"""The console's sharing page in headless Chromium: an operator creates an owner unit, edits it,
gives it members and a shared station, draws an opening schedule on the week calendar (dragged
and clicked half hours, one stretch past midnight, dated exceptions) and saves it, and the API
holds exactly those windows; the schedule is ended, a successor drawn from the example, an
overlap refused with the API's reason, the successor deleted after the in-page confirm; the
holiday calendar gets a holiday and an adjusted working day (and loses one) as GET /calendar
shows. A viewer reads it all with no write buttons, in English too; a county-scoped account is
told its scope does not allow sharing.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from csms.bootstrap import Running
from csms.clock import utcnow
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

UNIT = "gov-sz"
DRAWN = [
    {"days": ["mon", "wed"], "start": "18:00", "end": "08:00"},
    {"days": ["sat"], "start": "10:00", "end": "12:00"},
]
EXAMPLE = [
    {"days": ["mon", "tue", "wed", "thu"], "start": "18:00", "end": "08:00"},
    {"days": ["fri"], "start": "18:00", "end": "24:00"},
    {"days": ["sat", "sun"], "start": "00:00", "end": "24:00"},
]


async def drag(page: Page, day: str, first: int, last: int) -> None:
    """Press the mouse on one half hour of `day`, move over the next ones up to `last`, let go."""
    await page.evaluate(
        "(() => { const cell = (i) => "
        f'document.querySelector(`[data-testid="sh-cell-{day}-${{i}}"]`);'
        f" cell({first}).dispatchEvent(new MouseEvent('mousedown', {{bubbles: true}}));"
        f" for (let i = {first + 1}; i <= {last}; i++)"
        " cell(i).dispatchEvent(new MouseEvent('mouseenter'));"
        " document.dispatchEvent(new MouseEvent('mouseup', {bubbles: true})); })()"
    )


async def result(page: Page, status: str) -> str:
    """The result line once it reports `status` ('ok' or 'error'): its text."""
    await page.wait_for(f"{node('sh-result')}.dataset.status", status)
    found: str = await text(page, "sh-answer" if status == "ok" else "sh-error")
    return found


async def wait_result(page: Page, status: str, start: str) -> str:
    """Wait for a result line of `status` whose text starts with `start`."""
    testid = "sh-answer" if status == "ok" else "sh-error"
    await page.wait_for(
        f"({node(testid)}?.textContent ?? '').startsWith({json.dumps(start)})", True
    )
    assert await page.evaluate(f"{node('sh-result')}.dataset.status") == status
    found: str = await text(page, testid)
    return found


async def opened(page: Page, testid: str) -> Any:
    return await page.evaluate(f"{node(testid)}.dataset.open")


async def test_an_operator_sets_up_a_unit_and_draws_its_schedule(
    csms: Running, api: Api, chromium: str
) -> None:
    await register(api)  # CON-1 and CON-2
    await make_user(api, "ops-share", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-share")
        await shown(page, "overview")
        await click(page, "nav-sharing")
        await shown(page, "sharing")
        assert await page.evaluate(f"{node('sh-units')}.dataset.count") == "0"
        assert await exists(page, "sh-no-units") and not await exists(page, "sh-viewer")

        # a bad unit id is caught before sending
        await fill(page, "sh-new-id", "政府")
        await click(page, "sh-new-submit")
        assert (await result(page, "error")).startswith("请先修正：单位编号须为")
        await fill(page, "sh-new-id", UNIT)
        await fill(page, "sh-new-name", "朔州市机关事务局")
        await fill(page, "sh-new-county", "朔城区")
        await fill(page, "sh-new-policy", "stop", "change")
        await fill(page, "sh-new-grace", "10")
        await fill(page, "sh-new-opened", "2026-06-01")
        await click(page, "sh-new-submit")
        await page.wait_for("location.hash", f"#/sharing/{UNIT}")
        await shown(page, "sharing")
        await wait_result(page, "ok", f"产权单位 {UNIT} 已新建")
        assert await text(page, "sh-unit-title") == f"产权单位 朔州市机关事务局 {UNIT}"
        unit = ok(await api.get(f"/api/v1/units/{UNIT}"))
        assert (unit["kind"], unit["county"], unit["close_policy"]) == (
            "government",
            "朔城区",
            "stop",
        )
        assert (unit["close_grace_minutes"], unit["opened_on"]) == (10, "2026-06-01")

        # edit its name and message
        await fill(page, "sh-edit-name", "朔州市政府机关事务局")
        await fill(page, "sh-edit-message", "对外开放时段已结束")
        await click(page, "sh-edit-submit")
        await wait_result(page, "ok", f"产权单位 {UNIT} 已保存")
        unit = ok(await api.get(f"/api/v1/units/{UNIT}"))
        assert unit["name"] == "朔州市政府机关事务局"
        assert unit["close_message"] == "对外开放时段已结束" and unit["county"] == "朔城区"

        # members: a group and a card, then the card removed
        await fill(page, "sh-member-kind", "group", "change")
        await fill(page, "sh-member-value", "SZS-STAFF")
        await click(page, "sh-member-submit")
        await wait_result(page, "ok", "成员已更新（1 个）")
        await fill(page, "sh-member-value", "CARD-7")
        await click(page, "sh-member-submit")
        await wait_result(page, "ok", "成员已更新（2 个）")
        members = ok(await api.get(f"/api/v1/units/{UNIT}"))["members"]
        assert members == [
            {"kind": "group", "value": "SZS-STAFF"},
            {"kind": "token", "value": "CARD-7"},
        ]
        await click(page, "sh-member-remove-token-CARD-7")
        await wait_result(page, "ok", "成员已更新（1 个）")
        members = ok(await api.get(f"/api/v1/units/{UNIT}"))["members"]
        assert members == [{"kind": "group", "value": "SZS-STAFF"}]

        # a station joins the unit as shared, then becomes private
        await fill(page, "sh-station-id", "CON-1")
        await click(page, "sh-station-submit")
        await wait_result(page, "ok", "充电桩 CON-1 现为“共享”")
        access = ok(await api.get("/api/v1/stations/CON-1/access"))
        assert (access["access_mode"], access["unit_id"]) == ("shared", UNIT)
        assert await page.evaluate(f"{node('sh-station-CON-1')}.dataset.mode") == "shared"
        # no schedule yet: the public may not charge (unless today is a holiday)
        assert (
            await page.evaluate(f"{node('sh-station-now-CON-1')}.dataset.open")
            == str(access["public_may_charge"]).lower()
        )
        await fill(page, "sh-station-mode-CON-1", "private", "change")
        await click(page, "sh-station-save-CON-1")
        await wait_result(page, "ok", "充电桩 CON-1 现为“私有”")
        assert ok(await api.get("/api/v1/stations/CON-1/access"))["access_mode"] == "private"
        # an unknown station: the API's refusal, explained
        await fill(page, "sh-station-id", "NOPE-1")
        await click(page, "sh-station-submit")
        assert "NOPE-1" in await wait_result(page, "error", "输入有误，请检查后重试")

        # draw: Monday and Wednesday 18:00 to the next morning 08:00, Saturday 10:00-12:00
        assert await exists(page, "sh-no-schedules")
        await click(page, "sh-brush-open")
        for day, following in (("mon", "tue"), ("wed", "thu")):
            await drag(page, day, 36, 47)
            await drag(page, following, 0, 15)
        for half_hour in (20, 21, 22, 23):
            await click(page, f"sh-cell-sat-{half_hour}")
        # painted Sunday morning, then painted back closed
        await drag(page, "sun", 0, 3)
        await click(page, "sh-brush-closed")
        await drag(page, "sun", 0, 3)
        assert await opened(page, "sh-cell-sun-0") == ""
        assert await opened(page, "sh-cell-mon-36") == "full"
        await fill(page, "sh-schedule-from", "2026-06-01")
        await click(page, "sh-exc-add")
        await click(page, "sh-exc-add")
        rows = "document.querySelectorAll('[data-testid=\"sh-exceptions-new\"] tr')"
        set_row = (
            "((row, values) => { for (const [id, value] of Object.entries(values)) {"
            ' const e = row.querySelector(`[data-testid="${id}"]`); e.value = value;'
            " e.dispatchEvent(new Event('change', {bubbles: true})); } })"
        )
        first = {"sh-exc-date": "2026-06-10", "sh-exc-kind": "closed", "sh-exc-note": "内部活动"}
        await page.evaluate(f"{set_row}({rows}[0], {json.dumps(first)})")
        second = {"sh-exc-date": "2026-06-13", "sh-exc-kind": "windows", "sh-exc-windows": "9-11"}
        await page.evaluate(f"{set_row}({rows}[1], {json.dumps(second)})")
        await click(page, "sh-schedule-submit")
        error = await result(page, "error")
        assert error.startswith("请先修正") and "2026-06-13" in error, error
        fixed = {"sh-exc-windows": "09:00-11:00, 14:00-16:00"}
        await page.evaluate(f"{set_row}({rows}[1], {json.dumps(fixed)})")
        sent = json.loads(await text(page, "sh-schedule-json"))
        assert sent["windows"] == DRAWN, sent
        await click(page, "sh-schedule-submit")
        answer = await wait_result(page, "ok", "开放时段 #")
        assert answer.endswith("已保存：周一、周三 18:00–08:00；周六 10:00–12:00"), answer

        (stored,) = ok(await api.get(f"/api/v1/units/{UNIT}/schedules"))
        sid = stored["id"]
        assert stored["windows"] == DRAWN
        assert stored["effective_from"] == "2026-06-01" and stored["effective_to"] is None
        assert stored["station_id"] is None and stored["holidays_open"] is True
        assert stored["exceptions"] == [
            {"date": "2026-06-10", "kind": "closed", "windows": [], "note": "内部活动"},
            {
                "date": "2026-06-13",
                "kind": "windows",
                "windows": [
                    {"start": "09:00", "end": "11:00"},
                    {"start": "14:00", "end": "16:00"},
                ],
                "note": "",
            },
        ]
        assert "ops-share" in stored["created_by"]
        # the card's week: Monday evening runs into Tuesday morning
        grid = f"sh-schedule-{sid}-week"
        for cell, state in (("mon-36", "full"), ("tue-15", "full"), ("tue-16", ""),
                            ("tue-36", ""), ("thu-0", "full"), ("sat-20", "full"),
                            ("sat-24", ""), ("sun-0", "")):  # fmt: skip
            assert await opened(page, f"{grid}-{cell}") == state, cell
        assert await exists(page, f"sh-schedule-{sid}-exceptions")

        # copied into the editor, the same windows would be sent
        await click(page, f"sh-schedule-{sid}-copy")
        await wait_result(page, "ok", f"时段 #{sid} 已复制")
        copied = json.loads(await text(page, "sh-schedule-json"))
        assert copied["windows"] == DRAWN and len(copied["exceptions"]) == 2

        # end it, then draw its successor from the example
        await click(page, f"sh-schedule-{sid}-end")
        assert await result(page, "error") == "请先选择最后生效日。"
        await fill(page, f"sh-schedule-{sid}-last-day", "2026-08-31")
        await click(page, f"sh-schedule-{sid}-end")
        await wait_result(page, "ok", f"时段 #{sid} 的最后生效日为 2026-08-31")
        (stored,) = ok(await api.get(f"/api/v1/units/{UNIT}/schedules"))
        assert stored["effective_to"] == "2026-08-31"

        await click(page, "sh-example")
        await fill(page, "sh-schedule-from", "2026-09-01")
        await click(page, "sh-schedule-submit")
        await wait_result(page, "ok", "开放时段 #")
        first_schedule, successor = ok(await api.get(f"/api/v1/units/{UNIT}/schedules"))
        assert first_schedule["id"] == sid and successor["windows"] == EXAMPLE
        assert successor["effective_from"] == "2026-09-01" and successor["exceptions"] == []

        # a third one overlapping the successor: the API's 409, explained
        await click(page, "sh-cell-fri-10")
        await fill(page, "sh-schedule-from", "2026-10-01")
        await click(page, "sh-schedule-submit")
        error = await wait_result(page, "error", "操作未执行：")
        assert f"schedule {successor['id']}" in error and "end it first" in error, error

        # delete the successor: the confirm step first
        other = successor["id"]
        await click(page, f"sh-schedule-{other}-delete")
        assert await page.evaluate(f"{node(f'sh-schedule-{other}-confirm')}.hidden") is False
        await click(page, f"sh-schedule-{other}-delete-no")
        assert await page.evaluate(f"{node(f'sh-schedule-{other}-confirm')}.hidden") is True
        assert len(ok(await api.get(f"/api/v1/units/{UNIT}/schedules"))) == 2
        await click(page, f"sh-schedule-{other}-delete")
        await click(page, f"sh-schedule-{other}-delete-yes")
        await wait_result(page, "ok", f"时段 #{other} 已删除")
        remaining = ok(await api.get(f"/api/v1/units/{UNIT}/schedules"))
        assert [s["id"] for s in remaining] == [sid]
        assert not await exists(page, f"sh-schedule-{other}")

        # the unit's report for a month long begun (by the CSMS clock): the API's figures
        month = (utcnow() - timedelta(days=40)).strftime("%Y-%m")
        await fill(page, "sh-report-month", "")
        await click(page, "sh-report-submit")
        assert await result(page, "error") == "请先修正：请选择月份"
        await fill(page, "sh-report-month", month)
        await click(page, "sh-report-submit")
        await page.wait_for(f"{node('sh-report-refused')}?.textContent ?? null", "0")
        report = ok(await api.get(f"/api/v1/units/{UNIT}/report?month={month}"))
        assert (await text(page, "sh-report-period")).startswith(month)
        assert await text(page, "sh-report-hours") == report["public_hours_open"]
        assert await text(page, "sh-report-sessions") == "公众 0 次，成员 0 次"
        assert await text(page, "sh-report-public") == "0 笔，0.000 kWh，0.00 元"
        assert await page.evaluate(
            "document.querySelectorAll('[data-testid=\"sh-report-stations\"] tbody tr').length"
        ) == len(report["stations"])

        # the holiday calendar: next year's New Year holiday and an adjusted working day
        covers = ok(await api.get("/api/v1/calendar"))["covers_years"]
        year = covers[1] + 1
        assert (await text(page, "sh-calendar-covers")).endswith(f"{covers[0]}–{covers[1]} 年")
        await fill(page, "sh-year", str(year), "change")
        assert await page.evaluate(f"{node(f'sh-month-{year}-01')}.dataset.count") == "0"
        await fill(page, "sh-holiday-name", "元旦")
        await fill(page, "sh-holiday-from", f"{year}-01-01")
        await fill(page, "sh-holiday-to", f"{year}-01-03")
        await click(page, "sh-holiday-submit")
        await wait_result(page, "ok", "节假日日历已保存")
        calendar = ok(await api.get("/api/v1/calendar"))
        assert {"name": "元旦", "from": f"{year}-01-01", "to": f"{year}-01-03"} in calendar[
            "holidays"
        ]
        assert calendar["covers_years"] == [covers[0], year]
        assert len(calendar["sources"]) == 3  # an edit keeps the notices the dates came from
        await page.wait_for(f"{node(f'sh-holiday-{year}-01-01')} !== null", True)
        assert (await text(page, f"sh-holiday-{year}-01-01")).startswith(
            f"元旦：{year}-01-01 至 {year}-01-03（3 天）"
        )
        # the first Saturday or Sunday after the holiday, and a weekday the API refuses
        weekend = await page.evaluate(
            f"(() => {{ for (let d = 4; ; d++) {{ const x = new Date(Date.UTC({year}, 0, d));"
            " if (x.getUTCDay() % 6 === 0) return x.toISOString().slice(0, 10); } })()"
        )
        weekday = await page.evaluate(
            f"(() => {{ for (let d = 4; ; d++) {{ const x = new Date(Date.UTC({year}, 0, d));"
            " if (x.getUTCDay() % 6 !== 0) return x.toISOString().slice(0, 10); } })()"
        )
        await fill(page, "sh-workday-day", weekday)
        await click(page, "sh-workday-submit")
        error = await wait_result(page, "error", "输入有误，请检查后重试")
        assert "is not a Saturday or Sunday" in error, error
        await fill(page, "sh-workday-day", weekend)
        await click(page, "sh-workday-submit")
        await wait_result(page, "ok", "节假日日历已保存")
        assert weekend in ok(await api.get("/api/v1/calendar"))["adjusted_workdays"]
        await page.wait_for(f"{node(f'sh-workday-{weekend}')} !== null", True)
        await click(page, f"sh-workday-{weekend}-remove")
        await click(page, f"sh-workday-{weekend}-remove-yes")
        await page.wait_for(f"{node(f'sh-workday-{weekend}')} === null", True)
        calendar = ok(await api.get("/api/v1/calendar"))
        assert weekend not in calendar["adjusted_workdays"]
        assert calendar["holidays"][-1]["from"] == f"{year}-01-01"

        # back to the list: the unit is there
        await click(page, "sh-back")
        await page.wait_for(f"{node('sh-units')}?.dataset.count ?? null", "1")
        assert await exists(page, f"sh-unit-{UNIT}")


async def test_a_viewer_reads_sharing_without_write_buttons_in_english(
    csms: Running, api: Api, chromium: str
) -> None:
    await register(api)
    unit = {"unit_id": "hosp-1", "name": "City Hospital", "kind": "hospital",
            "members": [{"kind": "group", "value": "HOSP-STAFF"}]}  # fmt: skip
    ok(await api.post("/api/v1/units", json=unit), 201)
    body = {"access_mode": "shared", "unit_id": "hosp-1"}
    ok(await api.put("/api/v1/stations/CON-2/access", json=body))
    schedule = {
        "effective_from": "2026-01-01",
        "windows": [{"days": ["sat", "sun"], "start": "07:15", "end": "20:00"}],
        "exceptions": [{"date": "2026-05-02", "kind": "open", "note": "fair"}],
    }
    sid = ok(await api.post("/api/v1/units/hosp-1/schedules", json=schedule), 201)["id"]
    await make_user(api, "view-share", "viewer")
    await make_user(api, "county-share", "operator", scope={"counties": ["朔城区"]})
    await make_user(api, "unit-share", "operator", scope={"owner_unit": "hosp-1"})
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "view-share")
        await shown(page, "overview")
        await click(page, "language")
        await page.wait_for(f"{node('nav-sharing')}.textContent", "Sharing")
        await click(page, "nav-sharing")
        await shown(page, "sharing")
        assert await page.evaluate("document.querySelector('h1').textContent") == "Sharing"
        assert await exists(page, "sh-unit-hosp-1") and await exists(page, "sh-viewer")
        assert not await exists(page, "sh-unit-create")
        assert (await text(page, "sh-viewer")).startswith("A viewer account reads")
        await click(page, "sh-unit-link-hosp-1")
        await page.wait_for(f"{node('sh-unit-title')} !== null", True)
        await shown(page, "sharing")
        assert await text(page, "sh-unit-title") == "Owner unit City Hospital hosp-1"
        assert await text(page, "sh-field-kind") == "Hospital"
        assert await exists(page, "sh-member-group-HOSP-STAFF")
        assert await exists(page, "sh-station-CON-2")
        assert await text(page, f"sh-schedule-{sid}-windows") == "Windows: Sat, Sun 07:15–20:00"
        assert (await text(page, f"sh-schedule-{sid}-effective")).startswith(
            "in force 2026-01-01 to open-ended"
        )
        grid = f"sh-schedule-{sid}-week"
        for cell, state in (("sat-13", ""), ("sat-14", "part"), ("sat-15", "full"),
                            ("sun-39", "full"), ("sun-40", ""), ("mon-20", "")):  # fmt: skip
            assert await opened(page, f"{grid}-{cell}") == state, cell
        # read only: no form, no button to change anything
        absent = ["sh-edit-submit", "sh-member-add", "sh-station-add", "sh-schedule-editor"]
        absent += [f"sh-schedule-{sid}-end", f"sh-schedule-{sid}-delete"]
        absent += ["sh-holiday-add", "sh-workday-add"]
        for testid in absent:
            assert not await exists(page, testid), testid
        # the only button reads the month's report
        buttons = "[...document.querySelectorAll('[data-testid=\"view\"] button')]"
        assert await page.evaluate(f"{buttons}.map((b) => b.dataset.testid)") == [
            "sh-report-submit"
        ]
        month = (utcnow() - timedelta(days=40)).strftime("%Y-%m")
        await fill(page, "sh-report-month", month)
        await click(page, "sh-report-submit")
        await page.wait_for(
            f"{node('sh-report-sessions')}?.textContent ?? null", "public 0, members 0"
        )
        assert await text(page, "sh-report-before") == "no opening date given"
        words = await page.evaluate(f"{node('view')}.innerText")
        for chinese in ("产权单位", "开放时段", "节假日日历", "成员", "周六"):
            assert chinese not in words, chinese
        assert "Holiday calendar" in words and "Opening schedules" in words
        await click(page, "sign-out")
        await page.wait_for("document.body.dataset.state", "signed-out")

        # a county-scoped account signing in here (#/sharing/hosp-1): the unit owns no
        # station in its county, so it is not found; the list is empty, nothing to create
        await sign_in(page, "county-share")
        await page.wait_for("document.body.dataset.page", "sharing")
        await page.wait_for(f"{node('message')}.dataset.kind", "error")
        assert (await text(page, "message")).startswith("Not found")
        await page.evaluate("location.hash = '#/sharing'")
        await shown(page, "sharing")
        assert await page.evaluate(f"{node('sh-units')}.dataset.count") == "0"
        assert await exists(page, "sh-county") and await exists(page, "sh-calendar-covers")
        assert not await exists(page, "sh-unit-create") and not await exists(page, "sh-holiday-add")
        await click(page, "sign-out")
        await page.wait_for("document.body.dataset.state", "signed-out")

        # the unit's own account goes straight to its unit and manages its members
        await sign_in(page, "unit-share")
        await shown(page, "sharing")
        assert await text(page, "sh-unit-title") == "Owner unit City Hospital hosp-1"
        assert not await exists(page, "sh-back") and not await exists(page, "sh-holiday-add")
        await fill(page, "sh-member-value", "NURSE-1")
        await click(page, "sh-member-submit")
        await page.wait_for(f"{node('sh-answer')}?.textContent ?? null", "Members updated (2).")
        members = ok(await api.get("/api/v1/units/hosp-1"))["members"]
        assert {"kind": "token", "value": "NURSE-1"} in members
