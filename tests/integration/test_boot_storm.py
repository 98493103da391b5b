"""Many stations connecting at once: all admitted while the queue drains in time; beyond that,
HTTP 503 with Retry-After at once instead of a timeout."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import InvalidStatus

from csms.bootstrap import Running
from csms.gateway.admission import RETRY_MAX, RETRY_MIN
from tests.ocpp_client import open_client

BOOT16 = {"chargePointVendor": "Acme", "chargePointModel": "AC7"}
BOOT201 = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}


async def test_a_burst_of_stations_is_all_accepted(csms: Running) -> None:
    async def one(i: int) -> str:
        version = "ocpp1.6" if i % 2 else "ocpp2.0.1"
        client = await open_client(csms.ocpp_port, f"BURST-{i}", subprotocols=[version])
        try:
            answer = await client.call("BootNotification", BOOT16 if i % 2 else BOOT201)
            return str(answer["status"])
        finally:
            await client.close()

    async with asyncio.timeout(60):
        statuses = await asyncio.gather(*(one(i) for i in range(300)))
    assert statuses == ["Accepted"] * 300
    assert csms.gateway.gate.pending == 0
    assert csms.gateway.gate.refused == 0


async def test_overload_is_answered_503_with_retry_after(csms: Running) -> None:
    gate = csms.gateway.gate
    first = await open_client(csms.ocpp_port, "EARLY")  # one completion: a rate is known
    await first.close()
    gate.patience, gate.min_queue = 0.0, 0  # any wait is now "longer than stations wait"
    stuck, _ = gate.enter()  # a handshake in progress
    assert stuck is not None
    await asyncio.sleep(0.01)
    try:
        with pytest.raises(InvalidStatus) as refused:
            await open_client(csms.ocpp_port, "LATE")
        response = refused.value.response
        assert response.status_code == 503
        assert RETRY_MIN <= int(response.headers["Retry-After"]) <= RETRY_MAX
        assert gate.refused == 1
    finally:
        gate.leave(stuck)
    late = await open_client(csms.ocpp_port, "LATE")  # once the queue is gone: served
    assert (await late.call("BootNotification", BOOT16))["status"] == "Accepted"
    await late.close()
