"""Tariffs (versioned, never edited in place) and their assignment to stations, sites, owners."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from csms.api.auth import Principal, context, operator, scoped_viewer, viewer
from csms.api.bill_view import bill_view
from csms.api.billing_schemas import (
    Assignment,
    AssignmentCreate,
    QuoteBody,
    TariffBody,
    TariffCreate,
    TariffFromPolicy,
    TariffOut,
)
from csms.api.bounds import Instant
from csms.api.context import ApiContext
from csms.api.schemas import MAX_ID, MAX_OFFSET
from csms.api.scope import ensure_visible
from csms.billing.codec import DefinitionError, tariff_from
from csms.billing.tariff import Tariff, policy_problems, problems
from csms.clock import utcnow
from csms.errors import InvalidInput, NotFound
from csms.store.tariffs import tariff_of
from csms.tcec.codes import PushDataError
from csms.tcec.policy import tariff_definition

router = APIRouter(prefix="/api/v1", tags=["tariffs"])
Ctx = Annotated[ApiContext, Depends(context)]


def _tariff(tariff_id: str, body: TariffBody, ctx: ApiContext) -> Tariff:
    """The domain tariff of a request body, or 422 naming every problem (nothing stored)."""
    definition = body.model_dump(
        mode="json", include={"prices", "plans", "idle_fee", "session_fee"}
    )
    try:
        tariff = tariff_from(
            tariff_id=tariff_id,
            version=0,
            name=body.name,
            currency=body.currency,
            time_zone=body.time_zone or ctx.settings.time_zone,
            effective_from=body.effective_from,
            effective_to=body.effective_to,
            definition=definition,
        )
    except DefinitionError as exc:
        raise InvalidInput(str(exc)) from None
    found = problems(tariff)
    if not found:
        settings = ctx.settings
        found = policy_problems(
            tariff, settings.service_price_floor, settings.service_price_ceiling
        )
    if found:
        raise InvalidInput("tariff refused: " + "; ".join(found))
    return tariff


def tariff_view(row: dict[str, Any]) -> dict[str, Any]:
    definition = row["definition"]
    return {
        **{k: row[k] for k in TariffOut.model_fields if k in row},
        "prices": definition["prices"],
        "plans": definition["plans"],
        "idle_fee": definition.get("idle_fee"),
        "session_fee": definition.get("session_fee", "0"),
    }


@router.post("/tariffs", status_code=201, response_model=TariffOut, tags=["tariffs"])
async def create_tariff(
    body: TariffCreate, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    """A new tariff, as its version 1. Bands must cover every day without overlap, and
    service prices must lie within the price policy (CSMS_SERVICE_PRICE_FLOOR/CEILING)."""
    tariff = _tariff(body.tariff_id, body, ctx)
    return tariff_view(await ctx.tariffs.add_version(tariff, who.name, new=True))


@router.post("/tariffs/from-policy", status_code=201, response_model=TariffOut, tags=["tariffs"])
async def create_from_policy(
    body: TariffFromPolicy, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    """A new tariff from a price table in the T/CEC shape (as monitoring platforms publish
    it); then the same checks as any tariff. More than four distinct price pairs is a 422."""
    try:
        definition = tariff_definition(body.policy)
    except PushDataError as exc:
        raise InvalidInput(f"policy: {exc}") from None
    fields = body.model_dump(exclude={"policy"})
    create = TariffCreate.model_validate({**fields, **definition})
    tariff = _tariff(create.tariff_id, create, ctx)
    return tariff_view(await ctx.tariffs.add_version(tariff, who.name, new=True))


@router.post(
    "/tariffs/{tariff_id}/versions", status_code=201, response_model=TariffOut, tags=["tariffs"]
)
async def add_version(
    tariff_id: str, body: TariffBody, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    """The next version of a tariff. Sessions are billed by the version in force at their
    start, so give the new version its effective_from; old versions stay as they were."""
    if not await ctx.tariffs.exists(tariff_id):
        raise NotFound(f"tariff {tariff_id!r} does not exist")
    tariff = _tariff(tariff_id, body, ctx)
    return tariff_view(await ctx.tariffs.add_version(tariff, who.name, new=False))


@router.get("/tariffs", response_model=list[TariffOut], tags=["tariffs"])
async def list_tariffs(
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """The newest version of every tariff."""
    return [tariff_view(r) for r in await ctx.tariffs.latest(limit, offset)]


@router.get("/tariffs/{tariff_id}", response_model=TariffOut, tags=["tariffs"])
async def get_tariff(
    tariff_id: str, ctx: Ctx, _: Annotated[Principal, Depends(viewer)]
) -> dict[str, Any]:
    return tariff_view(await ctx.tariffs.get(tariff_id))


@router.get("/tariffs/{tariff_id}/versions", response_model=list[TariffOut], tags=["tariffs"])
async def list_versions(
    tariff_id: str, ctx: Ctx, _: Annotated[Principal, Depends(viewer)]
) -> list[dict[str, Any]]:
    rows = await ctx.tariffs.versions(tariff_id)
    if not rows:
        raise NotFound(f"tariff {tariff_id!r} does not exist")
    return [tariff_view(r) for r in rows]


@router.get("/tariffs/{tariff_id}/versions/{version}", response_model=TariffOut, tags=["tariffs"])
async def get_version(
    tariff_id: str, version: int, ctx: Ctx, _: Annotated[Principal, Depends(viewer)]
) -> dict[str, Any]:
    if not 0 < version < 2**31:
        raise NotFound(f"tariff {tariff_id!r} version {version} does not exist")
    return tariff_view(await ctx.tariffs.get(tariff_id, version))


MAX_QUOTED = timedelta(days=7)


@router.post("/tariffs/{tariff_id}/quote", tags=["tariffs"])
async def quote_tariff(
    tariff_id: str, body: QuoteBody, ctx: Ctx, _: Annotated[Principal, Depends(viewer)]
) -> dict[str, Any]:
    """What a session would cost under this tariff (the version in force at its start, or the
    one named): the same pricing, holiday calendar and rounding as its bill, nothing stored."""
    if body.end <= body.start:
        raise InvalidInput("end must be after start")
    if body.end - body.start > MAX_QUOTED:
        raise InvalidInput("a quoted session lasts at most 7 days")
    if body.occupied_until is not None and body.occupied_until < body.end:
        raise InvalidInput("occupied_until must not be before end")
    if body.version is not None:
        row = await ctx.tariffs.get(tariff_id, body.version)
    else:
        rows = await ctx.tariffs.versions(tariff_id)
        if not rows:
            raise NotFound(f"tariff {tariff_id!r} does not exist")
        in_force = [
            r
            for r in rows
            if r["effective_from"] <= body.start
            and (r["effective_to"] is None or body.start < r["effective_to"])
        ]
        if not in_force:
            raise InvalidInput(
                f"no version of tariff {tariff_id!r} is in force at {body.start.isoformat()}"
            )
        row = in_force[-1]
    energy_wh = int((body.energy_kwh * 1000).to_integral_value())
    bill = ctx.billing.quote(tariff_of(row), body.start, body.end, energy_wh, body.occupied_until)
    return {"start": body.start, "end": body.end, **bill_view(bill)}


# --- assignments ------------------------------------------------------------------------------


@router.post("/tariff-assignments", status_code=201, response_model=Assignment, tags=["tariffs"])
async def assign(
    body: AssignmentCreate, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> dict[str, Any]:
    """Bill a station, a site, an owner unit's stations, or the whole network by a tariff
    from effective_from. The most specific assignment in force at a session's start wins."""
    if body.effective_to is not None and body.effective_to <= body.effective_from:
        raise InvalidInput("effective_to must be after effective_from")
    if (body.scope == "network") != (body.target == ""):
        raise InvalidInput("target names the station, site or owner; leave it empty for network")
    if not await ctx.tariffs.exists(body.tariff_id):
        raise InvalidInput(f"tariff {body.tariff_id!r} does not exist")
    if body.scope == "station" and await ctx.stations.get_auth(body.target) is None:
        raise InvalidInput(f"station {body.target!r} does not exist")
    if body.scope == "site":
        try:
            await ctx.tariffs.site(body.target)
        except NotFound:
            raise InvalidInput(
                f"site {body.target!r} does not exist (name it on a station or PUT it first)"
            ) from None
    if body.scope == "owner":
        try:
            await ctx.sharing.unit(body.target)
        except NotFound:
            raise InvalidInput(f"owner unit {body.target!r} does not exist") from None
    return await ctx.tariffs.assign(
        body.tariff_id,
        body.scope,
        body.target,
        body.effective_from,
        body.effective_to,
        who.name,
        body.audience,
    )


