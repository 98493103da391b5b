"""What scope-aware routes share: a station outside the principal's scope is answered as if it
did not exist (404), never 403, so a scoped account cannot tell which stations exist elsewhere.

Lists pass `who.scope` to the store, whose queries filter with csms.store.scope_sql; routes
about one station call `visible_station` or `ensure_visible` first. A route is scope-aware only
when it does so and takes a `scoped_*` dependency (csms.api.auth); all others refuse scoped
principals.
"""

from __future__ import annotations

from typing import Any

from csms.api.auth import Principal
from csms.api.context import ApiContext
from csms.errors import NotFound


def _absent(station_id: str) -> NotFound:
    # the words the store and the command service use for a station that does not exist
    return NotFound(f"station {station_id} does not exist")


async def visible_station(ctx: ApiContext, who: Principal, station_id: str) -> dict[str, Any]:
    """The station's row; 404 when it does not exist or is outside `who`'s scope."""
    station = await ctx.stations.get(station_id, scope=who.scope)
    if station is None:
        raise _absent(station_id)
    return station


async def ensure_visible(ctx: ApiContext, who: Principal, station_id: str) -> None:
    """404 for a station outside `who`'s scope. A whole-network principal is not checked here:
    the route's own service says what is wrong with the station (unknown, offline, ...)."""
    if who.scope is not None and not await ctx.stations.in_scope(station_id, who.scope):
        raise _absent(station_id)
