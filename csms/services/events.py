"""The live event feed: an in-process publish/subscribe bus that other nodes can feed too.

Publishing never blocks and never fails the publisher: a subscriber that cannot keep up loses
its oldest events and is told how many it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from csms.clock import isoformat, utcnow


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    station_id: str
    data: dict[str, Any]
    at: datetime
    node: str

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Event:
        return cls(
            str(raw["type"]),
            str(raw["station_id"]),
            dict(raw["data"]),
            datetime.fromisoformat(raw["at"]),
            str(raw["node"]),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "station_id": self.station_id,
            "at": isoformat(self.at),
            "node": self.node,
            "data": self.data,
        }


@dataclass(eq=False, slots=True)
class Subscription:
    """One listener's queue; `dropped` counts events lost because it fell behind."""

    queue: asyncio.Queue[Event]
    accept: Callable[[Event], bool]
    dropped: int = 0

    def offer(self, event: Event) -> None:
        if not self.accept(event):
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def next(self, timeout: float) -> Event | None:
        """The next event, or None after `timeout` seconds without one."""
        # Not asyncio.wait_for: on 3.11 it swallows a cancellation that arrives as the queue
        # hands over an item, and the subscriber's loop then waited an hour at shutdown.
        try:
            async with asyncio.timeout(timeout):
                return await self.queue.get()
        except TimeoutError:
            return None


@dataclass(slots=True)
class EventBus:
    node_id: str
    _subscribers: set[Subscription] = field(default_factory=set)
    # Called with each locally published event, e.g. to forward it to other nodes.
    forwarders: list[Callable[[Event], None]] = field(default_factory=list)

    def publish(self, type_: str, station_id: str, **data: Any) -> None:
        event = Event(type_, station_id, data, utcnow(), self.node_id)
        self.deliver(event)
        for forward in self.forwarders:
            forward(event)

    def deliver(self, event: Event) -> None:
        """Hand an event (local or from another node) to every matching subscriber."""
        for subscription in tuple(self._subscribers):
            subscription.offer(event)

    @contextlib.contextmanager
    def subscribe(
        self, accept: Callable[[Event], bool] = lambda _e: True, maxsize: int = 1000
    ) -> Iterator[Subscription]:
        subscription = Subscription(asyncio.Queue(maxsize), accept)
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


def booted_here(node_id: str) -> Callable[[Event], bool]:
    """Events of stations Accepted at boot on this node: the moment to configure them."""

    def accept(event: Event) -> bool:
        return (
            event.type == "station.booted"
            and event.node == node_id
            and event.data.get("status") == "Accepted"
        )

    return accept
