"""The monthly progress report as HTML (printable, charts as inline SVG) and CSV, in Chinese.

The document is assembled by the monitoring service; this module only renders it, so the
same document gives the same report bytes whenever it is rendered. Keys become names through
csms.monitoring.labels and values are written by csms.monitoring.report_format (fractions as
percentages, times in the plan's time zone, unknown values as a dash). What is known only
when a filed version is viewed (a newer version exists, late data arrived) comes as a
`Standing`, shown as a notice on top.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from csms.monitoring import labels
from csms.monitoring import report_format as fmt

STATUS_COLOUR = {"met": "#2e7d32", "on_track": "#f9a825", "behind": "#c62828"}
NAMES_SHOWN = 5  # names listed in a figure's note; the rest are counted
COUNTED = "有效充电：时长超过 2 分钟且电量超过 0.5 千瓦时的充电；全部充电：每一次开始的充电。"
# The report's sections that amendments name (csms.monitoring.amendments.SECTIONS).
SECTION_NAMES = {
    "summary": "概况",
    "utilization_by_county": "各县（市、区）利用率",
    "sharing": "内部桩对外开放",
    "figures": "规划指标",
    "lockouts": "安全停用",
}
# Fields of the summary, utilization, sharing and lockout sections: (name, percentage?).
FIELDS: dict[str, tuple[str, bool]] = {
    "public_piles": ("公共充电桩（台）", False),
    "new_piles_this_month": ("本月新增公共充电桩（台）", False),
    "sessions": ("有效充电次数", False),
    "all_sessions": ("全部充电次数", False),
    "energy_kwh": ("充电量（千瓦时）", False),
    "time_utilization": ("时间利用率", True),
    "energy_utilization": ("电量利用率", True),
    "online_rate": ("在线率", True),
    "fault_rate": ("故障率", True),
    "public_sessions": ("公众有效充电次数", False),
    "public_kwh": ("公众充电量（千瓦时）", False),
    "public_revenue": ("公众充电收入（元）", False),
    "member_sessions": ("内部有效充电次数", False),
    "public_hours_open": ("对外开放时长（小时）", False),
    "opened": ("本月停用", False),
    "lifted": ("本月解除", False),
    "open_at_end": ("月末仍停用", False),
    "actual": ("实际", False),
    "status": ("状态", False),
}
FIGURE_CSV_COLUMNS = ("指标编号", "范围", "对象", "指标", "要求", "目标", "实际", "差距", "单位",
                      "状态", "期限", "较上月")  # fmt: skip
UTILIZATION_COLUMNS = (
    "县（市、区）",
    "有效充电次数",
    "全部充电次数",
    "充电量（千瓦时）",
    "时间利用率（%）",
    "电量利用率（%）",
    "在线率（%）",
    "故障率（%）",
)


@dataclass(frozen=True, slots=True)
class Standing:
    """Where the version shown stands, known when it is viewed, not when it was filed."""

    version: int  # the version shown
    latest: int  # the month's newest version
    latest_url: str | None = None  # where the newest version opens (None: no link)
    original_url: str | None = None  # where version 1 opens, shown on an amended version
    late_data: bool = False  # the month received data after its newest version was filed
    amended_later: bool = True  # a later version amends this one (late data changed figures)


# --- shared pieces ------------------------------------------------------------------------


def _subject(figure: Mapping[str, Any]) -> str:
    """The figure's scope as read: the county's own name, else the subject's label."""
    scope, subject = figure.get("scope"), figure.get("subject")
    if scope == "county" and subject:
        return str(subject)
    if subject and subject != scope:
        return labels.name("subject", str(subject))
    return labels.name("scope", None if scope is None else str(scope))


def _field(name: str, value: Any) -> str:
    found = FIELDS.get(name)
    if found is not None and found[1]:
        return fmt.percent(value)
    if name == "status" and isinstance(value, str):
        return labels.name("status", value)
    return fmt.plain(value)


