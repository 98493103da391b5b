"""Charge detail records, corrections, the billing review queue and settlement statements.

Scope-aware (csms.api.scope): a county- or owner-unit-scoped account reads, corrects, approves
and voids the records and reviews of its stations only, and its settlement sums only them;
any other station's records answer 404 as if absent. Verifying the CDR chains reads every
record and stays with whole-network admins."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse

from csms.api.auth import Principal, admin, context, scoped_operator, scoped_viewer
from csms.api.bill_view import bill_view
from csms.api.billing_schemas import Note, Rebill, Review
from csms.api.bounds import Day, Moment
from csms.api.context import ApiContext
from csms.api.schemas import MAX_ID, MAX_OFFSET
from csms.billing import settlement
from csms.billing.cdr import kwh
from csms.domain.scope import Scope
from csms.errors import InvalidInput, NotFound
from csms.store.tariffs import tariff_of

router = APIRouter(prefix="/api/v1", tags=["billing"])
Ctx = Annotated[ApiContext, Depends(context)]
REBILL_BY_TARIFF_NEEDS_NETWORK = (
    "re-billing by a chosen tariff needs a whole-network account (the tariff catalogue is "
    "whole-network): re-bill without tariff_id to use the tariff in force at the start"
)
_MONEY = ("energy_money", "service_money", "idle_fee", "session_fee", "total")


def cdr_view(row: dict[str, Any]) -> dict[str, Any]:
    """A CDR as operators read it: money as text to the fen, energy in Wh and kWh."""
    out = dict(row)
    for name in _MONEY:
        out[name] = str(row[name])
    out["energy_kwh"] = kwh(row["energy_wh"])
    out["tariff"] = {"id": row["tariff_id"], "version": row["tariff_version"]}
    out["metering"] = {"verdict": row["verdict"], "reasons": row["reasons"]}
    return out


def _check_id(value: int, what: str) -> None:
    if not 0 < value <= MAX_ID:
        raise NotFound(f"{what} {value} does not exist")


@router.get("/cdrs")
async def list_cdrs(
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    station_id: str | None = None,
    operator_id: str | None = None,
    since: Annotated[Moment | None, Query(description="stopped at or after")] = None,
    until: Annotated[Moment | None, Query(description="stopped before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """CDRs, newest first; credits and re-bills are records of their own."""
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("since/until need a UTC offset")
    rows = await ctx.cdrs.search(
        station_id=station_id,
        operator_id=operator_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
        scope=who.scope,
    )
    return [cdr_view(r) for r in rows]


@router.get("/cdrs/verify")
async def verify_cdrs(ctx: Ctx, _: Annotated[Principal, Depends(admin)]) -> dict[str, Any]:
    """Re-hash every operator's CDR chain: an edited, removed or reordered record shows.
    Reads every record, so it is for admins (and `csms cdr verify`)."""
    chains = await ctx.billing.verify()
    return {"ok": all(c["ok"] for c in chains), "chains": chains}


@router.get("/cdrs/{cdr_id}")
async def get_cdr(
    cdr_id: int, ctx: Ctx, who: Annotated[Principal, Depends(scoped_viewer)]
) -> dict[str, Any]:
    _check_id(cdr_id, "CDR")
    return cdr_view(await ctx.cdrs.get(cdr_id, scope=who.scope))


@router.post("/cdrs/{cdr_id}/credit", status_code=201)
async def credit_cdr(
    cdr_id: int, body: Note, ctx: Ctx, who: Annotated[Principal, Depends(scoped_operator)]
) -> dict[str, Any]:
    """Cancel a bill with a credit record (negated amounts); the bill itself never changes."""
    _check_id(cdr_id, "CDR")
    if who.scope is not None:
        await ctx.cdrs.get(cdr_id, scope=who.scope)  # 404 outside the scope
    return cdr_view(await ctx.billing.credit(cdr_id, who.name, body.note))


@router.post("/transactions/{transaction_id}/rebill", status_code=201)
async def rebill(
    transaction_id: int,
    body: Rebill,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> list[dict[str, Any]]:
    """Correct a session's bill: a credit for the standing bill, then a new bill (by the given
    tariff version, else by the tariff in force at the session's start)."""
    _check_id(transaction_id, "transaction")
    if who.scope is not None:
        await _visible_transaction(ctx, who.scope, transaction_id)
    tariff = None
    if body.tariff_id is not None:
        if who.scope is not None:  # the tariff catalogue is whole-network (so are its prices)
            raise HTTPException(403, REBILL_BY_TARIFF_NEEDS_NETWORK)
        tariff = tariff_of(await ctx.tariffs.get(body.tariff_id, body.tariff_version))
    elif body.tariff_version is not None:
        raise InvalidInput("tariff_version needs tariff_id")
    records = await ctx.billing.rebill(
        transaction_id, who.name, body.note, tariff, replaces=body.replaces
    )
    return [cdr_view(r) for r in records]


