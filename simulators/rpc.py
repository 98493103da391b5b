"""OCPP-J over one WebSocket: the station's CALLs out, the CSMS's CALLs in, both at once.

A reader task takes every frame off the socket: answers (CALLRESULT/CALLERROR) settle the one
outstanding outbound CALL, CALLs go to a handler running in a task owned by the connection, so
the station answers the CSMS while its own CALL waits for an answer (calls may cross,
OCPP-J §4.1.1: one outstanding CALL per direction). A handler answers at once and hands back
any follow-up work (the triggered message, the started session, the reboot) for the station to
run after the answer has gone out, as 1.6 §5.17 and 2.0.1 F06 ask for TriggerMessage.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed

from simulators import ocppj, schemas
from simulators.ocppj import Fault, FrameError
from simulators.stats import Recorder

log = logging.getLogger(__name__)

FollowUp = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer and what to do once it has been sent."""

    payload: dict[str, Any]
    then: FollowUp | None = None


Handler = Callable[[dict[str, Any]], Awaitable[Reply]]
FrameLog = Callable[[str, str, str], None]  # (station id, "->" or "<-", frame text)
Spawn = Callable[[Coroutine[Any, Any, None], str], None]


class CallFailed(Exception):
    """A station-initiated CALL got no CALLRESULT."""


class ConnectionLost(CallFailed):
    """The socket closed (or was not open) before the answer came."""


class CallTimeout(CallFailed):
    pass


class CallErrorReceived(CallFailed):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class InvalidAnswer(CallErrorReceived):
    """The CSMS answered with a CALLRESULT its version's schema does not allow."""

    def __init__(self, description: str) -> None:
        super().__init__("InvalidResponse", description)


class Socket(Protocol):
    """What the connection needs of a websockets ClientConnection."""

    async def send(self, message: str) -> None: ...

    async def recv(self) -> str | bytes: ...


class RpcConnection:
    def __init__(
        self,
        socket: Socket,
        version: str,
        handlers: dict[str, Handler],
        *,
        stats: Recorder,
        spawn: Spawn,
        label: str = "",
        call_timeout: float = 30.0,
        frame_log: FrameLog | None = None,
    ) -> None:
        self._socket = socket
        self.version = version
        self._handlers = handlers
        self._stats = stats
        self._spawn = spawn
        self._label = label
        self.call_timeout = call_timeout
        self._frame_log = frame_log
        self._known = schemas.known_actions(version)
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._pending: tuple[str, asyncio.Future[dict[str, Any]]] | None = None
        self.closed = False

    async def serve(self) -> None:
        """Read frames until the socket closes; answer CALLs from tasks owned here."""
        try:
            async with asyncio.TaskGroup() as answers:
                try:
                    while True:
                        raw = await self._socket.recv()
                        self._dispatch(raw, answers)
                except ConnectionClosed:
                    pass
                finally:
                    self._close()
        finally:
            self._close()

    def _close(self) -> None:
        self.closed = True
        if self._pending is not None and not self._pending[1].done():
            self._pending[1].set_exception(ConnectionLost("connection closed"))

    def _dispatch(self, raw: str | bytes, answers: asyncio.TaskGroup) -> None:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        if self._frame_log is not None:
            self._frame_log(self._label, "<-", text)
        try:
            frame = ocppj.parse(raw)
        except FrameError as error:
            log.info("%s bad frame from the CSMS: %s", self._label, error.description)
            answers.create_task(self._send_quietly(ocppj.encode_fault(self.version, error)))
            return
        if isinstance(frame, ocppj.Call):
            answers.create_task(self._answer(frame))
            return
        pending = self._pending
        if pending is None or pending[0] != frame.unique_id or pending[1].done():
            log.info("%s answer to unknown message %s ignored", self._label, frame.unique_id)
            return
        if isinstance(frame, ocppj.CallError):
            pending[1].set_exception(CallErrorReceived(frame.code, frame.description))
        else:
            pending[1].set_result(frame.payload)

    async def _answer(self, call: ocppj.Call) -> None:
        self._stats.command_received(call.action)
        reply: Reply | None = None
        try:
            if call.action not in self._known:
                raise FrameError(
                    Fault.NOT_IMPLEMENTED, f"{call.action} is not an OCPP {self.version} action"
                )
            handler = self._handlers.get(call.action)
            if handler is None:
                raise FrameError(Fault.NOT_SUPPORTED, f"this station does not handle {call.action}")
            schemas.validate(self.version, call.action, call.payload)
            reply = await handler(call.payload)
            text = ocppj.encode_result(call.unique_id, reply.payload)
        except FrameError as error:
            text = ocppj.encode_fault(self.version, error, call.unique_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed to handle %s", self._label, call.action)
            text = ocppj.encode_error(
                call.unique_id, "InternalError", f"{call.action} could not be processed"
            )
        if not await self._send_quietly(text):
            return
        if reply is not None and reply.then is not None:
            self._spawn(reply.then(), f"after {call.action}")

    async def _send(self, text: str) -> None:
        if self._frame_log is not None:
            self._frame_log(self._label, "->", text)
        await self._socket.send(text)

    async def _send_quietly(self, text: str) -> bool:
        try:
            await self._send(text)
        except ConnectionClosed:
            return False
        return True

    async def call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL and return the CALLRESULT payload; one at a time per connection.

        Raises ConnectionLost, CallTimeout or CallErrorReceived (InvalidAnswer when the
        CALLRESULT breaks the action's response schema).
        """
        async with self._lock:
            if self.closed:
                raise ConnectionLost("not connected")
            unique_id = str(next(self._ids))
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending = (unique_id, future)
            self._stats.call_sent(action)
            started = time.perf_counter()
            try:
                await self._send(ocppj.encode_call(unique_id, action, payload))
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
                # arrives as the answer (or the connection loss) does, and a cancelled station
                # would then keep running.
                async with asyncio.timeout(timeout or self.call_timeout):
                    result = await future
            except TimeoutError:
                self._stats.call_timed_out(action)
                raise CallTimeout(f"{action}: no answer in time") from None
            except (ConnectionClosed, ConnectionLost):
                self._stats.call_lost(action)
                raise ConnectionLost(f"{action}: connection lost") from None
            except CallErrorReceived as error:
                self._stats.call_answered(action, time.perf_counter() - started, error.code)
                raise
            finally:
                self._pending = None
                if future.done() and not future.cancelled():
                    future.exception()  # retrieved: a late failure must not be reported as lost
            elapsed = time.perf_counter() - started
            try:
                schemas.validate(self.version, action, result, response=True)
            except FrameError as error:
                # A load tester reports a CSMS that breaks the schema rather than trusting it.
                self._stats.call_answered(action, elapsed, "InvalidResponse")
                raise InvalidAnswer(error.description) from None
            self._stats.call_answered(action, elapsed)
            return result
