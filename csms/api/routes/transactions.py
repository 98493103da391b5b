"""Transactions: list with filters, detail with samples and conflicts; energy in Wh and kWh."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from csms.api.auth import Principal, context, scoped_viewer
from csms.api.bounds import Instant
from csms.api.context import ApiContext
from csms.api.schemas import MAX_ID, MAX_OFFSET, Transaction, TransactionDetail
from csms.errors import NotFound

router = APIRouter(prefix="/api/v1/transactions", tags=["transactions"])
Ctx = Annotated[ApiContext, Depends(context)]


def with_energy(row: dict[str, Any]) -> dict[str, Any]:
    start, stop = row.get("meter_start_wh"), row.get("meter_stop_wh")
    energy = stop - start if start is not None and stop is not None else None
    row["energy_wh"] = energy
    row["energy_kwh"] = (
        None if energy is None else str(Decimal(energy).scaleb(-3).quantize(Decimal("0.001")))
    )
    return row


@router.get("", response_model=list[Transaction])
async def list_transactions(
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    station_id: str | None = None,
    id_token: str | None = None,
    since: Annotated[
        Instant | None, Query(description="started at or after (ISO 8601, with offset)")
    ] = None,
    until: Annotated[
        Instant | None, Query(description="started before (ISO 8601, with offset)")
    ] = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    refused: Annotated[
        bool | None, Query(description="true: only starts the CSMS refused; false: none")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    rows = await ctx.transactions.search(
        station_id=station_id,
        id_token=id_token,
        since=since,
        until=until,
        status=status,
        refused=refused,
        limit=limit,
        offset=offset,
        scope=who.scope,
    )
    return [with_energy(r) for r in rows]


@router.get("/{transaction_id}", response_model=TransactionDetail)
async def transaction_detail(
    transaction_id: int, ctx: Ctx, who: Annotated[Principal, Depends(scoped_viewer)]
) -> dict[str, Any]:
    """The transaction with its samples; 404 when its station is outside the caller's scope."""
    row = (
        await ctx.transactions.get(transaction_id, scope=who.scope)
        if 0 < transaction_id <= MAX_ID
        else None
    )
    if row is None:
        raise NotFound(f"transaction {transaction_id} does not exist")
    samples = await ctx.transactions.samples(transaction_id)
    for sample in samples:
        sample["value"] = _text(sample["value"])
    conflicts = await ctx.transactions.conflicts(transaction_id)
    for conflict in conflicts:
        conflict["value"] = _text(conflict["value"])
        conflict["stored_value"] = _text(conflict["stored_value"])
    return {**with_energy(row), "samples": samples, "conflicts": conflicts}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
