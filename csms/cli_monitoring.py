"""`csms report month YYYY-MM`: the monthly report, stored and written to files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from csms.config import Settings
from csms.domain.period import parse_month
from csms.services.monitoring import build_reports
from csms.store import database


def add_parsers(commands: Any, database_options: Any) -> None:
    report = commands.add_parser("report", help="the monthly progress report")
    kinds = report.add_subparsers(dest="action", required=True)
    month = kinds.add_parser(
        "month", help="generate a month's report (HTML, JSON, CSV) and store it"
    )
    month.add_argument("month", help="YYYY-MM")
    month.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the files (default: <data-dir>/reports)",
    )
    database_options(month)


async def report_month(args: argparse.Namespace, pool: database.Pool, settings: Settings) -> None:
    year, month = parse_month(args.month)
    _, reports = build_reports(pool, settings)
    stored = await reports.generate(year, month, by="cli")
    # Not the working directory: run from a checkout, that left untracked files in it.
    folder = (args.out or settings.data_dir / "reports").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"report-{args.month}"
    base.with_suffix(".html").write_text(stored["html"], encoding="utf-8")
    base.with_suffix(".csv").write_text(stored["csv"], encoding="utf-8")
    base.with_suffix(".json").write_text(
        json.dumps(stored["document"], ensure_ascii=False, indent=2, default=str), "utf-8"
    )
    counts = stored["document"]["by_status"]
    print(
        f"report {args.month}: {len(stored['document']['figures'])} figures "
        f"(met {counts['met']}, on track {counts['on_track']}, behind {counts['behind']}); "
        f"written to {base}.html, .json, .csv",
        flush=True,
    )
