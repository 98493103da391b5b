"""Commands to stations: version-neutral ones, a raw OCPP passthrough, and the audit log.

No `from __future__ import annotations` here: each command route's body type is a loop
variable, which FastAPI must see as a real type, not a string it cannot resolve.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, Field

from csms.api.auth import Principal, context, scoped_operator, scoped_viewer, viewer
from csms.api.certificate_schemas import CERTIFICATE_COMMAND_MODELS
from csms.api.command_schemas import DEVICE_COMMAND_MODELS
from csms.api.context import ApiContext
from csms.api.routes import passwords
from csms.api.schemas import (
    COMMAND_MODELS,
    MAX_OFFSET,
    CommandAnswer,
    CommandRecord,
    Strict,
    reject_nul,
)
from csms.api.scope import ensure_visible
from csms.errors import InvalidInput, NotFound
from csms.services.commands import CommandResult

router = APIRouter(prefix="/api/v1", tags=["commands"])
Ctx = Annotated[ApiContext, Depends(context)]
Timeout = Annotated[float, Query(gt=0, le=300, description="seconds to wait for the station")]
COMMANDS: dict[str, type[Strict]] = {
    **COMMAND_MODELS,
    **DEVICE_COMMAND_MODELS,
    **CERTIFICATE_COMMAND_MODELS,
}


def _answer(result: CommandResult) -> CommandAnswer:
    return CommandAnswer(
        command_id=result.command_id,
        station_id=result.station_id,
        action=result.action,
        request=result.request,
        response=result.response,
    )


def _command_route(name: str, model: type[Strict]) -> Callable[..., Awaitable[CommandAnswer]]:
    async def send(
        station_id: str,
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        ctx: Ctx,
        who: Annotated[Principal, Depends(scoped_operator)],
        timeout: Timeout = 30,
    ) -> CommandAnswer:
        await ensure_visible(ctx, who, station_id)
        params = body.model_dump(exclude_none=True)  # type: ignore[attr-defined]
        result = await ctx.commands.send(
            station_id, name, params, requested_by=who.name, timeout=timeout
        )
        return _answer(result)

    send.__doc__ = f"Send `{name}` to a connected station and return its answer."
    return send


router.add_api_route(  # before the catch-all below: rotate-password has its own answer
    passwords.PATH,
    passwords.rotate_password,
    methods=["POST"],
    response_model=passwords.RotationAnswer,
    name="command_rotate_password",
    summary="command: rotate-password",
    responses=passwords.RESPONSES,
)

for _name, _model in COMMANDS.items():
    router.add_api_route(
        f"/stations/{{station_id}}/commands/{_name}",
        _command_route(_name, _model),
        methods=["POST"],
        response_model=CommandAnswer,
        name=f"command_{_name.replace('-', '_')}",
        summary=f"command: {_name}",
        responses={
            404: {"description": "unknown station or transaction"},
            409: {"description": "station offline"},
            422: {"description": "invalid parameters, or a command the station's version lacks"},
            502: {"description": "station answered with a CALLERROR"},
            504: {"description": "station did not answer in time"},
        },
    )


@router.post(
    "/stations/{station_id}/commands/{name}",
    responses={404: {"description": "no command of that name"}},
    include_in_schema=False,
)
async def unknown_command(
    station_id: str, name: str, ctx: Ctx, who: Annotated[Principal, Depends(scoped_operator)]
) -> None:
    """A command name none of the routes above knows: say which ones exist (not a bare 404)."""
    await ensure_visible(ctx, who, station_id)
    raise NotFound(
        f"there is no command {name!r}; the commands are: "
        f"{', '.join(sorted([*COMMANDS, 'rotate-password']))} "
        f"(or send any OCPP action with POST /api/v1/stations/{station_id}/ocpp/<Action>)"
    )


@router.post("/stations/{station_id}/ocpp/{action}", response_model=CommandAnswer)
async def raw_passthrough(
    station_id: str,
    action: Annotated[str, Path(pattern="^[A-Za-z0-9]{1,64}$")],
    payload: Annotated[dict[str, Any], Body()],
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_operator)],
    timeout: Timeout = 30,
) -> CommandAnswer:
    """Send any OCPP action of the station's version with this payload (schema-checked)."""
    await ensure_visible(ctx, who, station_id)
    try:
        reject_nul(payload)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    result = await ctx.commands.send_raw(
        station_id, action, payload, requested_by=who.name, timeout=timeout
    )
    return _answer(result)


class LocalListEntry(BaseModel):
    id_token: str
    type: str | None
    status: str


class LocalListState(BaseModel):
    """A station's Local Authorization List as the CSMS last learnt it."""

    station_id: str
    version: int | None = Field(description="the version the station holds; null: never learnt")
    entries: list[LocalListEntry] | None = Field(
        description="null when the list changed in ways the CSMS did not see"
    )
    source: Literal["SendLocalList", "GetLocalListVersion"] | None = None
    command_id: int | None = None
    updated_at: datetime | None = None


@router.get("/stations/{station_id}/local-list", response_model=LocalListState)
async def local_list(
    station_id: str, ctx: Ctx, _: Annotated[Principal, Depends(viewer)]
) -> dict[str, Any]:
    """The version the station holds (from its Accepted SendLocalList or its answer to
    GetLocalListVersion) and, when every change went through the CSMS, the entries."""
    return await ctx.commands.local_list(station_id)


@router.get("/commands", response_model=list[CommandRecord])
async def audit_log(
    ctx: Ctx,
    who: Annotated[Principal, Depends(scoped_viewer)],
    station_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """Every command sent: who, what, when, through which node, and the answer; a scoped
    account sees the commands to its stations only."""
    return await ctx.commands.history(station_id, limit, offset, who.scope)
