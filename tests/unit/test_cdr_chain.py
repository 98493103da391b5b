"""CDR records: canonical hashing, chaining, paged verification, credits that negate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from csms.billing.cdr import chain_hash, credit_record, verify_chain

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def record(n: int, prev: dict[str, Any] | None) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": n,
        "operator_id": "op",
        "seq": n,
        "kind": "bill",
        "corrects": None,
        "transaction_id": 100 + n,
        "station_id": "CP-1",
        "evse_id": 1,
        "connector_id": 1,
        "id_token": "T",
        "site_name": None,
        "owner_unit": None,
        "county": None,
        "started_at": T0 + timedelta(hours=n),
        "stopped_at": T0 + timedelta(hours=n, minutes=30),
        "energy_wh": 10_000,
        "currency": "CNY",
        "energy_money": Decimal("6.00"),
        "service_money": Decimal("6.00"),
        "idle_minutes": 0,
        "idle_fee": Decimal("0.00"),
        "session_fee": Decimal("0.00"),
        "total": Decimal("12.00"),
        "tariff_id": "t",
        "tariff_version": 1,
        "allocation": "metered",
        "verdict": "valid",
        "reasons": [],
        "lines": [
            {
                "band": "flat",
                "energy_wh": 10_000,
                "energy_money": "6.00",
                "service_money": "6.00",
                "energy_kwh": "10.000",
            }
        ],
        "detail": {"note": None},
        "created_by": "system",
        "created_at": T0,
        "prev_hash": None if prev is None else prev["hash"],
    }
    rec["hash"] = chain_hash(rec)
    return rec


def chain(count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        out.append(record(n, out[-1] if out else None))
    return out


def test_a_clean_chain_verifies_whole_and_in_pages() -> None:
    rows = chain(7)
    assert verify_chain(rows) == []
    assert verify_chain(rows[:3]) == [] and verify_chain(rows[3:], rows[2]) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param({"total": Decimal("13.00")}, "altered", id="money"),
        pytest.param({"lines": []}, "altered", id="lines"),
        pytest.param({"prev_hash": "0" * 64}, "prev_hash", id="relinked"),
        pytest.param({"seq": 9}, "sequence jumps", id="seq"),
    ],
)
def test_tampering_shows(change: dict[str, Any], problem: str) -> None:
    rows = chain(4)
    rows[2] = {**rows[2], **change}
    breaks = verify_chain(rows)
    assert breaks and breaks[0].cdr_id == 3 and problem in " ".join(b.problem for b in breaks)


def test_a_page_started_from_the_wrong_record_breaks() -> None:
    rows = chain(4)
    assert verify_chain(rows[2:], rows[0])  # record 2 is missing between the pages


def test_a_credit_negates_every_quantity_and_keeps_the_session() -> None:
    bill = chain(1)[0]
    credit = credit_record(bill, created_by="ops", created_at=T0, note="refund")
    assert (credit["kind"], credit["corrects"], credit["transaction_id"]) == ("credit", 1, 101)
    assert (credit["total"], credit["energy_wh"]) == (Decimal("-12.00"), -10_000)
    assert credit["lines"][0]["energy_money"] == "-6.00"
    assert credit["detail"]["note"] == "refund"
