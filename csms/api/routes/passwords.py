"""The rotate-password command (issue 16): the CSMS generates a station's new password and
sends it; the answer never contains the password (see csms.services.passwords)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Query
from pydantic import BaseModel, Field

from csms.api.auth import Principal, context, scoped_admin
from csms.api.context import ApiContext
from csms.api.schemas import Strict
from csms.api.scope import ensure_visible
from csms.errors import NotFound

PATH = "/stations/{station_id}/commands/rotate-password"


class RotatePassword(Strict):
    """No parameters: the CSMS chooses the password (1.6: 20 characters, sent as a 40-digit
    hex AuthorizationKey; 2.0.1: 40 characters in SecurityCtrlr.BasicAuthPassword)."""


class RotationAnswer(BaseModel):
    command_id: int
    station_id: str
    action: str = Field(description="ChangeConfiguration (1.6) or SetVariables (2.0.1)")
    status: str = Field(description="the station's answer: Accepted, RebootRequired, Rejected...")
    pending: bool = Field(
        description="true: the old and the new password are both valid until the station "
        "connects with the new one, which retires the old one"
    )
    request: dict[str, Any] = Field(description="as sent, the password replaced by a placeholder")
    response: dict[str, Any] = Field(description="the station's CALLRESULT payload")


async def rotate_password(
    station_id: str,
    ctx: Annotated[ApiContext, Depends(context)],
    who: Annotated[Principal, Depends(scoped_admin)],
    body: Annotated[RotatePassword | None, Body()] = None,
    timeout: Annotated[
        float, Query(gt=0, le=300, description="seconds to wait for the station")
    ] = 30,
) -> RotationAnswer:
    """Give a connected station (security profile 1 or 2) a new password the CSMS generates.

    The password is never shown, logged or stored: only its hash is kept. The old password
    stays valid until the station connects with the new one (1.6J §6.2.2; 2.0.1 A01).
    """
    await ensure_visible(ctx, who, station_id)
    if ctx.passwords is None:
        raise NotFound("password rotation is not offered by this CSMS")
    rotation = await ctx.passwords.rotate(station_id, requested_by=who.name, timeout=timeout)
    return RotationAnswer(
        command_id=rotation.command_id,
        station_id=rotation.station_id,
        action=rotation.action,
        status=rotation.status,
        pending=rotation.pending,
        request=rotation.request,
        response=rotation.response,
    )


RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "unknown station"},
    409: {
        "description": "station offline, on another node, without a password, or a "
        "rotation already pending"
    },
    502: {"description": "station answered with a CALLERROR"},
    504: {"description": "station did not answer in time (both passwords stay valid)"},
}
