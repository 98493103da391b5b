"""A monthly report opened in a browser by a signed link, and the rendering both the API and
the link share: the version asked for, with a notice when a newer version or late data exists.

The report is rendered from its filed document when it is read (the document is the record;
the page is how it reads today), so a filed version can say what happened to its month since.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from csms.api.context import ApiContext
from csms.api.report_links import Format, Link, link_key, refusal
from csms.clock import utcnow
from csms.config import Settings
from csms.domain.period import parse_month
from csms.errors import InvalidInput
from csms.monitoring import report
from csms.sealed import load_key

router = APIRouter(tags=["dashboard"], include_in_schema=False)
# Sent with every report page: nothing may run, nothing is loaded, and the signed address is
# never passed on to another site.
PAGE_SECURITY = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "private, no-store",
}
MAX_VERSION = 2_147_483_647  # versions are int4


@cache
def _key(env_key: str | None, key_file: Path) -> bytes:
    return link_key(load_key(env_key, key_file))


def signing_key(settings: Settings) -> bytes:
    """The links' key, derived from the deployment's secret key (CSMS_SECRET_KEY or the key
    file every node shares), so a link made on one node opens on any."""
    return _key(settings.secret_key, settings.secret_key_file or settings.data_dir / "secret.key")


async def standing(
    ctx: ApiContext, month: str, version: int, url: Callable[[int], str | None]
) -> report.Standing:
    """Where `version` stands: the month's newest version, and whether data arrived after it
    was filed (the rollup marks such months until the amendment round has looked)."""
    current = await ctx.monitoring_store.report(month)
    latest = version if current is None else int(current["version"])
    late = month in {name for name, _ in await ctx.monitoring_store.stale_reports()}
    later = [v for v in await ctx.monitoring_store.report_versions(month) if v["version"] > version]
    return report.Standing(
        version=version,
        latest=latest,
        latest_url=url(latest) if latest != version else None,
        original_url=url(1) if version > 1 else None,
        late_data=late and bool(current is not None and current["final"]),
        amended_later=any(v["amended_at"] is not None for v in later),
    )


def rendered(month: str, document: dict[str, Any], format: Format, at: report.Standing) -> Response:
    """The report as a page or a CSV download, rendered now from its document."""
    if format == "csv":
        return Response(
            report.to_csv(document),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="report-{month}-v{at.version}.csv"',
                "Cache-Control": "private, no-store",
            },
        )
    return HTMLResponse(report.to_html(document, at), headers=PAGE_SECURITY)


def _refused(status: int, reason: str) -> HTMLResponse:
    body = (
        "<!doctype html><html lang=zh-CN><head><meta charset=utf-8><title>无法打开报告</title>"
        "</head><body><h1>无法打开报告</h1><p>链接无效或已过期，请在监测大屏中重新打开月报。</p>"
        f"<p lang=en><small>{escape(reason)}: open the report again from the dashboard."
        "</small></p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=PAGE_SECURITY)


@router.get("/reports/monthly/{month}/versions/{version}", response_model=None)
async def signed_report(
    month: str,
    version: int,
    request: Request,
    expires: int,
    signature: str,
    format: Format = "html",
) -> Response:
    """One version of a month's report for whoever holds a link made by GET
    /api/v1/reports/monthly/{month}/link (valid 10 minutes; no key needed)."""
    ctx: ApiContext = request.app.state.ctx
    key = signing_key(ctx.settings)
    try:
        parse_month(month)
    except InvalidInput:
        return _refused(404, "no such report")
    if not 0 < version <= MAX_VERSION or not 0 < expires < 2**40:
        return _refused(403, "this link is not valid")
    link = Link(month, version, format, expires)
    why = refusal(link, signature, key, utcnow())
    if why is not None:
        return _refused(403, why)
    stored = await ctx.monitoring_store.report_version(month, version)
    if stored is None:
        return _refused(404, "no such report")

    def url(v: int) -> str:  # a sibling version, valid exactly as long as this link
        return Link(month, v, "html", expires).path(key)

    return rendered(month, stored["document"], format, await standing(ctx, month, version, url))
