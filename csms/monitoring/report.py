"""The monthly progress report as HTML (printable, charts as inline SVG), CSV and JSON.

The document is assembled by the monitoring service; this module only renders it, so the
same document gives the same report bytes whenever it is rendered.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

STATUS_LABEL = {
    "met": ("达标", "met"),
    "on_track": ("进度正常", "on track"),
    "behind": ("滞后", "behind"),
}
STATUS_COLOUR = {"met": "#2e7d32", "on_track": "#f9a825", "behind": "#c62828"}
FIGURE_COLUMNS = (
    "key",
    "scope",
    "subject",
    "title_zh",
    "title_en",
    "target",
    "actual",
    "gap",
    "unit",
    "status",
    "due",
    "change",
)


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def to_csv(document: Mapping[str, Any]) -> str:
    """One row per figure, with its change since last month; then utilization by county; then
    the amendments, if any."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIGURE_COLUMNS)
    for figure in document["figures"]:
        writer.writerow(["" if figure.get(c) is None else figure.get(c) for c in FIGURE_COLUMNS])
    writer.writerow([])
    writer.writerow(["county", "sessions", "energy_kwh", "time_utilization", "online_rate"])
    for row in document.get("utilization_by_county", []):
        writer.writerow(
            [
                row["scope"],
                row["sessions"],
                row["energy_kwh"],
                row["time_utilization"],
                row["online_rate"],
            ]
        )
    amendments = document.get("amendments") or []
    if amendments:
        writer.writerow([])
        writer.writerow(["amended_at", "section", "scope", "field", "before", "after"])
        for line in _amendment_rows(amendments):
            writer.writerow(["" if v is None else v for v in line])
    return out.getvalue()


def _bar_chart(title: str, rows: Sequence[tuple[str, Decimal, Decimal | None]]) -> str:
    """Horizontal bars of actual against target (a tick), as inline SVG."""
    if not rows:
        return ""
    width, bar_h, label_w = 640, 18, 150
    top = 24
    height = top + len(rows) * (bar_h + 8) + 8
    scale = max([max(a, t or Decimal(0)) for _, a, t in rows] + [Decimal(1)])
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="14" class="chart-title">{escape(title)}</text>',
    ]
    span = width - label_w - 60
    for i, (label, actual, target) in enumerate(rows):
        y = top + i * (bar_h + 8)
        w = float(actual / scale) * span
        met = target is None or actual >= target
        colour = STATUS_COLOUR["met" if met else "behind"]
        parts.append(f'<text x="0" y="{y + 13}" class="label">{escape(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
        )
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" class="value">{actual}</text>')
        if target is not None:
            tx = label_w + float(target / scale) * span
            parts.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y - 2}" y2="{y + bar_h + 2}" '
                'stroke="#212121" stroke-width="2"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _figures_table(figures: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for f in figures:
        zh, en = STATUS_LABEL.get(f["status"], (f["status"], f["status"]))
        change = f.get("change")
        rows.append(
            "<tr>"
            f"<td>{escape(str(f.get('subject') or f['scope']))}</td>"
            f"<td>{escape(f['title_zh'])}<br><small>{escape(f['title_en'])}</small></td>"
            f"<td class=n>{escape(str(f['target']))}</td>"
            f"<td class=n>{escape(str(f['actual']))}</td>"
            f"<td class=n>{escape(str(f['gap']))}</td>"
            f"<td>{escape(str(f['unit']))}</td>"
            f'<td><span class="status" style="background:{STATUS_COLOUR.get(f["status"], "#777")}">'
            f"{escape(zh)} / {escape(en)}</span></td>"
            f"<td class=n>{'' if change is None else escape(str(change))}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>范围 Scope</th><th>指标 Target</th><th>目标 Goal</th>"
        "<th>实际 Actual</th><th>差距 Gap</th><th>单位 Unit</th><th>状态 Status</th>"
        "<th>较上月 Change</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _amendment_rows(amendments: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    return [
        [a["amended_at"], c["section"], c["scope"], c["field"], c["before"], c["after"]]
        for a in amendments
        for c in a["changes"]
    ]


def _amendments(amendments: Sequence[Mapping[str, Any]]) -> str:
    """What late data changed after the report was filed (none: nothing shown)."""
    if not amendments:
        return ""
    return "<h2>更正 Amendments (data received after filing)</h2>" + _table(
        ["更正 Amended", "部分 Section", "范围 Scope", "项 Field", "原 Before", "现 After"],
        _amendment_rows(amendments),
    )


