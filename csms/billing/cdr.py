"""Charge detail records: the immutable bill of a session, chained by hash per operator.

A record is a flat mapping of the `cdrs` columns. Its hash covers every column but `id` and
`hash` itself, in a canonical JSON form that survives a round trip through PostgreSQL, so
`csms cdr verify` can rebuild it from the stored row and notice any edit of history.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from csms.billing.pricing import Bill, money

HASHED_COLUMNS = (
    "operator_id",
    "seq",
    "kind",
    "corrects",
    "transaction_id",
    "station_id",
    "evse_id",
    "connector_id",
    "id_token",
    "site_name",
    "owner_unit",
    "county",
    "started_at",
    "stopped_at",
    "energy_wh",
    "currency",
    "energy_money",
    "service_money",
    "idle_minutes",
    "idle_fee",
    "session_fee",
    "total",
    "tariff_id",
    "tariff_version",
    "allocation",
    "verdict",
    "reasons",
    "lines",
    "detail",
    "created_by",
    "created_at",
    "prev_hash",
)
_MONEY_COLUMNS = ("energy_money", "service_money", "idle_fee", "session_fee", "total")


class Kind(StrEnum):
    BILL = "bill"
    CREDIT = "credit"  # negates an earlier record
    REBILL = "rebill"  # replaces a credited bill


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """Who charged where and when, as the CDR records it."""

    operator_id: str
    transaction_id: int
    station_id: str
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    site_name: str | None
    owner_unit: str | None
    county: str | None
    started_at: datetime
    stopped_at: datetime


def kwh(wh: int) -> str:
    """Energy for people: kWh to 0.001, from whole Wh (exact)."""
    return str((Decimal(wh) / 1000).quantize(Decimal("0.001")))


def bill_record(
    facts: SessionFacts,
    bill: Bill,
    *,
    verdict: str,
    reasons: Sequence[Mapping[str, str]],
    idle_from: datetime | None,
    signed_data: Sequence[Any],
    created_by: str,
    created_at: datetime,
    kind: Kind = Kind.BILL,
    corrects: int | None = None,
    note: str | None = None,
    price_class: str | None = None,
    price_basis: str | None = None,
) -> dict[str, Any]:
    """The columns of a new CDR for a priced session (seq and prev_hash are set on append)."""
    return {
        "operator_id": facts.operator_id,
        "kind": kind.value,
        "corrects": corrects,
        "transaction_id": facts.transaction_id,
        "station_id": facts.station_id,
        "evse_id": facts.evse_id,
        "connector_id": facts.connector_id,
        "id_token": facts.id_token,
        "site_name": facts.site_name,
        "owner_unit": facts.owner_unit,
        "county": facts.county,
        "started_at": facts.started_at,
        "stopped_at": facts.stopped_at,
        "energy_wh": bill.energy_wh,
        "currency": bill.currency,
        "energy_money": bill.energy_money,
        "service_money": bill.service_money,
        "idle_minutes": bill.idle.minutes,
        "idle_fee": bill.idle.fee,
        "session_fee": bill.session_fee,
        "total": bill.total,
        "tariff_id": bill.tariff_id,
        "tariff_version": bill.tariff_version,
        "allocation": bill.allocation.value,
        "verdict": verdict,
        "reasons": [dict(r) for r in reasons],
        "lines": [
            {
                "band": line.band.value,
                "start": _iso(line.start),
                "end": _iso(line.end),
                "energy_wh": line.energy_wh,
                "energy_kwh": kwh(line.energy_wh),
                "energy_price": str(line.energy_price),
                "service_price": str(line.service_price),
                "energy_money": str(line.energy_money),
                "service_money": str(line.service_money),
            }
            for line in bill.lines
        ],
        "detail": {
            "idle_from": None if idle_from is None else _iso(idle_from),
            "idle_billable_minutes": bill.idle.billable_minutes,
            "signed_data": list(signed_data),
            "note": note,
            "price_class": price_class,
            "price_basis": price_basis,
        },
        "created_by": created_by,
        "created_at": created_at,
    }


def credit_record(
    original: Mapping[str, Any], *, created_by: str, created_at: datetime, note: str
) -> dict[str, Any]:
    """A record that cancels `original`: same session, every quantity negated."""
    record = {name: original[name] for name in HASHED_COLUMNS if name not in ("seq", "prev_hash")}
    record.update(
        kind=Kind.CREDIT.value,
        corrects=original["id"],
        energy_wh=-original["energy_wh"],
        idle_minutes=-original["idle_minutes"],
        lines=[
            {
                **line,
                "energy_wh": -line["energy_wh"],
                "energy_kwh": kwh(-line["energy_wh"]),
                "energy_money": str(-Decimal(line["energy_money"])),
                "service_money": str(-Decimal(line["service_money"])),
            }
            for line in original["lines"]
        ],
        detail={**original["detail"], "note": note},
        created_by=created_by,
        created_at=created_at,
    )
    for name in _MONEY_COLUMNS:
        record[name] = -original[name]
    return record


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash covers: hashed columns, sorted keys, no floats, UTC times."""
    return json.dumps(
        {name: _plain(name, record.get(name)) for name in HASHED_COLUMNS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def chain_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical record, which includes the previous record's hash."""
    return hashlib.sha256(canonical(record)).hexdigest()


def _plain(name: str, value: Any) -> Any:
    if name in _MONEY_COLUMNS:
        return str(money(Decimal(value)))
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class ChainBreak:
    operator_id: str
    seq: int
    cdr_id: int
    problem: str


def verify_chain(
    rows: Sequence[Mapping[str, Any]], previous: Mapping[str, Any] | None = None
) -> list[ChainBreak]:
    """Every place where one operator's stored records (in seq order) do not chain up.

    `previous` is the record before `rows` (None: they start the chain), so a long chain can
    be checked a page at a time.
    """
    breaks: list[ChainBreak] = []
    for row in rows:
        expected_prev = None if previous is None else previous["hash"]
        expected_seq = 1 if previous is None else previous["seq"] + 1

        def broken(problem: str, row: Mapping[str, Any] = row) -> None:
            breaks.append(ChainBreak(row["operator_id"], row["seq"], row["id"], problem))

        if row["seq"] != expected_seq:
            broken(f"sequence jumps from {expected_seq - 1} to {row['seq']}")
        if row["prev_hash"] != expected_prev:
            broken("prev_hash does not match the previous record's hash")
        if chain_hash(row) != row["hash"]:
            broken("content does not match its hash (the record was altered)")
        previous = row
    return breaks
