"""The in-process event bus: a subscriber waiting for events can always be cancelled."""

from __future__ import annotations

import asyncio

import pytest

from csms.services.events import EventBus


async def test_next_times_out_to_none() -> None:
    with EventBus("n").subscribe() as subscription:
        assert await subscription.next(timeout=0.01) is None


async def test_cancel_is_not_lost_when_an_event_arrives_at_the_same_moment() -> None:
    # asyncio.wait_for (3.11) returned the event instead of raising CancelledError here, and a
    # service loop then waited an hour for its next event: shutdown after a storm hung.
    bus = EventBus("n")
    with bus.subscribe() as subscription:
        waiting = asyncio.create_task(subscription.next(timeout=3600))
        await asyncio.sleep(0)  # it now waits on the queue
        bus.publish("station.booted", "S1")  # wakes it...
        waiting.cancel()  # ...as it is cancelled
        with pytest.raises(asyncio.CancelledError):
            await waiting


async def test_next_returns_a_waiting_event() -> None:
    bus = EventBus("n")
    with bus.subscribe() as subscription:
        bus.publish("station.booted", "S1")
        event = await subscription.next(timeout=1)
        assert event is not None and event.station_id == "S1"