def _detail(figure: Mapping[str, Any]) -> str:
    """The figure's detail as "label：value" parts (unknown keys by their words), so a reader
    sees why a figure stands where it does (what is uncovered, what input is missing)."""
    detail = figure.get("detail") or {}
    if not isinstance(detail, Mapping):
        return ""
    parts = []
    for key, value in detail.items():
        kind = labels.DETAILS.get(key, (None, "text"))[1]
        if value is None or value == [] or value == {}:
            continue
        if kind == "text" and key == "missing":
            shown = labels.missing_text(str(value))
        elif kind == "names" and isinstance(value, list):
            shown = "、".join(str(v) for v in value[:NAMES_SHOWN]) + (
                f" 等 {len(value)} 项" if len(value) > NAMES_SHOWN else ""
            )
        elif kind == "percent":
            shown = fmt.percent(value)
        elif kind == "flag":
            shown = "是" if value else "否"
        elif kind == "ratios" and isinstance(value, Mapping):
            # one ratio per place: the lowest few (the figure is the lowest of them)
            lowest = sorted(value.items(), key=lambda kv: fmt.number(kv[1]) or Decimal(0))
            shown = "、".join(f"{k} {fmt.percent(v)}" for k, v in lowest[:NAMES_SHOWN]) + (
                f" 等 {len(value)} 处" if len(value) > NAMES_SHOWN else ""
            )
        elif kind == "by" and isinstance(value, Mapping):
            shown = "、".join(f"{k} {fmt.plain(v)}" for k, v in list(value.items())[:10])
        elif kind == "line" and isinstance(value, Mapping):
            shown = "，".join(
                f"{labels.detail_name(str(k))} {_line_value(figure, k, v)}"
                for k, v in value.items()
            )
        elif isinstance(value, Mapping | list):
            shown = "、".join(str(v) for v in (value.values() if isinstance(value, Mapping)
                                               else value))  # fmt: skip
        else:
            shown = str(value)
        parts.append(f"{labels.detail_name(str(key))}：{shown}")
    return "；".join(parts)


def _line_value(figure: Mapping[str, Any], key: Any, value: Any) -> str:
    """Values of an on-track line: its start is a date, its values are in the figure's unit."""
    return fmt.plain(value) if key == "start" else fmt.figure_value(figure, value)


def _target(figure: Mapping[str, Any]) -> str:
    word = labels.name("comparison", figure.get("comparison") or "at_least")
    return f"{word} {fmt.figure_value(figure, figure.get('target'))}"


def _amendment_rows(
    amendments: Sequence[Mapping[str, Any]],
    figures: Mapping[str, Mapping[str, Any]],
    zone: ZoneInfo,
) -> list[list[str]]:
    rows = []
    for amendment in amendments:
        for change in amendment.get("changes", []):
            section, scope, name = change["section"], change.get("scope"), change["field"]
            figure = figures.get(str(scope)) if section == "figures" else None
            if figure is not None and name == "actual":
                before = fmt.figure_value(figure, change.get("before"))
                after = fmt.figure_value(figure, change.get("after"))
            else:
                before = _field(name, change.get("before"))
                after = _field(name, change.get("after"))
            where = str(figure["title_zh"]) if figure is not None else fmt.plain(scope or "—")
            rows.append(
                [
                    fmt.local_time(amendment.get("amended_at"), zone),
                    SECTION_NAMES.get(section, labels.humanize(section)),
                    where,
                    FIELDS.get(name, (labels.humanize(name), False))[0],
                    before,
                    after,
                ]
            )
    return rows


# --- CSV ----------------------------------------------------------------------------------


def to_csv(document: Mapping[str, Any]) -> str:
    """One row per figure (values in the row's unit: percentages as 15.00 with unit %), then
    utilization by county, then the amendments if any. Starts with a BOM so that Excel reads
    the Chinese as UTF-8."""
    zone = fmt.zone_of(document)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIGURE_CSV_COLUMNS)
    for f in document["figures"]:
        writer.writerow(
            [
                f.get("key", ""),
                labels.name("scope", f.get("scope")),
                _subject(f),
                f.get("title_zh", ""),
                labels.name("comparison", f.get("comparison") or "at_least"),
                fmt.csv_value(f, f.get("target")),
                fmt.csv_value(f, f.get("actual")),
                fmt.csv_value(f, f.get("gap")),
                fmt.csv_unit(f),
                labels.name("status", f.get("status")),
                f.get("due") or "",
                fmt.csv_value(f, f.get("change")),
            ]
        )
    writer.writerow([])
    writer.writerow(UTILIZATION_COLUMNS)
    for row in document.get("utilization_by_county", []):
        writer.writerow(
            [
                row["scope"],
                fmt.plain(row.get("sessions")).replace(fmt.DASH, ""),
                fmt.plain(row.get("all_sessions")).replace(fmt.DASH, ""),
                fmt.plain(row.get("energy_kwh")).replace(fmt.DASH, ""),
                *[
                    fmt.csv_percent(row.get(name))
                    for name in ("time_utilization", "energy_utilization", "online_rate",
                                 "fault_rate")
                ],
            ]
        )  # fmt: skip
    amendments = document.get("amendments") or []
    if amendments:
        writer.writerow([])
        writer.writerow(["更正时间", "部分", "范围", "项目", "原值", "现值"])
        figures = {str(f.get("key")): f for f in document["figures"]}
        for line in _amendment_rows(amendments, figures, zone):
            writer.writerow(line)
    return out.getvalue()


