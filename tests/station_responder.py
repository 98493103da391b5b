"""A scripted station for command tests: boots, then answers CSMS CALLs with valid replies."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

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
