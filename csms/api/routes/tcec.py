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
    """Read at most MAX_BODY bytes (no key is needed to get here); more is a bad envelope."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            body = bytearray()
            break
    return await ctx.platform_queries.handle(
        method[:64], bytes(body), request.headers.get("authorization")
    )
