"""The sender that drains the station's offline queue, in order, whenever the CSMS will listen.

Transaction messages that fail are retried: 1.6 §4.7 TransactionMessageAttempts, waiting
TransactionMessageRetryInterval x the number of failed attempts; 2.0.1 E13 the same with
OCPPCommCtrlr.MessageAttempts / MessageAttemptInterval. A lost connection is not a failed
attempt: the message stays at the head and goes first after the reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from simulators.offline_queue import Ack, OfflineQueue, Queued, Role
from simulators.rpc import CallErrorReceived, CallTimeout, ConnectionLost, RpcConnection
from simulators.stats import Recorder

log = logging.getLogger(__name__)

Ready = Callable[[], Awaitable[RpcConnection]]


class Outbox:
    def __init__(
        self,
        *,
        capacity: int,
        stats: Recorder,
        ready: Ready,
        attempts: Callable[[], int],
        retry_interval: Callable[[], float],
        label: str = "",
    ) -> None:
        self.queue = OfflineQueue(capacity)
        self._stats = stats
        self._ready = ready
        self._attempts = attempts
        self._retry_interval = retry_interval
        self._label = label
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self.online = False  # set by the station: is the CSMS listening right now

    def push(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        role: Role = Role.OTHER,
        tx_ref: int | None = None,
        on_ack: Ack | None = None,
    ) -> None:
        offline = not self.online
        if offline and role is Role.OTHER:
            return  # status and notifications mean nothing later; they are re-sent on reconnect
        shed = self.queue.push(
            action, payload, role=role, tx_ref=tx_ref, on_ack=on_ack, offline=offline
        )
        if offline:
            self._stats.queued_offline += 1
        self._stats.shed += len(shed)
        self._empty.clear()
        self._wake.set()

    def link_lost(self) -> list[Queued]:
        """Forget what only made sense while connected; return it (statuses to re-send)."""
        dropped = self.queue.drop_volatile()
        if not self.queue.head():
            self._empty.set()
        return dropped

    async def drain(self, timeout: float) -> bool:
        """Wait until everything queued has been delivered; False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                await self._empty.wait()
        except TimeoutError:
            return False
        return True

    async def run(self) -> None:
        """Deliver forever (owned by the station's TaskGroup)."""
        while True:
            item = self.queue.head()
            if item is None:
                self._empty.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            connection = await self._ready()
            if self.queue.head() is not item:
                continue  # the queue changed while we waited (volatile messages dropped)
            payload = self.queue.payload_for(item)
            if payload is None:
                log.warning(
                    "%s dropping %s: its transaction never got an id", self._label, item.action
                )
                self._stats.error("StopWithoutTransactionId")
                self.queue.pop(item)
                continue
            try:
                answer = await connection.call(item.action, payload)
            except ConnectionLost:
                # still at the head; goes first once reconnected. A socket that is closing may
                # still look ready for a moment: pause rather than spin on it, which starves the
                # event loop (a whole fleet test once hung so)
                await asyncio.sleep(0.05)
                continue
            except (CallErrorReceived, CallTimeout) as failure:
                item.attempts += 1
                if item.persistent and item.attempts < self._attempts():
                    log.info("%s %s failed (%s); retrying", self._label, item.action, failure)
                    await asyncio.sleep(self._retry_interval() * item.attempts)
                    continue
                log.warning("%s giving up on %s: %s", self._label, item.action, failure)
                if item.persistent:
                    self._stats.error(f"{item.action}GivenUp")
                self.queue.pop(item)
                continue
            self.queue.pop(item)
            if item.on_ack is not None:
                try:
                    item.on_ack(answer)
                except Exception:  # a bug in bookkeeping must not stop the deliveries
                    log.exception("%s: handling the answer to %s failed", self._label, item.action)
                    self._stats.error("StationFault")