# --- HTML ---------------------------------------------------------------------------------


def _bar_chart(
    title: str, rows: Sequence[tuple[str, Decimal, Decimal | None, str]], *, suffix: str = ""
) -> str:
    """Horizontal bars of actual against target (a tick), as inline SVG; each bar's colour is
    its status, named in a legend under the title."""
    if not rows:
        return ""
    width, bar_h, label_w = 640, 18, 150
    top = 44
    height = top + len(rows) * (bar_h + 8) + 8
    scale = max([max(a, t or Decimal(0)) for _, a, t, _ in rows] + [Decimal(1)])
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="14" class="chart-title">{escape(title)}</text>',
    ]
    used = [s for s in ("met", "on_track", "behind") if any(r[3] == s for r in rows)]
    x = 0
    for status in used:
        parts.append(
            f'<rect x="{x}" y="24" width="12" height="10" fill="{STATUS_COLOUR[status]}"/>'
            f'<text x="{x + 16}" y="33" class="legend">{escape(labels.name("status", status))}'
            "</text>"
        )
        x += 90
    if any(t is not None for _, _, t, _ in rows):
        parts.append(
            f'<line x1="{x + 6}" x2="{x + 6}" y1="22" y2="36" stroke="#212121" stroke-width="2"/>'
            f'<text x="{x + 14}" y="33" class="legend">目标</text>'
        )
    span = width - label_w - 80
    for i, (label, actual, target, status) in enumerate(rows):
        y = top + i * (bar_h + 8)
        w = float(actual / scale) * span
        colour = STATUS_COLOUR.get(status, "#1565c0")
        parts.append(f'<text x="0" y="{y + 13}" class="label">{escape(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" class="value">'
            f"{escape(str(actual) + suffix)}</text>"
        )
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
        status = str(f.get("status"))
        rows.append(
            "<tr>"
            f"<td>{escape(_subject(f))}</td>"
            f"<td>{escape(str(f.get('title_zh') or labels.name('kind', f.get('kind'))))}</td>"
            f"<td class=n>{escape(_target(f))}</td>"
            f"<td class=n>{escape(fmt.figure_value(f, f.get('actual')))}</td>"
            f"<td class=n>{escape(fmt.figure_value(f, f.get('gap')))}</td>"
            f"<td>{escape(fmt.plain(f.get('due')))}</td>"
            f'<td><span class="status" style="background:{STATUS_COLOUR.get(status, "#777")}">'
            f"{escape(labels.name('status', status))}</span></td>"
            f"<td class=n>{escape(fmt.figure_value(f, f.get('change'), signed=True))}</td>"
            f"<td class=d>{escape(_detail(f))}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>范围</th><th>指标</th><th>目标</th><th>实际</th><th>差距</th>"
        "<th>期限</th><th>状态</th><th>较上月</th><th>说明</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: int = 1) -> str:
    """A table whose columns from `numeric` on are right-aligned figures."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if i >= numeric else ''}>{escape(fmt.plain(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(headers)}" class="empty">本月无记录</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _notice(standing: Standing | None, document: Mapping[str, Any], zone: ZoneInfo) -> str:
    """What the reader must know first: a newer (amended) version, or late data that may
    amend this one; on an amended version, that it is one."""
    if standing is None:
        return ""
    parts = []
    if standing.latest > standing.version:
        kind = "更正版" if standing.amended_later else "最新版"
        link = (
            f'<a href="{escape(standing.latest_url)}">查看第 {standing.latest} 版（{kind}）</a>'
            if standing.latest_url
            else f"第 {standing.latest} 版"
        )
        why = (
            "报告提交后本月又收到了数据，已生成更正后的"
            if standing.amended_later
            else "本月报告已重新生成，请以最新版为准："
        )
        parts.append(f"本报告为第 {standing.version} 版。{why}{link}。")
    elif standing.late_data:
        parts.append(
            "报告提交后本月又收到了数据，系统正在核对；如数字有变化，将自动生成更正版，请稍后刷新。"
        )
    amendments = document.get("amendments") or []
    if standing.latest == standing.version and amendments:
        last = fmt.local_time(amendments[-1].get("amended_at"), zone)
        original = (
            f'（<a href="{escape(standing.original_url)}">查看原报告</a>）'
            if standing.original_url
            else ""
        )
        parts.append(
            f"本报告为更正版（第 {standing.version} 版，最近更正于 {last}），"
            f"更正内容见文末“更正说明”{original}。"
        )
    if not parts:
        return ""
    return '<div class="notice" role="note">' + "".join(f"<p>{p}</p>" for p in parts) + "</div>"


STYLE = """
  body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#212121}
  h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;border-bottom:2px solid #1565c0;
  padding-bottom:4px} .meta{color:#424242}
  table{border-collapse:collapse;width:100%;font-size:12px;margin:8px 0 16px}
  th,td{border:1px solid #bdbdbd;padding:4px 6px;text-align:left;vertical-align:top}
  th{background:#e3f2fd} td.n{text-align:right;font-variant-numeric:tabular-nums;
  white-space:nowrap} td.d{color:#555;font-size:11px;max-width:280px} td.empty{color:#757575}
  .status{color:#fff;border-radius:3px;padding:1px 5px;white-space:nowrap}
  .chart{max-width:720px;width:100%;font-size:12px} .chart-title{font-weight:bold}
  .cards{display:flex;gap:12px;flex-wrap:wrap} .card{border:1px solid #bdbdbd;
  border-radius:4px;padding:8px 12px;min-width:120px} .card b{display:block;font-size:20px}
  .card small{display:block;color:#757575;font-size:11px}
  .notice{border:2px solid #ef6c00;background:#fff3e0;padding:4px 12px;margin:12px 0}
  .note{color:#616161;font-size:12px}
  @media print{body{margin:10mm} h2{page-break-after:avoid} table{page-break-inside:auto}}
"""


def _cards(document: Mapping[str, Any]) -> str:
    summary = document.get("summary", {})
    counts = document.get("status_counts", {})
    cards = [
        ("公共充电桩", fmt.plain(summary.get("public_piles")), "台"),
        ("本月新增公共充电桩", fmt.plain(summary.get("new_piles_this_month")), "台"),
        ("有效充电次数", fmt.plain(summary.get("sessions")), "超过 2 分钟且超过 0.5 千瓦时"),
    ]
    if "all_sessions" in summary:
        cards.append(("全部充电次数", fmt.plain(summary.get("all_sessions")), "含未计入的短充"))
    cards += [
        ("充电量", fmt.plain(summary.get("energy_kwh")), "千瓦时"),
        ("在线站点", fmt.plain(counts.get("online")), "生成报告时"),
        ("安全停用站点", fmt.plain(counts.get("locked")), "生成报告时"),
    ]
    return "".join(
        f'<div class="card">{escape(label)}<b>{escape(value)}</b><small>{escape(note)}</small>'
        "</div>"
        for label, value, note in cards
    )


def _county_chart(document: Mapping[str, Any]) -> str:
    figures = document["figures"]
    yearly = [f for f in figures if f.get("kind") == "new_piles" and f.get("scope") == "county"]
    # The report's own year, or (after the plan's last year) the plan's last year.
    years = sorted({str(f.get("due") or "")[:4] for f in yearly if f.get("due")})
    as_of_year = str(document["as_of"])[:4]
    year = as_of_year if as_of_year in years else (years[-1] if years else as_of_year)
    rows = [
        (
            str(f["subject"]),
            fmt.number(f.get("actual")) or Decimal(0),
            fmt.number(f.get("target")),
            str(f.get("status")),
        )
        for f in yearly
        if str(f.get("due") or "").startswith(year)
    ]
    return _bar_chart(f"{year}年新增公共充电桩（台）：实际与目标", rows)


def _or_zero(value: Decimal | None) -> Decimal:
    """A bar's length: an unknown value draws none (its table cell says it is unknown)."""
    return Decimal("0.00") if value is None else value


def _utilization(document: Mapping[str, Any]) -> str:
    utilization = document.get("utilization_by_county", [])
    chart_rows = [
        (str(r["scope"]), _or_zero(fmt.percent_value(r.get("time_utilization"))), None, "")
        for r in utilization
    ]
    with_all = any("all_sessions" in r for r in utilization)
    headers = ["县（市、区）", "有效充电次数", *(["全部充电次数"] if with_all else []),
               "充电量（千瓦时）", "时间利用率", "电量利用率", "在线率", "故障率"]  # fmt: skip
    rows = [
        [
            r["scope"],
            r.get("sessions"),
            *([r.get("all_sessions")] if with_all else []),
            r.get("energy_kwh"),
            fmt.percent(r.get("time_utilization")),
            fmt.percent(r.get("energy_utilization")),
            fmt.percent(r.get("online_rate")),
            fmt.percent(r.get("fault_rate")),
        ]
        for r in utilization
    ]
    return _bar_chart("各县（市、区）时间利用率（%）", chart_rows, suffix="%") + _table(
        headers, rows
    )


def to_html(document: Mapping[str, Any], standing: Standing | None = None) -> str:
    """A self-contained printable page in Chinese: no scripts, no external resources."""
    zone = fmt.zone_of(document)
    month = str(document["month"])
    heading = f"{month[:4]}年{int(month[5:7])}月充电基础设施建设进展月报"
    generated = fmt.parse_time(document.get("generated_at"))
    zone_text = fmt.zone_note(zone, generated or datetime.fromisoformat(f"{month}-15T00:00+00:00"))
    figures = document["figures"]
    by_key = {str(f.get("key")): f for f in figures}
    sharing = document.get("sharing", [])
    lockouts = document.get("lockouts", {})
    amendments = document.get("amendments") or []
    return "".join(
        [
            "<!doctype html><html lang=zh-CN><head><meta charset=utf-8>",
            '<meta name="referrer" content="no-referrer">',
            f"<title>{escape(heading)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{escape(heading)}</h1>",
            f'<p class="meta">{escape(str(document.get("plan_name") or ""))}<br>'
            f"报告月份 {escape(month)} · 数据截至 {escape(fmt.plain(document.get('as_of')))}"
            f" · 生成于 {escape(fmt.local_time(document.get('generated_at'), zone))}"
            f" · 时间均为 {escape(zone_text)}</p>",
            _notice(standing, document, zone),
            f'<div class="cards">{_cards(document)}</div>',
            f'<p class="note">{escape(COUNTED)}</p>',
            "<h2>各县（市、区）新增公共充电桩进度</h2>",
            _county_chart(document),
            "<h2>规划目标进度</h2>",
            '<p class="note">比例、覆盖率、利用率均以百分比表示；“较上月”中比例的变化以百分点表示。'
            "</p>",
            _figures_table(figures),
            "<h2>利用率</h2>",
            _utilization(document),
            "<h2>内部桩对外开放试点</h2>",
            _table(
                [
                    "单位",
                    "公众有效充电次数",
                    "公众充电量（千瓦时）",
                    "公众充电收入（元）",
                    "内部有效充电次数",
                    "对外开放时长（小时）",
                ],
                [
                    [
                        s["unit_name"],
                        s.get("public_sessions"),
                        s.get("public_kwh"),
                        s.get("public_revenue"),
                        s.get("member_sessions"),
                        s.get("public_hours_open"),
                    ]
                    for s in sharing
                ],
            ),
            "<h2>安全停用</h2>",
            f"<p>本月停用 {escape(fmt.plain(lockouts.get('opened', 0)))} 座 · "
            f"本月解除 {escape(fmt.plain(lockouts.get('lifted', 0)))} 座 · "
            f"月末仍停用 {escape(fmt.plain(lockouts.get('open_at_end', 0)))} 座</p>",
            _table(
                ["站点", "安全隐患", "停用时间", "解除时间", "整改情况"],
                [
                    [
                        x["station_id"],
                        x.get("hazard"),
                        fmt.local_time(x.get("locked_at"), zone),
                        fmt.local_time(x.get("lifted_at"), zone),
                        x.get("rectification"),
                    ]
                    for x in lockouts.get("items", [])
                ],
                numeric=99,
            ),
            "<h2>较上月变化</h2>",
            _table(
                ["指标", "上月", "本月", "变化"],
                [
                    [
                        c.get("title_zh"),
                        fmt.figure_value(by_key.get(str(c.get("key")), {}), c.get("before")),
                        fmt.figure_value(by_key.get(str(c.get("key")), {}), c.get("after")),
                        fmt.figure_value(
                            by_key.get(str(c.get("key")), {}), c.get("change"), signed=True
                        ),
                    ]
                    for c in document.get("changes", [])
                ],
            ),
            (
                "<h2>更正说明（报告提交后收到的数据）</h2>"
                + _table(
                    ["更正时间", "部分", "范围", "项目", "原值", "现值"],
                    _amendment_rows(amendments, by_key, zone),
                    numeric=4,
                )
                if amendments
                else ""
            ),
            "</body></html>",
        ]
    )
