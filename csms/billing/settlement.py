"""Settlement statements: CDR sums per period and group, their totals, and a CSV rendering.

Every figure is a plain sum of CDR columns (credits are negative records), so a statement's
grand total equals the sum of the CDRs it covers to the fen; `reconcile` proves it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from csms.billing.cdr import kwh

MONEY = ("energy_money", "service_money", "idle_money", "session_fees", "total")
COUNTS = ("sessions", "credits", "rebills", "energy_wh")
CSV_COLUMNS = (
    "period",
    "operator_id",
    "key",
    "sessions",
    "credits",
    "rebills",
    "energy_kwh",
    *MONEY,
)


def statement_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored aggregate as the API shows it: kWh to 0.001, money as text to the fen."""
    out: dict[str, Any] = {
        "period": row["period"].isoformat(),
        "operator_id": row["operator_id"],
        "key": row["key"],
        **{name: int(row[name]) for name in COUNTS},
        "energy_kwh": kwh(int(row["energy_wh"])),
    }
    for name in MONEY:
        out[name] = str(Decimal(row[name]).quantize(Decimal("0.01")))
    return out


def totals(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {name: sum(int(r[name]) for r in rows) for name in COUNTS}
    out["energy_kwh"] = kwh(out["energy_wh"])
    for name in MONEY:
        out[name] = str(sum((Decimal(r[name]) for r in rows), Decimal("0.00")))
    return out


def reconcile(
    summary: Mapping[str, Any],
    cdr_totals: Mapping[str, Any],
    consistency: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Compare a statement's totals with the plain sum of the CDRs in its range, and report
    the independent checks: CDRs whose lines and columns do not add up (must be none for the
    statement to balance), ended sessions with neither a CDR nor a review, and refused starts
    (never billed, so never counted as sessions)."""
    cdr_total = Decimal(cdr_totals["total"]).quantize(Decimal("0.01"))
    checks = dict(consistency or {})
    not_adding_up = int(checks.get("cdrs_not_adding_up", 0))
    return {
        "cdr_records": int(cdr_totals["records"]),
        "cdr_energy_wh": int(cdr_totals["energy_wh"]),
        "cdr_total": str(cdr_total),
        "statement_total": summary["total"],
        "cdrs_not_adding_up": not_adding_up,
        "sessions_unaccounted": int(checks.get("sessions_unaccounted", 0)),
        "sessions_in_review": int(checks.get("sessions_in_review", 0)),
        "sessions_refused": int(checks.get("sessions_refused", 0)),
        "balanced": Decimal(summary["total"]) == cdr_total
        and int(summary["energy_wh"]) == int(cdr_totals["energy_wh"])
        and not_adding_up == 0,
    }


def to_csv(rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([row[c] if row[c] is not None else "" for c in CSV_COLUMNS])
    writer.writerow(["TOTAL", "", "", *(summary[c] for c in CSV_COLUMNS[3:])])
    return buffer.getvalue()
