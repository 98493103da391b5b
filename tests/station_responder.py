"""A scripted station for command tests: boots, then answers CSMS CALLs with valid replies."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from tests.ocpp_client import OcppClient, open_client

ACCEPTED = {"status": "Accepted"}
REPLIES_16: dict[str, dict[str, Any]] = {
    "RemoteStartTransaction": ACCEPTED,
    "RemoteStopTransaction": ACCEPTED,
    "Reset": ACCEPTED,
    "ChangeAvailability": ACCEPTED,
    "UnlockConnector": {"status": "Unlocked"},
    "TriggerMessage": ACCEPTED,
    "GetConfiguration": {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}],
        "unknownKey": [],
    },
    "ChangeConfiguration": ACCEPTED,
    "ClearCache": ACCEPTED,
    "SendLocalList": ACCEPTED,
    "GetLocalListVersion": {"listVersion": 3},
    "ReserveNow": ACCEPTED,
    "CancelReservation": ACCEPTED,
    "SetChargingProfile": ACCEPTED,
    "ClearChargingProfile": ACCEPTED,
    "GetCompositeSchedule": ACCEPTED,
    "UpdateFirmware": {},
    "SignedUpdateFirmware": ACCEPTED,
    "GetDiagnostics": {"fileName": "diagnostics.zip"},
    "DataTransfer": {"status": "Accepted", "data": "pong"},
}
REPLIES_201: dict[str, dict[str, Any]] = {
    "RequestStartTransaction": ACCEPTED,
    "RequestStopTransaction": ACCEPTED,
    "Reset": ACCEPTED,
    "ChangeAvailability": ACCEPTED,
    "UnlockConnector": {"status": "Unlocked"},
    "TriggerMessage": ACCEPTED,
    "GetVariables": {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "attributeValue": "60",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            }
        ]
    },
    "SetVariables": {
        "setVariableResult": [
            {
                "attributeStatus": "Accepted",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            }
        ]
    },
    "ClearCache": ACCEPTED,
    "SendLocalList": ACCEPTED,
    "GetLocalListVersion": {"versionNumber": 3},
    "ReserveNow": ACCEPTED,
    "CancelReservation": ACCEPTED,
    "SetChargingProfile": ACCEPTED,
    "ClearChargingProfile": ACCEPTED,
    "GetCompositeSchedule": ACCEPTED,
    "UpdateFirmware": ACCEPTED,
    "GetLog": {"status": "Accepted", "filename": "log.zip"},
    "DataTransfer": ACCEPTED,
}


class Responder:
    """Answers CALLs from the CSMS; `mode` 'answer', 'silent' or 'callerror'."""

    def __init__(self, client: OcppClient, replies: dict[str, dict[str, Any]]) -> None:
        self.client = client
        self.replies = replies
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.mode = "answer"

    async def serve(self) -> None:
        async for raw in self.client.ws:
            frame = json.loads(raw)
            if frame[0] != 2:
                continue
            _, unique_id, action, payload = frame
            self.received.append((action, payload))
            if self.mode == "silent":
                continue
            if self.mode == "callerror" or action not in self.replies:
                reply = [4, unique_id, "NotSupported", f"{action} refused by test", {}]
            else:
                reply = [3, unique_id, self.replies[action]]
            await self.client.ws.send(json.dumps(reply))


@contextlib.asynccontextmanager
async def responding_station(
    port: int, station_id: str, version: str = "1.6"
) -> AsyncIterator[Responder]:
    """A connected, booted station answering commands until the block ends."""
    if version == "1.6":
        client = await open_client(port, station_id, ["ocpp1.6"])
        await client.call("BootNotification", {"chargePointVendor": "T", "chargePointModel": "R"})
        responder = Responder(client, REPLIES_16)
    else:
        client = await open_client(port, station_id, ["ocpp2.0.1"])
        await client.call(
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"model": "R", "vendorName": "T"}},
        )
        responder = Responder(client, REPLIES_201)
    task = asyncio.create_task(responder.serve())
    try:
        yield responder
    finally:
        await client.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


_call_ids = itertools.count(1)


class DuplexStation:
    """A station that answers every CSMS CALL in the background (valid replies), records what
    it was sent, and makes CALLs of its own on the same socket (answers matched by id)."""

    model = "D"  # BootNotification model, so logs tell the test stations apart

    def __init__(
        self, client: OcppClient, version: str, replies: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self.client = client
        self.version = version
        self.v16 = version == "1.6"
        self.replies = replies or (REPLIES_16 if self.v16 else REPLIES_201)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self._pending: dict[str, asyncio.Future[list[Any]]] = {}

    async def serve(self) -> None:
        async for raw in self.client.ws:
            frame = json.loads(raw)
            if frame[0] == 2:
                _, unique_id, action, payload = frame
                self.received.append((action, payload))
                await self.client.ws.send(json.dumps([3, unique_id, self.replies.get(action, {})]))
            elif (future := self._pending.pop(frame[1], None)) is not None:
                future.set_result(frame)

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        unique_id = f"d{next(_call_ids)}"
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = future
        await self.client.ws.send(json.dumps([2, unique_id, action, payload]))
        frame = await asyncio.wait_for(future, 10)
        assert frame[0] == 3, frame
        result: dict[str, Any] = frame[2]
        return result

    def sent(self, action: str) -> list[dict[str, Any]]:
        """Payloads of the CALLs named `action` the CSMS sent so far."""
        return [payload for name, payload in self.received if name == action]

    async def wait_for(
        self, action: str, count: int = 1, timeout: float = 10
    ) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while len(self.sent(action)) < count:
                await asyncio.sleep(0.05)
        return self.sent(action)

    async def boot(self) -> None:
        if self.v16:
            await self.call(
                "BootNotification", {"chargePointVendor": "T", "chargePointModel": self.model}
            )
        else:
            await self.call(
                "BootNotification",
                {"reason": "PowerUp", "chargingStation": {"model": self.model, "vendorName": "T"}},
            )

    async def authorize(self, token: str) -> str:
        if self.v16:
            answer = await self.call("Authorize", {"idTag": token})
            status: str = answer["idTagInfo"]["status"]
        else:
            answer = await self.call(
                "Authorize", {"idToken": {"idToken": token, "type": "ISO14443"}}
            )
            status = answer["idTokenInfo"]["status"]
        return status


Duplex = TypeVar("Duplex", bound=DuplexStation)


@contextlib.asynccontextmanager
async def duplex_station(
    port: int,
    station_id: str,
    version: str,
    kind: Callable[[OcppClient, str], Duplex],
    headers: dict[str, str] | None = None,
) -> AsyncIterator[Duplex]:
    """A connected, booted station of `kind` answering the CSMS until the block ends
    (`headers`: of the handshake, e.g. a password's Authorization)."""
    subprotocol = "ocpp1.6" if version == "1.6" else "ocpp2.0.1"
    client = await open_client(port, station_id, [subprotocol], headers=headers)
    simulated = kind(client, version)
    task = asyncio.create_task(simulated.serve())
    try:
        await simulated.boot()
        yield simulated
    finally:
        await client.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