def to_html(document: Mapping[str, Any]) -> str:
    """A self-contained printable page: no scripts, no external resources."""
    figures = document["figures"]
    yearly = [f for f in figures if f.get("kind") == "new_piles" and f.get("scope") == "county"]
    # The report's own year, or (after the plan's last year) the plan's last year.
    years = sorted({str(f.get("due") or "")[:4] for f in yearly if f.get("due")})
    as_of_year = str(document["as_of"])[:4]
    year = as_of_year if as_of_year in years else (years[-1] if years else as_of_year)
    county_piles = [
        (
            f"{f['subject']} {year}",
            _number(f["actual"]) or Decimal(0),
            _number(f["target"]),
        )
        for f in yearly
        if str(f.get("due") or "").startswith(year)
    ]
    utilization = document.get("utilization_by_county", [])
    util_rows = [
        (str(r["scope"]), (_number(r["time_utilization"]) or Decimal(0)) * 100, None)
        for r in utilization
    ]
    counts = document.get("status_counts", {})
    summary = document.get("summary", {})
    sharing = document.get("sharing", [])
    lockouts = document.get("lockouts", {})
    style = """
      body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#212121}
      h1{font-size:22px} h2{font-size:17px;border-bottom:2px solid #1565c0;padding-bottom:4px}
      table{border-collapse:collapse;width:100%;font-size:12px;margin:8px 0 16px}
      th,td{border:1px solid #bdbdbd;padding:4px 6px;text-align:left;vertical-align:top}
      th{background:#e3f2fd} td.n{text-align:right;font-variant-numeric:tabular-nums}
      .status{color:#fff;border-radius:3px;padding:1px 5px;white-space:nowrap}
      .chart{max-width:720px;width:100%;font-size:12px} .chart-title{font-weight:bold}
      .cards{display:flex;gap:12px;flex-wrap:wrap} .card{border:1px solid #bdbdbd;
      border-radius:4px;padding:8px 12px;min-width:120px} .card b{display:block;font-size:20px}
      @media print{body{margin:10mm} h2{page-break-after:avoid} table{page-break-inside:auto}}
    """
    cards = "".join(
        f'<div class="card">{escape(label)}<b>{escape(str(value))}</b></div>'
        for label, value in (
            ("公共充电桩 Public piles", summary.get("public_piles", "")),
            ("本月新增 New this month", summary.get("new_piles_this_month", "")),
            ("有效充电次数 Sessions (>2 min, >0.5 kWh)", summary.get("sessions", "")),
            ("充电量 kWh", summary.get("energy_kwh", "")),
            ("在线 Online now", counts.get("online", "")),
            ("安全停用 Locked out", counts.get("locked", "")),
        )
    )
    return "".join(
        [
            "<!doctype html><html lang=zh-CN><head><meta charset=utf-8>",
            f"<title>{escape(document['title'])}</title><style>{style}</style></head><body>",
            f"<h1>{escape(document['title'])}</h1>",
            f"<p>{escape(document['plan_name'])} · 报告月份 Month {escape(document['month'])}"
            f" · 截至 As of {escape(document['as_of'])} · 生成 Generated "
            f"{escape(document['generated_at'])}</p>",
            f'<div class="cards">{cards}</div>',
            "<h2>各县新增公共充电桩进度 New public piles by county</h2>",
            _bar_chart(
                "新增公共充电桩（实际 vs 目标） New public piles: actual vs target", county_piles
            ),
            "<h2>规划目标进度 Progress against the plan</h2>",
            _figures_table(figures),
            "<h2>利用率 Utilization</h2>",
            _bar_chart("时间利用率 % Time utilization % by county", util_rows),
            _table(
                [
                    "县 County",
                    "次数 Sessions",
                    "kWh",
                    "时间利用率 Time util.",
                    "电量利用率 Energy util.",
                    "在线率 Online",
                    "故障率 Fault",
                ],
                [
                    [
                        r["scope"],
                        r["sessions"],
                        r["energy_kwh"],
                        r["time_utilization"],
                        r["energy_utilization"],
                        r["online_rate"],
                        r["fault_rate"],
                    ]
                    for r in utilization
                ],
            ),
            "<h2>内部桩对外开放试点 Internal piles opened to the public</h2>",
            _table(
                [
                    "单位 Unit",
                    "公众次数 Public sessions",
                    "公众电量 kWh",
                    "收入 Revenue (CNY)",
                    "内部次数 Member sessions",
                    "开放小时 Hours open",
                ],
                [
                    [
                        s["unit_name"],
                        s["public_sessions"],
                        s["public_kwh"],
                        s["public_revenue"],
                        s["member_sessions"],
                        s["public_hours_open"],
                    ]
                    for s in sharing
                ],
            ),
            "<h2>安全停用 Safety lockouts</h2>",
            f"<p>本月停用 Locked this month: {escape(str(lockouts.get('opened', 0)))} · "
            f"本月解除 Lifted: {escape(str(lockouts.get('lifted', 0)))} · "
            f"月末仍停用 Open at month end: {escape(str(lockouts.get('open_at_end', 0)))}</p>",
            _table(
                ["桩 Station", "隐患 Hazard", "停用 Since", "解除 Lifted", "整改 Rectification"],
                [
                    [
                        x["station_id"],
                        x["hazard"],
                        x["locked_at"],
                        x.get("lifted_at"),
                        x.get("rectification"),
                    ]
                    for x in lockouts.get("items", [])
                ],
            ),
            "<h2>较上月变化 Changes since last month</h2>",
            _table(
                ["指标 Target", "上月 Last month", "本月 This month", "变化 Change"],
                [
                    [c["title_zh"], c["before"], c["after"], c["change"]]
                    for c in document.get("changes", [])
                ],
            ),
            _amendments(document.get("amendments") or []),
            "</body></html>",
        ]
    )
