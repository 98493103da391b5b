"""A schema-driven fuzz of the whole operator API: no route answers 5xx, whatever it is sent.

The real CSMS, a real PostgreSQL, seeded rows (two connected stations answering commands, one
only registered, a token, a tariff with a billed session and its CDR, a unit with a schedule,
a platform, a key, a user), and every operation of /openapi.json fed schemathesis cases:
positive and negative, half of them naming seeded rows in the path. First with the admin key
(so auth does not hide the handlers), then a short pass with no key, a viewer's key and a
wrong key.
Checks (tests/openapi_fuzz.py): no 5xx and no dropped connection, except the 502/504 a command
route documents for its station's own failure; JSON answers, every refusal the {error, detail}
problem body; nothing under /api/v1 succeeds without a key, nor a viewer's write. The live
feed (SSE) is fuzzed too: only its status and headers are read, never its endless body.

Bounded and reproducible: a fixed number of examples per operation and mode, derandomized
(~35 s on 2 cores). Hunt for more with CSMS_FUZZ_EXAMPLES=200 CSMS_FUZZ_SEED=<n> (a seed
makes a random run of its own).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import pytest
from schemathesis import Case
from schemathesis.schemas import APIOperation

from csms.bootstrap import Running
from csms.clock import isoformat, utcnow
from tests.conftest import ADMIN_TOKEN, Api
from tests.ocpp_client import open_client
from tests.openapi_fuzz import (
    NEGATIVE,
    POSITIVE,
    Budget,
    Fuzzer,
    cases,
    fuzz,
    json_answers,
    load,
    no_server_error,
    no_success_without,
)
from tests.station_responder import responding_station

EXAMPLES = int(os.environ.get("CSMS_FUZZ_EXAMPLES", "12"))
AUTH_EXAMPLES = 2
ADMIN = f"Bearer {ADMIN_TOKEN}"
SEED = int(os.environ["CSMS_FUZZ_SEED"]) if os.environ.get("CSMS_FUZZ_SEED") else None
# A platform the fuzz creates is pushed to: a valid URL is pointed at a closed loopback port,
# so the push workers never reach off this machine.
URL = re.compile(r"^https?://[^\s]+$")
CLOSED_PORT_URL = "http://127.0.0.1:9/evcs/v1"
SINCE_2020 = "2020-01-01T00:00:00+08:00"
FLAT_TARIFF = {
    "tariff_id": "FZ-TF",
    "name": "fuzz flat",
    "effective_from": SINCE_2020,
    "prices": {"flat": {"energy": "0.6000", "service": "0.6000"}},
    "plans": [{"periods": [{"start": "00:00", "end": "24:00", "band": "flat"}]}],
}
PLATFORM = {
    "id": "FZ-P",
    "name": "fuzz",
    "base_url": CLOSED_PORT_URL,
    "operator_id": "MA0CSMS01",
    "platform_operator_id": "MA0FUZZ01",
    "operator_secret": "s",
    "data_secret": "0123456789abcdef",
    "data_iv": "0123456789abcdef",
    "sig_secret": "s",
}


def created(response: Any) -> Any:
    assert response.status_code in (200, 201), (response.status_code, response.text)
    return response.json()


async def billed_session(csms: Running, station_id: str, token: str) -> int:
    """A finished 1.6 session of 10 kWh yesterday on the network tariff: a CDR."""
    cp = await open_client(csms.ocpp_port, station_id, ["ocpp1.6"])
    await cp.call("BootNotification", {"chargePointVendor": "F", "chargePointModel": "Z"})
    start = utcnow() - timedelta(days=1)
    started = await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": token, "meterStart": 1000, "timestamp": isoformat(start)},
    )
    tx: int = started["transactionId"]
    await cp.call(
        "StopTransaction",
        {
            "transactionId": tx,
            "meterStop": 11_000,
            "timestamp": isoformat(start + timedelta(hours=1)),
            "idTag": token,
        },
    )
    await cp.close()
    return tx


async def seed_rows(csms: Running, api: Api) -> dict[str, Any]:
    """Rows for path parameters to hit; returns their names by path parameter."""
    for station_id, extra in (
        ("FZ-1", {"site_name": "FZ-SITE", "county": "朔城区"}),
        ("FZ-2", {}),
        ("FZ-3", {}),
    ):
        created(await api.post("/api/v1/stations", json={"id": station_id, **extra}))
    created(await api.post("/api/v1/tokens", json={"id_token": "FZ-T"}))
    created(await api.post("/api/v1/tariffs", json=FLAT_TARIFF))
    assignment = created(
        await api.post(
            "/api/v1/tariff-assignments",
            json={
                "tariff_id": "FZ-TF",
                "scope": "network",
                "effective_from": "2020-01-01T00:00:00Z",
            },
        )
    )
    tx = await billed_session(csms, "FZ-1", "FZ-T")
    cdr = created(await api.get(f"/api/v1/transactions/{tx}/bill"))["cdrs"][0]
    created(
        await api.post(
            "/api/v1/units",
            json={"unit_id": "FZ-U", "name": "fuzz unit", "kind": "government"},
        )
    )
    schedule = created(
        await api.post(
            "/api/v1/units/FZ-U/schedules",
            json={
                "effective_from": "2024-01-01",
                "windows": [{"days": ["mon", "sat"], "start": "18:00", "end": "08:00"}],
            },
        )
    )
    created(await api.post("/api/v1/platforms", role="admin", json=PLATFORM))
    created(await api.post("/api/v1/platforms/FZ-P/resync", role="admin"))
    outbox = created(await api.get("/api/v1/platforms/FZ-P/outbox", role="operator"))
    key = created(
        await api.post("/api/v1/keys", role="admin", json={"name": "fz", "role": "viewer"})
    )
    user = created(
        await api.post(
            "/api/v1/users",
            role="admin",
            json={"login": "fz-user", "role": "viewer", "password": "fuzz-password-1"},
        )
    )
    return {
        "station_id": "FZ-1",
        "id_token": "FZ-T",
        "transaction_id": tx,
        "key_id": key["id"],
        "user_id": user["id"],
        "tariff_id": "FZ-TF",
        "version": 1,
        "assignment_id": assignment["id"],
        "cdr_id": cdr["id"],
        "site_name": "FZ-SITE",
        "unit_id": "FZ-U",
        "schedule_id": schedule["id"],
        "month": "2025-06",
        "platform_id": "FZ-P",
        "record_id": outbox[0]["id"] if outbox else 1,
        "action": "ClearCache",
        "method": "query_token",
    }


def keep_pushes_local(case: Case) -> None:
    if isinstance(case.body, dict) and URL.match(str(case.body.get("base_url", ""))):
        case.body["base_url"] = CLOSED_PORT_URL


def admin_pass(fuzzer: Fuzzer, operations: list[APIOperation], known: dict[str, Any]) -> None:
    """Every operation, positive and negative cases, with the admin key: no 5xx, JSON answers."""
    for operation in operations:
        for mode in (POSITIVE, NEGATIVE):
            strategy = cases(operation, mode, known)
            checks = (no_server_error, json_answers)
            budget = Budget(EXAMPLES, SEED)
            fuzz(fuzzer, operation, strategy, budget, ADMIN, checks, keep_pushes_local)


def auth_pass(fuzzer: Fuzzer, operations: list[APIOperation], known: dict[str, Any]) -> None:
    """A few cases of every operation with no key, a viewer's key, then a wrong key (last:
    wrong keys lock this address out, 429, and then right keys too)."""
    viewer = fuzzer.session.post(
        f"{fuzzer.base_url}/api/v1/keys",
        json={"name": "fuzz viewer", "role": "viewer"},
        headers={"Authorization": ADMIN},
        timeout=10,
    ).json()["key"]
    for role, authorization in (
        ("none", None),
        ("viewer", f"Bearer {viewer}"),
        ("none", "Bearer not-a-key"),
    ):
        checks = (no_server_error, json_answers, no_success_without(role))
        for operation in operations:
            strategy = cases(operation, POSITIVE, known)
            budget = Budget(AUTH_EXAMPLES, SEED)
            fuzz(fuzzer, operation, strategy, budget, authorization, checks, keep_pushes_local)


@pytest.mark.timeout(max(300, EXAMPLES * 6))  # a long hunt gets longer
# schemathesis draws from `random` inside its strategies; Hypothesis seeds it per example
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
async def test_no_operation_answers_a_server_error(csms: Running, api: Api) -> None:
    known = await seed_rows(csms, api)
    operations = load(created(await api.client.get("/openapi.json")))
    fuzzer = Fuzzer(str(api.client.base_url).rstrip("/"))

    def run() -> None:
        admin_pass(fuzzer, operations, known)
        auth_pass(fuzzer, operations, known)

    async with AsyncExitStack() as stack:
        await stack.enter_async_context(responding_station(csms.ocpp_port, "FZ-1", "1.6"))
        await stack.enter_async_context(responding_station(csms.ocpp_port, "FZ-2", "2.0.1"))
        began = time.monotonic()
        await asyncio.to_thread(run)
        took = time.monotonic() - began
    slowest = sorted(fuzzer.seconds.items(), key=lambda item: -item[1])[:5]
    print(
        f"\nfuzzed {len(operations)} operations: {fuzzer.sent} requests in {took:.1f} s, "
        f"statuses {dict(sorted(fuzzer.statuses.items()))}; slowest: "
        + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in slowest)
    )
    assert len(operations) >= 100, "the OpenAPI document lost its routes"
    # the seeded rows were found: most operations answered a success at least once
    assert fuzzer.statuses.get(200, 0) + fuzzer.statuses.get(201, 0) > len(operations)
    found = "\n".join(str(f) for f in fuzzer.findings.values())
    assert not fuzzer.findings, f"{len(fuzzer.findings)} findings:\n{found}"
