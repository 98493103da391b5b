"""Scripted drivers for one station: sessions one after another, as `csms-sim station` runs."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from typing import Any

from simulators.station.session import SessionPlan, StopCause
from simulators.station.station import Behaviour, Station
from simulators.vehicles import random_id_tag, random_vehicle

Seconds = float | tuple[float, float]  # exactly, or (min, max) drawn at random each time


def _draw(seconds: Seconds, rng: random.Random) -> float:
    if not isinstance(seconds, tuple):
        return seconds
    low, high = seconds
    return low if low == high else rng.uniform(low, high)  # a fixed length draws nothing


def sequential_sessions(
    count: int,
    *,
    duration_s: Seconds,
    gap_s: Seconds,
    id_tag: str | None = None,
    leave: StopCause = StopCause.LOCAL,
    unplug_delay_s: float = 1.0,
    rng: random.Random | None = None,
) -> Behaviour:
    """`count` sessions, round-robin over the EVSEs, `gap_s` apart, once the station is accepted."""
    draw = rng or random.Random()

    def behaviour(station: Station) -> Coroutine[Any, Any, None]:
        return _run(station, count, duration_s, gap_s, id_tag, leave, unplug_delay_s, draw)

    return behaviour


async def _run(
    station: Station,
    count: int,
    duration_s: Seconds,
    gap_s: Seconds,
    id_tag: str | None,
    leave: StopCause,
    unplug_delay_s: float,
    rng: random.Random,
) -> None:
    await station.wait_online()
    evse_ids = sorted(station.evses)
    for n in range(count):
        evse_id = evse_ids[n % len(evse_ids)]
        await station.wait_evse_idle(evse_id)
        plan = SessionPlan(
            id_tag=id_tag or random_id_tag(rng),
            duration_s=_draw(duration_s, rng),
            vehicle=random_vehicle(station.config.kind, rng),
            leave=leave,
            unplug_delay_s=unplug_delay_s,
        )
        await station.charge(evse_id, plan)
        if n < count - 1:
            await asyncio.sleep(_draw(gap_s, rng))


async def idle_forever(station: Station) -> None:
    """Stay connected and answer the CSMS; nothing else (until stopped)."""
    await asyncio.Event().wait()
