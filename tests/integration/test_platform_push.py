"""Pushes to a monitoring platform: settings, statuses, orders, refusals, tokens, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from csms.bootstrap import Running
from csms.store.platforms import SEALED
from simulators.platform.server import PlatformSimulator
from tests.conftest import Api, api_for
from tests.integration.test_billing_flow import edge_time, run_v16_session, setup_network
from tests.ocpp_client import open_client
from tests.platform_support import (
    OPERATOR_ID,
    add_platform,
    drained,
    platform_body,
    pushing_csms,
    sim_config,
)


@pytest.fixture
async def sim() -> AsyncIterator[PlatformSimulator]:
    async with PlatformSimulator(sim_config()) as platform:
        yield platform


@pytest.fixture
async def pushing(database_url: str) -> AsyncIterator[Running]:
    async with pushing_csms(database_url) as instance:
        yield instance


@pytest.fixture
async def papi(pushing: Running) -> AsyncIterator[Api]:
    async with api_for(pushing) as client:
        yield client


async def test_platform_settings_never_show_secrets(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    created = await add_platform(papi, sim, inbound_secret="generate")
    issued = created.pop("inbound_secret")
    assert isinstance(issued, str) and len(issued) >= 24  # shown once, at creation
    shown = (await papi.get("/api/v1/platforms/province", role="operator")).json()
    text = str(shown) + str((await papi.get("/api/v1/platforms", role="operator")).json())
    for secret in ("a1b2c3d4e5f6g7h8", "0011223344556677", "sig-secret", "operator-secret"):
        assert secret not in text
    assert "inbound_secret" not in shown and shown["queries_enabled"] is True
    assert shown["methods"]["connector_status"] == "notification_stationStatus"
    stored = await papi.client.get("/api/v1/platforms/province")
    assert stored.status_code == 401
    row = await papi.get("/api/v1/platforms/health")
    assert row.status_code == 200 and row.json()[0]["id"] == "province"

    # secrets in the database are sealed, never the clear text
    row = await pushing.pool.fetchrow("SELECT * FROM platforms WHERE id = 'province'")
    assert row is not None and row["inbound_secret_hash"] != issued
    assert all(b"a1b2c3d4e5f6g7h8" not in row[c] for c in SEALED)

    bad = await papi.patch("/api/v1/platforms/province", role="admin", json={"data_iv": "short"})
    assert bad.status_code == 422
    dup = await papi.post("/api/v1/platforms", role="admin", json=platform_body(sim, id="city"))
    assert dup.status_code == 409  # the same platform OperatorID twice
    weak = await papi.post("/api/v1/platforms", role="operator", json=platform_body(sim, id="x"))
    assert weak.status_code == 403
    renamed = await papi.patch(
        "/api/v1/platforms/province", role="admin", json={"spelling": "Service", "name": "P"}
    )
    assert renamed.status_code == 200 and renamed.json()["spelling"] == "Service"
    assert (await papi.delete("/api/v1/platforms/province")).status_code == 204
    assert (await papi.get("/api/v1/platforms/province", role="operator")).status_code == 404


async def test_a_v16_session_reaches_the_platform_in_order(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    await add_platform(papi, sim)
    edge = edge_time()
    await setup_network(papi, "CP-P1", edge)
    cp = await open_client(pushing.ocpp_port, "CP-P1")
    await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    now = datetime.now(UTC).isoformat()
    for status in ("Available", "Preparing", "Charging", "Finishing", "Available"):
        if status == "Charging":
            tx = await run_v16_session(cp, edge)
        await cp.call(
            "StatusNotification",
            {"connectorId": 1, "status": status, "errorCode": "NoError", "timestamp": now},
        )
    await drained(pushing)
    # Preparing and Finishing are both "occupied" (2): a code that does not change is not sent
    assert sim.statuses_by_connector() == {"CP-P1-1": [1, 2, 3, 2, 1]}
    order = sim.orders[f"{OPERATOR_ID}{tx:018d}"]
    cdr = (await papi.get(f"/api/v1/transactions/{tx}/bill")).json()
    assert Decimal(str(order["TotalMoney"])) == Decimal(cdr["total"])
    assert order["SumPeriod"] == len(order["ChargeDetails"]) == 2
    assert sim.disputed == 0 and sim.duplicate_orders == 0

    await cp.close()
    # the station went away: platforms hear "offline" (0)
    await sim.wait_for(lambda s: s.statuses_by_connector()["CP-P1-1"][-1] == 0, timeout=20)
    await drained(pushing)
    sent = await pushing.pool.fetch(
        "SELECT kind, state FROM platform_outbox WHERE platform_id = 'province' ORDER BY id"
    )
    assert {r["state"] for r in sent} == {"sent"}
    assert [r["kind"] for r in sent].count("charge_order") == 1