@router.get("/tariff-assignments", response_model=list[Assignment], tags=["tariffs"])
async def list_assignments(
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    scope: Annotated[str | None, Query(pattern="^(station|site|owner|network)$")] = None,
    target: str | None = None,
) -> list[dict[str, Any]]:
    return await ctx.tariffs.assignments(scope=scope, target=target)


@router.delete("/tariff-assignments/{assignment_id}", status_code=204, tags=["tariffs"])
async def unassign(
    assignment_id: int, ctx: Ctx, _: Annotated[Principal, Depends(operator)]
) -> None:
    """Remove an assignment. CDRs already filed keep the tariff version they were billed by."""
    if not 0 < assignment_id <= MAX_ID:
        raise NotFound(f"tariff assignment {assignment_id} does not exist")
    await ctx.tariffs.unassign(assignment_id)


@router.get("/stations/{station_id}/tariff", response_model=TariffOut, tags=["tariffs"])
async def station_tariff(
    station_id: str,
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    at: Annotated[Instant | None, Query(description="default: now")] = None,
) -> dict[str, Any]:
    """The tariff version a session starting at `at` would be billed by; a scoped account
    reads its own stations' (404 for others). The tariff catalogue, its assignments and
    every tariff write stay with whole-network accounts."""
    await ensure_visible(ctx, who, station_id)
    if await ctx.stations.get_auth(station_id) is None:
        raise NotFound(f"station {station_id} does not exist")
    moment = at or utcnow()
    tariff = await ctx.tariffs.resolve(station_id, moment)
    if tariff is None:
        raise NotFound(f"no tariff is in force for station {station_id} at {moment.isoformat()}")
    return tariff_view(await ctx.tariffs.get(tariff.tariff_id, tariff.version))
