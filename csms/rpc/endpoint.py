"""Runs OCPP-J over one connection: inbound CALLs in arrival order, outbound CALLs one at a time.

Inbound CALLs are handled inline, one after another, which keeps a station's messages in the order
it sent them (transactions depend on it). Handlers must therefore never await a CSMS-initiated
CALL themselves (the answer would queue behind them): such calls run from their own task and go
through `call()`, which allows one outstanding CALL per direction (OCPP-J §4.1.1).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed

from csms import errors, metrics
from csms.domain.version import OcppVersion
from ocppj import frames, validation
from ocppj.codes import Fault, RpcFault, error_code

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

# CsmsErrors a handler may raise on purpose, and the fault each one is answered with.
_ERROR_FAULTS: tuple[tuple[type[errors.CsmsError], Fault], ...] = (
    (errors.NotAccepted, Fault.SECURITY),
    (errors.InvalidInput, Fault.PROPERTY),
    (errors.ProtocolError, Fault.PROTOCOL),
    (errors.StoreError, Fault.INTERNAL),
)


class Transport(Protocol):
    """What the endpoint needs of a WebSocket connection."""

    async def send(self, message: str) -> None: ...

    def __aiter__(self) -> AsyncIterator[str | bytes]: ...


class RpcEndpoint:
    """One connection's RPC state: the version, its handlers, and the outstanding CALL."""

    def __init__(
        self,
        transport: Transport,
        version: OcppVersion,
        handlers: Mapping[str, Handler],
        *,
        validate_responses: bool = False,
        on_activity: Callable[[], object] | None = None,
        on_call: Callable[[str, dict[str, Any]], None] | None = None,
        label: str = "",
    ) -> None:
        self._transport = transport
        self.version = version
        self._handlers = handlers
        self._validate_responses = validate_responses
        self._on_activity = on_activity
        self._on_call = on_call
        self._label = label
        self._known = validation.known_actions(version)
        self._call_lock = asyncio.Lock()
        self._pending: tuple[str, str, asyncio.Future[dict[str, Any]]] | None = None
        self._closed = False

    async def run(self) -> None:
        """Serve the connection until the peer goes away."""
        try:
            async for raw in self._transport:
                if self._on_activity is not None:
                    self._on_activity()
                await self._receive(raw)
        finally:
            self._closed = True
            self._fail_pending(errors.CallFailed("disconnected"))

    async def _receive(self, raw: str | bytes) -> None:
        try:
            frame = frames.parse(raw)
        except RpcFault as fault:
            log.info("%s bad frame: %s", self._label, fault.description)
            metrics.BAD_FRAMES.labels(self.version.value).inc()
            await self._send_fault(fault)
            return
        if isinstance(frame, frames.Call):
            await self._send(await self.dispatch(frame))
        else:
            self._settle(frame)

    async def dispatch(self, call: frames.Call) -> str:
        """Answer one CALL with the encoded CALLRESULT or CALLERROR; never raises but cancel."""
        started = time.perf_counter()
        fault: RpcFault | None = None
        try:
            return frames.encode_result(call.unique_id, await self._handle(call))
        except RpcFault as caught:
            fault = caught
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            fault = self._fault_for(exc, call)
        finally:
            self._observe_inbound(call.action, fault, time.perf_counter() - started)
        return self._encode_fault(fault, call.unique_id)

    def _observe_inbound(self, action: str, fault: RpcFault | None, seconds: float) -> None:
        version = self.version.value
        # Unknown actions are bucketed so a misbehaving station cannot mint label values.
        label = action if action in self._known else "<unknown>"
        outcome = "result" if fault is None else "callerror"
        metrics.INBOUND.observe(version, label, outcome, seconds)
        if fault is not None:
            metrics.CALLERRORS.labels(version, error_code(self.version, fault.fault), "sent").inc()

    async def _handle(self, call: frames.Call) -> dict[str, Any]:
        if call.action not in self._known:
            raise RpcFault(
                Fault.NOT_IMPLEMENTED, f"{call.action} is not an OCPP {self.version} action"
            )
        handler = self._handlers.get(call.action)
        if handler is None:
            raise RpcFault(Fault.NOT_SUPPORTED, f"the CSMS does not accept {call.action}")
        validation.validate(self.version, call.action, call.payload)
        response = await handler(call.payload)
        if self._validate_responses:
            validation.validate(self.version, call.action, response, response=True)
        return response

    def _fault_for(self, exc: Exception, call: frames.Call) -> RpcFault:
        for kind, fault in _ERROR_FAULTS:
            if isinstance(exc, kind):
                return RpcFault(fault, str(exc))
        log.exception("%s %s failed", self._label, call.action)
        return RpcFault(Fault.INTERNAL, f"{call.action} could not be processed")

    def _encode_fault(self, fault: RpcFault, unique_id: str) -> str:
        return frames.encode_error(
            unique_id, error_code(self.version, fault.fault), fault.description, fault.details
        )

    async def _send_fault(self, fault: RpcFault) -> None:
        await self._send(self._encode_fault(fault, fault.unique_id))

    async def _send(self, text: str) -> None:
        await self._transport.send(text)

    def _settle(self, frame: frames.CallResult | frames.CallError) -> None:
        pending = self._pending
        if pending is None or pending[0] != frame.unique_id:
            log.info("%s ignored an answer to unknown message %s", self._label, frame.unique_id)
            return
        _, action, future = pending
        if future.done():
            return
        if isinstance(frame, frames.CallError):
            future.set_exception(
                errors.CallFailed("CALLERROR", code=frame.code, description=frame.description)
            )
            return
        if frame.invalid is not None:
            future.set_exception(errors.CallFailed("invalid response", description=frame.invalid))
            return
        try:
            validation.validate(self.version, action, frame.payload, response=True)
        except RpcFault as fault:
            future.set_exception(
                errors.CallFailed("invalid response", description=fault.description)
            )
            return
        future.set_result(frame.payload)

    def _fail_pending(self, exc: errors.CallFailed) -> None:
        if self._pending is not None and not self._pending[2].done():
            self._pending[2].set_exception(exc)

    async def call(self, action: str, payload: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        """Send a CSMS-initiated CALL and return the station's CALLRESULT payload.

        Raises CallFailed on CALLERROR, timeout, an invalid answer or a lost connection.
        """
        if action not in self._known:
            raise errors.InvalidInput(f"{action} is not an OCPP {self.version} action")
        try:
            validation.validate(self.version, action, payload)
        except RpcFault as fault:
            raise errors.InvalidInput(fault.description) from None
        # One outstanding CALL per connection: the timeout covers waiting for the previous one
        # too, so a command never reaches the station after its caller was told it timed out.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                await self._call_lock.acquire()
        except TimeoutError:
            metrics.MESSAGES_SENT.labels(self.version.value, action, "queued_timeout").inc()
            raise errors.CallFailed(
                "timeout", description="an earlier CALL to the station was still unanswered"
            ) from None
        try:
            return await self._call_locked(action, payload, deadline)
        finally:
            self._call_lock.release()

    async def _call_locked(
        self, action: str, payload: dict[str, Any], deadline: float
    ) -> dict[str, Any]:
        if self._closed:
            raise errors.CallFailed("disconnected")
        if self._on_call is not None:
            self._on_call(action, payload)
        unique_id = str(uuid.uuid4())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending = (unique_id, action, future)
        started = time.perf_counter()
        outcome = "result"
        try:
            await self._send(frames.encode_call(unique_id, action, payload))
            async with asyncio.timeout_at(deadline):
                return await future
        except TimeoutError:
            outcome = "timeout"
            raise errors.CallFailed("timeout") from None
        except errors.CallFailed as failed:
            outcome = "callerror" if failed.code else failed.reason.replace(" ", "_")
            if failed.code:
                metrics.CALLERRORS.labels(self.version.value, failed.code, "received").inc()
            raise
        except ConnectionClosed:
            outcome = "disconnected"
            raise errors.CallFailed("disconnected") from None
        finally:
            self._pending = None
            metrics.MESSAGES_SENT.labels(self.version.value, action, outcome).inc()
            metrics.CALL_ROUNDTRIP.labels(self.version.value, action).observe(
                time.perf_counter() - started
            )
