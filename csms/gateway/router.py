"""Routes commands and live events between CSMS nodes that share one PostgreSQL.

A command for a station whose socket is on another node is written to the command log by the
node that received the API request; a NOTIFY tells the holding node to run it; that node writes
the answer into the same row and NOTIFYs back. The log row carries the payloads, so NOTIFY
messages stay tiny (PostgreSQL caps them below 8000 bytes). Events published on one node are
batched into NOTIFYs so every node's live feed sees the whole network.

Nothing that goes wrong with one message (a malformed notification, a database error) stops
the router: it logs, and goes on with the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from csms import metrics
from csms.clock import utcnow
from csms.gateway.registry import Registry
from csms.outage import OutageLog
from csms.services.commands import execute_logged
from csms.services.events import Event, EventBus
from csms.store.commands import CommandStore
from csms.store.notify import Notifications
from csms.store.outage import cause as outage_cause

log = logging.getLogger(__name__)

COMMANDS_CHANNEL = "csms_commands"
EVENTS_CHANNEL = "csms_events"
CHANNELS = (COMMANDS_CHANNEL, EVENTS_CHANNEL)
_EVENT_BATCH = 50
# The holding node needs the command's own timeout for the station, plus this for the database.
FORWARD_MARGIN_SECONDS = 5.0


class Router:
    def __init__(
        self,
        notifications: Notifications,
        commands: CommandStore,
        registry: Registry,
        bus: EventBus,
        node_id: str,
        *,
        outage: OutageLog | None = None,
    ) -> None:
        self._outage = outage or OutageLog(outage_cause)
        self._notify = notifications
        self._commands = commands
        self._registry = registry
        self._bus = bus
        self._node_id = node_id
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._outgoing: asyncio.Queue[Event] = asyncio.Queue(maxsize=10000)
        # Set by the maintenance loop: forwarding events is pointless while this node is alone.
        self.peers = False
        bus.forwarders.append(self._queue_event)

    async def forward(self, command_id: int, target_node: str, timeout: float) -> None:
        """Ask `target_node` to run a logged command; return when it answered or timed out."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = future
        try:
            await self._notify.send(
                COMMANDS_CHANNEL,
                {"kind": "run", "node": target_node, "id": command_id, "timeout": timeout},
            )
            async with asyncio.timeout(timeout + FORWARD_MARGIN_SECONDS):
                await future
        except TimeoutError:
            await self._commands.finish(
                command_id,
                "timeout",
                error_code="timeout",
                error_description=f"node {target_node} did not answer",
                at=utcnow(),
            )
        finally:
            self._waiting.pop(command_id, None)

    async def run(self) -> None:
        """Serve notifications and send queued events until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._send_events())
            while True:
                channel, message = await self._notify.queue.get()
                try:
                    self._dispatch(channel, message, tasks)
                except (KeyError, TypeError, ValueError, AttributeError):
                    log.warning("ignored a malformed %s notification: %r", channel, message)

    def _dispatch(self, channel: str, message: dict[str, Any], tasks: asyncio.TaskGroup) -> None:
        if channel == EVENTS_CHANNEL:
            self._deliver_events(message)
        elif message.get("kind") == "run" and message.get("node") == self._node_id:
            command_id, timeout = int(message["id"]), float(message["timeout"])
            tasks.create_task(self._run_forwarded(command_id, timeout))
        elif message.get("kind") == "done":
            future = self._waiting.get(int(message["id"]))
            if future is not None and not future.done():
                future.set_result(None)

    async def _run_forwarded(self, command_id: int, timeout: float) -> None:
        """Run a command another node logged for a station on this node; never raises."""
        try:
            row = await self._commands.get(command_id)
            if row is None or row["status"] != "pending":
                return
            connection = self._registry.get(row["station_id"])
            if connection is None:
                await self._commands.finish(command_id, "offline", at=utcnow())
            else:
                await execute_logged(
                    self._commands,
                    command_id,
                    connection.endpoint,
                    row["action"],
                    row["request"],
                    timeout,
                )
        except Exception:  # one failed command must not stop the router
            log.exception("forwarded command %s failed", command_id)
            with contextlib.suppress(Exception):
                await self._commands.finish(
                    command_id,
                    "failed",
                    error_code="InternalError",
                    error_description="the holding node failed to run the command",
                    at=utcnow(),
                )
        # A lost "done" only costs the origin its own timeout.
        with contextlib.suppress(Exception):
            await self._notify.send(COMMANDS_CHANNEL, {"kind": "done", "id": command_id})

    def _queue_event(self, event: Event) -> None:
        if not self.peers:
            return
        if self._outgoing.full():
            metrics.EVENTS_DROPPED.labels("forward queue full").inc()
            return
        self._outgoing.put_nowait(event)

    async def _send_events(self) -> None:
        while True:
            batch = [await self._outgoing.get()]
            while len(batch) < _EVENT_BATCH and not self._outgoing.empty():
                batch.append(self._outgoing.get_nowait())
            try:
                await self._send_batch(batch)
            except Exception as exc:  # the feed is best effort: a lost batch must not stop routing
                if self._outage.absorb(exc, "background") is None:
                    log.warning("could not forward %d events", len(batch), exc_info=True)
                metrics.EVENTS_DROPPED.labels("notify failed").inc(len(batch))
                await asyncio.sleep(1)

    async def _send_batch(self, batch: list[Event]) -> None:
        message = {"node": self._node_id, "events": [e.as_json() for e in batch]}
        if await self._notify.send(EVENTS_CHANNEL, message):
            return
        for event in batch:  # too large together: one at a time, dropping the oversized
            single = {"node": self._node_id, "events": [event.as_json()]}
            if not await self._notify.send(EVENTS_CHANNEL, single):
                metrics.EVENTS_DROPPED.labels("too large").inc()
                log.warning("event %s of %s too large to forward", event.type, event.station_id)

    def _deliver_events(self, message: dict[str, Any]) -> None:
        if message.get("node") == self._node_id:
            return  # our own, already delivered locally
        for raw in message.get("events", []):
            try:
                self._bus.deliver(Event.from_json(raw))
            except (KeyError, ValueError, TypeError):
                log.warning("ignored a malformed event from node %s", message.get("node"))
