"""The T/CEC 102 endpoints monitoring platforms query (`/evcs/v1/<method>`).

They use the platform envelope, its token and signature, not the operator API's keys; every
answer is HTTP 200 with a Ret, as T/CEC 102.4 asks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from csms.api.auth import context
from csms.api.context import ApiContext

router = APIRouter(prefix="/evcs/v1", tags=["tcec"])
Ctx = Annotated[ApiContext, Depends(context)]
MAX_BODY = 1 << 20


@router.post("/{method}")
async def platform_query(method: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY:
        body = b""  # answered as a malformed envelope
    return await ctx.platform_queries.handle(
        method[:64], body, request.headers.get("authorization")
    )
