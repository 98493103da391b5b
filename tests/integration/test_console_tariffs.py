"""The console's tariffs page in headless Chromium: an operator draws a two-band tariff in the
editor (a band picked, the day filled, a stretch dragged over the half-hour cells), is stopped
by the console's own checks and by the API's 422 (explained), creates it, sees it in the list
with its 24-hour bar, and the API holds the bands as drawn; a viewer sees the list with its
assignment but no editor, in English too, and previews a session's cost as the API quotes it
(POST /api/v1/tariffs/{id}/quote: the page computes no bill itself). An operator draws a new
version of a tariff from its newest version (a day plan for holidays in some months added and
moved first; a plan set that leaves days uncovered is refused by the console), sees it in GET
versions and opens the older version as bars; assigns a tariff to a station and deletes the
assignment after a confirm step, each checked through the API; viewers get neither.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from csms.bootstrap import Running
from tests.chromium import live_page
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

NIGHT_DAY = [
    {"start": "00:00", "end": "08:00", "band": "valley"},
    {"start": "08:00", "end": "22:00", "band": "flat"},
    {"start": "22:00", "end": "24:00", "band": "valley"},
]


def bands_of(bar: str) -> str:
    """The segments of a drawn bar as 'band start-end' strings, left to right."""
    return (
        f"[...{node(bar)}.children].map((s) => "
        "`${s.dataset.band} ${s.dataset.start}-${s.dataset.end}`)"
    )


def instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def local_input(moment: str) -> str:
    """JavaScript: an instant as a datetime-local input's value in the browser's zone."""
    return (
        f"(d => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString()"
        f".slice(0, 16))(new Date('{moment}'))"
    )


async def test_an_operator_draws_a_two_band_tariff(csms: Running, api: Api, chromium: str) -> None:
    await make_user(api, "ops-tariff", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-tariff")
        await shown(page, "overview")
        await click(page, "nav-tariffs")
        await shown(page, "tariffs")
        assert await page.evaluate(f"{node('tariffs')}.dataset.count") == "0"
        assert await exists(page, "tariffs-empty")
        assert not await exists(page, "tariff-preview")  # nothing to preview without a tariff

        await fill(page, "tariff-new-id", "night-day")
        await fill(page, "tariff-new-name", "昼夜电价")
        await fill(page, "tariff-new-valley-energy", "0.3")
        await fill(page, "tariff-new-valley-service", "0.4000")
        await fill(page, "tariff-new-flat-energy", "0.65")
        await fill(page, "tariff-new-flat-service", "0.6")
        # only two half hours drawn: the console refuses before sending
        await click(page, "tariff-brush-valley")
        await click(page, "tariff-cell-0")
        await click(page, "tariff-cell-1")
        await click(page, "tariff-create-submit")
        await page.wait_for(f"{node('tariff-result')}.dataset.status", "error")
        error = await text(page, "tariff-error")
        assert error.startswith("请先修正") and "46 个半小时" in error and "01:00" in error, error

        # the whole day valley, then 08:00-22:00 dragged flat
        await click(page, "tariff-fill-all")
        await click(page, "tariff-brush-flat")
        await page.evaluate(
            "(() => { const cell = (i) => "
            'document.querySelector(`[data-testid="tariff-cell-${i}"]`);'
            " cell(16).dispatchEvent(new MouseEvent('mousedown', {bubbles: true}));"
            " for (let i = 17; i < 44; i++) cell(i).dispatchEvent(new MouseEvent('mouseenter'));"
            " document.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));"
            " cell(45).dispatchEvent(new MouseEvent('mouseenter')); })()"
        )
        assert await page.evaluate(f"{node('tariff-cell-44')}.dataset.band") == "valley"
        sent = json.loads(await text(page, "tariff-json"))
        assert sent["plans"] == [{"periods": NIGHT_DAY}], sent
        assert sent["prices"] == {
            "valley": {"energy": "0.3", "service": "0.4000"},
            "flat": {"energy": "0.65", "service": "0.6"},
        }

        # a price the console cannot judge but the API's policy refuses: the 422, explained
        await fill(page, "tariff-new-flat-service", "5")
        await click(page, "tariff-create-submit")
        await page.wait_for(f"{node('tariff-result')}.dataset.status", "error")
        error = await text(page, "tariff-error")
        assert error.startswith("输入有误，请检查后重试") and "flat" in error, error
        # more decimals than the API allows: caught before sending
        await fill(page, "tariff-new-flat-service", "0.60001")
        await click(page, "tariff-create-submit")
        await page.wait_for(f"{node('tariff-error')}?.textContent.startsWith('请先修正')", True)
        assert "平段的服务费" in await text(page, "tariff-error")
        await fill(page, "tariff-new-flat-service", "0.6")

        await click(page, "tariff-create-submit")
        await page.wait_for(f"{node('tariff-result')}.dataset.status", "ok")
        assert await text(page, "tariff-answer") == "电价 night-day 已新建（第 1 版）。"
        assert await page.evaluate(f"{node('tariffs')}.dataset.count") == "1"
        assert await page.evaluate(bands_of("tariff-night-day-bar-0")) == [
            "valley 00:00-08:00",
            "flat 08:00-22:00",
            "valley 22:00-24:00",
        ]
        assert "低谷 0.3+0.4000" in await text(page, "tariff-night-day-bar-0")
        assert await text(page, "tariff-night-day-idle") == "不收占位费。"
        # the editor in English
        await click(page, "language")
        await shown(page, "tariffs")
        await page.wait_for(f"{node('tariff-create-submit')}.textContent", "Create tariff")
        assert await text(page, "tariff-brush-valley") == "Valley"
        await click(page, "tariff-create-submit")
        await page.wait_for(f"{node('tariff-result')}.dataset.status", "error")
        assert (await text(page, "tariff-error")).startswith(
            "Correct this first: the tariff id must be 1-64 letters"
        )

    stored = ok(await api.get("/api/v1/tariffs/night-day"))
    assert stored["name"] == "昼夜电价" and stored["version"] == 1
    assert stored["plans"] == [{"months": [], "day_types": [], "periods": NIGHT_DAY}]
    assert stored["idle_fee"] is None
    prices = {
        band: {kind: Decimal(value) for kind, value in price.items()}
        for band, price in stored["prices"].items()
    }
    assert prices == {
        "valley": {"energy": Decimal("0.3"), "service": Decimal("0.4")},
        "flat": {"energy": Decimal("0.65"), "service": Decimal("0.6")},
    }
    assert stored["created_by"] is not None and "ops-tariff" in stored["created_by"]


async def test_a_viewer_sees_tariffs_with_assignments_and_no_editor(
    csms: Running, api: Api, chromium: str
) -> None:
    body = {
        "tariff_id": "sz-2026",
        "name": "朔州公共桩 2026",
        "effective_from": "2026-01-01T00:00:00+08:00",
        "prices": {
            "peak": {"energy": "0.9000", "service": "0.8000"},
            "valley": {"energy": "0.3000", "service": "0.4000"},
        },
        "plans": [
            {
                "day_types": ["workday"],
                "periods": [
                    {"start": "00:00", "end": "07:00", "band": "valley"},
                    {"start": "07:00", "end": "24:00", "band": "peak"},
                ],
            },
            {"periods": [{"start": "00:00", "end": "24:00", "band": "valley"}]},
        ],
        "idle_fee": {"per_minute": "0.5000", "grace_minutes": 15, "cap": "50.00"},
    }
    ok(await api.post("/api/v1/tariffs", json=body), 201)
    assignment = {
        "tariff_id": "sz-2026",
        "scope": "network",
        "effective_from": body["effective_from"],
    }
    ok(await api.post("/api/v1/tariff-assignments", json=assignment), 201)
    await make_user(api, "view-tariff", "viewer")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "view-tariff")
        await shown(page, "overview")
        await click(page, "nav-tariffs")
        await shown(page, "tariffs")
        assert await page.evaluate(f"{node('tariffs')}.dataset.count") == "1"
        assert not await exists(page, "tariff-editor")
        assert await exists(page, "tariffs-viewer")
        # assignments and versions are read, not written
        assert await page.evaluate(f"{node('assignments')}.dataset.count") == "1"
        assert not await exists(page, "assign-form")
        assert (
            await page.evaluate(f"{node('assignments-table')}.querySelectorAll('button').length")
            == 0
        )
        assert not await exists(page, "tariff-sz-2026-new-version")
        await click(page, "tariff-sz-2026-show-versions")
        await page.wait_for(f"{node('tariff-sz-2026-versions-list')}?.dataset.count ?? null", "1")
        assert await page.evaluate(bands_of("tariff-sz-2026-bar-0")) == [
            "valley 00:00-07:00",
            "peak 07:00-24:00",
        ]
        assert await page.evaluate(bands_of("tariff-sz-2026-bar-1")) == ["valley 00:00-24:00"]
        assert (await text(page, "tariff-sz-2026-assigned")).startswith("适用于：全网")
        # a workday session 06:00-08:00 (UTC+8), 10 kWh, bay freed 08:30: 5 kWh valley (1.50 +
        # 2.00), 5 kWh peak (4.50 + 4.00), 30 idle minutes - 15 grace = 15 x 0.50 = 7.50
        for test_id, moment in (
            ("preview-start", "2026-03-10T06:00:00+08:00"),
            ("preview-end", "2026-03-10T08:00:00+08:00"),
            ("preview-occupied", "2026-03-10T08:30:00+08:00"),
        ):
            await fill(page, test_id, await page.evaluate(local_input(moment)))
        await fill(page, "preview-kwh", "10")
        await click(page, "preview-submit")
        await page.wait_for(f"{node('preview-total')}?.dataset.total ?? null", "19.50")
        assert "电费 6.00 元" in await text(page, "preview-total")
        rows = f"[...{node('preview-lines')}.querySelectorAll('tbody tr')].length"
        assert await page.evaluate(rows) == 2
        idle = await text(page, "tariff-sz-2026-idle")
        assert "0.5000" in idle and "15" in idle and "50.00" in idle, idle

        await click(page, "language")
        await shown(page, "tariffs")
        await page.wait_for(f"{node('nav-tariffs')}.textContent", "Tariffs")
        assert await page.evaluate("document.querySelector('h1').textContent") == "Tariffs"
        assert "Peak 0.9000+0.8000" in await text(page, "tariff-sz-2026-bar-0")
        assert (await text(page, "tariff-sz-2026-assigned")).startswith(
            "Applies to: the whole network"
        )
        assert (await text(page, "tariff-sz-2026-idle")).startswith("Idle fee: 0.5000 CNY a minute")
        assert (await text(page, "tariffs-viewer")).startswith("A viewer account reads tariffs")
        preview_title = "document.querySelector('[data-testid=tariff-preview] h2').textContent"
        assert await page.evaluate(preview_title) == "Cost preview"
        html = await page.evaluate("document.body.innerText")
        assert "电价" not in html and "低谷" not in html


SZ_PLANS = [
    {
        "day_types": ["workday"],
        "periods": [
            {"start": "00:00", "end": "07:00", "band": "valley"},
            {"start": "07:00", "end": "24:00", "band": "peak"},
        ],
    },
    {"periods": [{"start": "00:00", "end": "24:00", "band": "valley"}]},
]
SZ = {
    "tariff_id": "sz-2026",
    "name": "朔州公共桩 2026",
    "effective_from": "2026-01-01T00:00:00+08:00",
    "prices": {
        "peak": {"energy": "0.9000", "service": "0.8000"},
        "valley": {"energy": "0.3000", "service": "0.4000"},
    },
    "plans": SZ_PLANS,
    "idle_fee": {"per_minute": "0.5000", "grace_minutes": 15, "cap": "50.00"},
    "session_fee": "1.00",
}


async def test_an_operator_draws_a_new_version_with_a_holiday_plan(
    csms: Running, api: Api, chromium: str
) -> None:
    ok(await api.post("/api/v1/tariffs", json=SZ), 201)
    await make_user(api, "ops-version", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-version")
        await shown(page, "overview")
        await click(page, "nav-tariffs")
        await shown(page, "tariffs")
        assert await page.evaluate(f"{node('tariff-editor')}.dataset.mode") == "new"
        await click(page, "tariff-sz-2026-new-version")
        await page.wait_for(f"{node('tariff-editor')}.dataset.mode", "version")
        assert (await text(page, "tariff-editor-title")).startswith("sz-2026 的新版本")
        assert await page.evaluate(f"{node('tariff-new-id')}.disabled") is True
        assert await page.evaluate(f"{node('tariff-plans')}.dataset.count") == "2"
        # the draft is the newest version as stored, drawn in the cells
        draft = json.loads(await text(page, "tariff-json"))
        assert "tariff_id" not in draft and draft["time_zone"] == "Asia/Shanghai", draft
        assert draft["plans"] == SZ_PLANS and draft["session_fee"] == "1.00"
        assert draft["idle_fee"] == {"per_minute": "0.5000", "grace_minutes": 15, "cap": "50.00"}
        assert await page.evaluate(f"{node('tariff-cell-13')}.dataset.band") == "valley"
        assert await page.evaluate(f"{node('tariff-cell-14')}.dataset.band") == "peak"

        # a third plan: holidays in July and August, all valley, moved to the front
        await click(page, "tariff-add-plan")
        await page.wait_for(f"{node('tariff-plans')}.dataset.count", "3")
        await click(page, "tariff-plan-2-day-holiday")
        await click(page, "tariff-plan-2-month-7")
        await click(page, "tariff-plan-2-month-8")
        await click(page, "tariff-brush-valley")
        await click(page, "tariff-plan-2-fill-all")
        await click(page, "tariff-plan-2-up")
        await click(page, "tariff-plan-1-up")
        holiday = {
            "months": [7, 8],
            "day_types": ["holiday"],
            "periods": [{"start": "00:00", "end": "24:00", "band": "valley"}],
        }
        draft = json.loads(await text(page, "tariff-json"))
        assert draft["plans"] == [holiday, *SZ_PLANS], draft["plans"]
        assert await page.evaluate(f"{node('tariff-plan-0-day-holiday')}.checked") is True

        # the every-day plan narrowed to workdays: weekends are left without a plan
        await click(page, "tariff-plan-2-day-workday")
        await fill(page, "tariff-new-from", await page.evaluate(local_input(V2_FROM)))
        await click(page, "tariff-create-submit")
        await page.wait_for(f"{node('tariff-result')}.dataset.status", "error")
        error = await text(page, "tariff-error")
        assert "没有日计划适用于 1 月的周末" in error, error
        await click(page, "tariff-plan-2-day-workday")

        await click(page, "tariff-create-submit")
        await page.wait_for(f"{node('tariff-result')}.dataset.status", "ok")
        answer = await text(page, "tariff-answer")
        assert answer.startswith("电价 sz-2026 的第 2 版已保存"), answer
        assert (await text(page, "tariff-editor-title")).startswith(
            "sz-2026 的新版本（底稿：第 2 版）"
        )
        assert "v2" in await page.evaluate(
            f"{node('tariff-sz-2026')}.querySelector('h2').textContent"
        )

        # the versions, and the older one drawn as bars
        await click(page, "tariff-sz-2026-show-versions")
        await page.wait_for(f"{node('tariff-sz-2026-versions-list')}?.dataset.count ?? null", "2")
        await click(page, "tariff-sz-2026-view-1")
        await page.wait_for(f"{node('tariff-sz-2026-v1-bar-0')} !== null", True)
        assert await page.evaluate(bands_of("tariff-sz-2026-v1-bar-0")) == [
            "valley 00:00-07:00",
            "peak 07:00-24:00",
        ]
        assert not await exists(page, "tariff-sz-2026-v1-bar-2")
        assert "0.5000" in await text(page, "tariff-sz-2026-v1-idle")

        # English
        await click(page, "language")
        await shown(page, "tariffs")
        await page.wait_for(f"{node('tariff-sz-2026-new-version')}.textContent", "New version")
        await click(page, "tariff-sz-2026-new-version")
        await page.wait_for(f"{node('tariff-editor')}.dataset.mode", "version")
        assert await text(page, "tariff-editor-title") == (
            "New version of sz-2026 (drawn from version 2)"
        )
        assert await text(page, "tariff-create-submit") == "Save as new version"
        legend = f"{node('tariff-plan-0')}.querySelector('legend').textContent"
        assert await page.evaluate(legend) == "Day plan 1"

    versions = ok(await api.get("/api/v1/tariffs/sz-2026/versions"))
    assert [v["version"] for v in versions] == [1, 2]
    newest = versions[1]
    assert newest["plans"] == [
        holiday,
        *({"months": [], "day_types": [], **plan} for plan in SZ_PLANS),
    ], newest["plans"]
    assert instant(newest["effective_from"]) == instant(V2_FROM)
    assert Decimal(newest["session_fee"]) == Decimal("1.00")
    assert newest["idle_fee"]["grace_minutes"] == 15
    assert "ops-version" in newest["created_by"]
    assert versions[0]["plans"][0]["day_types"] == ["workday"]  # the old version as it was


V2_FROM = "2027-01-01T00:00:00+08:00"


async def test_an_operator_assigns_a_tariff_to_a_station_and_deletes_it(
    csms: Running, api: Api, chromium: str
) -> None:
    ok(await api.post("/api/v1/tariffs", json=SZ), 201)
    ok(await api.post("/api/v1/stations", json={"id": "TA-1", "county": "朔城区"}), 201)
    await make_user(api, "ops-assign", "operator")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-assign")
        await shown(page, "overview")
        await click(page, "nav-tariffs")
        await shown(page, "tariffs")
        assert await exists(page, "assignments-empty")
        await fill(page, "assign-scope", "station", "change")
        assert await page.evaluate(f"{node('assign-target')}.disabled") is False
        options = f"[...{node('assign-targets')}.options].map((o) => o.value)"
        assert await page.evaluate(options) == ["TA-1"]  # the stations, suggested
        await click(page, "assign-submit")
        await page.wait_for(f"{node('assign-result')}.dataset.status", "error")
        assert (await text(page, "assign-error")).startswith("请填写对象")
        # a station that does not exist: the API's 422, explained
        await fill(page, "assign-target", "NO-SUCH")
        await fill(page, "assign-from", await page.evaluate(local_input(SZ["effective_from"])))
        await click(page, "assign-submit")
        await page.wait_for(
            f"{node('assign-error')}?.textContent.includes('NO-SUCH') ?? null", True
        )
        assert (await text(page, "assign-error")).startswith("输入有误")
        await fill(page, "assign-target", "TA-1")
        await fill(page, "assign-audience", "public", "change")
        await click(page, "assign-submit")
        await page.wait_for(f"{node('assign-result')}.dataset.status", "ok")
        (made,) = ok(await api.get("/api/v1/tariff-assignments"))
        assert made["scope"] == "station" and made["target"] == "TA-1"
        assert made["tariff_id"] == "sz-2026" and made["audience"] == "public"
        assert instant(made["effective_from"]) == instant(SZ["effective_from"])
        assert made["effective_to"] is None and "ops-assign" in made["created_by"]
        answer = await text(page, "assign-answer")
        assert answer == f"电价 sz-2026 已分配（分配编号 {made['id']}：充电站 TA-1）。", answer
        assert await exists(page, f"assignment-{made['id']}")
        assert "充电站 TA-1" in await text(page, "tariff-sz-2026-assigned")
        # the station's tariff now comes from it
        station_tariff = ok(await api.get("/api/v1/stations/TA-1/tariff?at=2026-06-01T00:00:00Z"))
        assert station_tariff["tariff_id"] == "sz-2026"

        # delete: a confirm step, cancelled once, then confirmed
        row = made["id"]
        await click(page, f"assignment-delete-{row}")
        assert await page.evaluate(f"{node(f'assignment-confirm-{row}')}.hidden") is False
        await click(page, f"assignment-delete-no-{row}")
        assert await page.evaluate(f"{node(f'assignment-confirm-{row}')}.hidden") is True
        assert len(ok(await api.get("/api/v1/tariff-assignments"))) == 1
        await click(page, f"assignment-delete-{row}")
        await click(page, f"assignment-delete-yes-{row}")
        await page.wait_for(f"{node('assign-answer')}?.textContent ?? null", f"分配 {row} 已删除。")
        assert await exists(page, "assignments-empty")

        await click(page, "language")
        await shown(page, "tariffs")
        await page.wait_for(f"{node('assign-submit')}.textContent", "Assign")
        assert await text(page, "assignments-empty") == "No tariff assignments yet."
    assert ok(await api.get("/api/v1/tariff-assignments")) == []
    assert (
        await api.get("/api/v1/stations/TA-1/tariff?at=2026-06-01T00:00:00Z")
    ).status_code == 404