@router.get("/transactions/{transaction_id}/bill")
async def transaction_bill(
    transaction_id: int, ctx: Ctx, who: Annotated[Principal, Depends(scoped_viewer)]
) -> dict[str, Any]:
    """The money side of a session: its CDRs and metering verdict once ended, the running
    cost while open, and its review if it awaits one."""
    _check_id(transaction_id, "transaction")
    return await bill_of(ctx, transaction_id, who.scope)


async def _visible_transaction(
    ctx: ApiContext, scope: Scope | None, transaction_id: int
) -> dict[str, Any]:
    """The transaction; 404 when it does not exist or its station is outside `scope`."""
    tx = await ctx.transactions.get(transaction_id, scope=scope)
    if tx is None:
        raise NotFound(f"transaction {transaction_id} does not exist")
    return tx


async def bill_of(
    ctx: ApiContext, transaction_id: int, scope: Scope | None = None
) -> dict[str, Any]:
    tx = await _visible_transaction(ctx, scope, transaction_id)
    cdrs = [cdr_view(r) for r in await ctx.cdrs.for_transaction(transaction_id)]
    try:
        review: dict[str, Any] | None = await ctx.cdrs.review(transaction_id)
    except NotFound:
        review = None
    running = None
    if tx["status"] == "open":
        priced = await ctx.billing.running_cost(transaction_id)
        if priced is not None:
            running = bill_view(priced.bill)
    return {
        "transaction_id": transaction_id,
        "status": tx["status"],
        "running_cost": running,
        "cdrs": cdrs,
        "total": str(sum(Decimal(c["total"]) for c in cdrs)) if cdrs else None,
        "metering": await ctx.metering.check_of(transaction_id),
        "review": review,
    }


# --- review queue -----------------------------------------------------------------------------


@router.get("/billing/reviews", response_model=list[Review])
async def list_reviews(
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    status: Annotated[str | None, Query(pattern="^(pending|billed|voided)$")] = "pending",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """Sessions not billed automatically: rejected meter data, no tariff in force, errors,
    refused starts that delivered energy anyway (cause `refused`)."""
    return await ctx.cdrs.reviews(status, limit, offset, scope=who.scope)


async def _visible_review(ctx: ApiContext, scope: Scope | None, transaction_id: int) -> None:
    """404 (as for a session never queued) when the session's station is outside `scope`."""
    if scope is not None and await ctx.transactions.get(transaction_id, scope=scope) is None:
        raise NotFound(f"transaction {transaction_id} is not in the review queue")


@router.post("/billing/reviews/{transaction_id}/approve", status_code=201)
async def approve_review(
    transaction_id: int,
    body: Note,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> dict[str, Any]:
    """Bill the session as its data stands; the CDR keeps the rejected verdict and the note."""
    _check_id(transaction_id, "transaction")
    await _visible_review(ctx, who.scope, transaction_id)
    return cdr_view(await ctx.billing.approve(transaction_id, who.name, body.note))


@router.post("/billing/reviews/{transaction_id}/void", response_model=Review)
async def void_review(
    transaction_id: int,
    body: Note,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
) -> dict[str, Any]:
    """Do not bill the session; the decision and its note stay on record."""
    _check_id(transaction_id, "transaction")
    await _visible_review(ctx, who.scope, transaction_id)
    await ctx.billing.void(transaction_id, who.name, body.note)
    return await ctx.cdrs.review(transaction_id)


# --- settlement -------------------------------------------------------------------------------


@router.get("/settlement", response_model=None)
async def settlement_statement(
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    since: Annotated[Day, Query(description="first local day (YYYY-MM-DD)")],
    until: Annotated[Day, Query(description="last local day, inclusive")],
    period: Literal["day", "month"] = "day",
    group: Literal["operator", "site", "owner"] = "operator",
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | PlainTextResponse:
    """Sessions, kWh and money per day or month and per operator, site or owner unit, by the
    local day a session ended. Totals equal the sum of the CDRs in the range to the fen; a
    scoped account's statement covers its stations only."""
    if until < since:
        raise InvalidInput("until is before since")
    if (until - since).days > 366 * 3:
        raise InvalidInput("a statement covers at most three years")
    zone = ZoneInfo(ctx.settings.time_zone)
    start = datetime.combine(since, time(), tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=zone)
    scope = who.scope
    stored = await ctx.cdrs.settlement(
        group=group,
        period=period,
        time_zone=ctx.settings.time_zone,
        since=start,
        until=end,
        scope=scope,
    )
    rows = [settlement.statement_row(r) for r in stored]
    summary = settlement.totals(stored)
    if format == "csv":
        return PlainTextResponse(
            settlement.to_csv(rows, summary),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="settlement-{group}-{period}-'
                f'{since.isoformat()}-{until.isoformat()}.csv"'
            },
        )
    return {
        "period": period,
        "group": group,
        "time_zone": ctx.settings.time_zone,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "rows": rows,
        "totals": summary,
        "reconciliation": settlement.reconcile(
            summary,
            await ctx.cdrs.totals(start, end, scope=scope),
            await ctx.cdrs.consistency(start, end, scope=scope),
        ),
    }
