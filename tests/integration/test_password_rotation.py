"""Station password rotation over real sockets (issue 16): 1.6J §6.2.2 and the 1.6 security
whitepaper (ChangeConfiguration AuthorizationKey, hex-encoded, at most 20 bytes), 2.0.1 A01
(SetVariables SecurityCtrlr.BasicAuthPassword, 16-40 characters, the station reconnects with
the new password). The CSMS generates the password, keeps old and new valid until the station
connects with the new one, then retires the old one; a refusal keeps the old one only."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import string
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from csms.bootstrap import Running
from csms.clock import utcnow
from csms.domain.password import SENT_ABANDONED_AFTER, hash_password
from csms.store.passwords import PasswordStore
from csms.store.stations import StationStore
from simulators.meter import KINDS
from simulators.station.config import StationConfig
from simulators.station.station import Station
from tests.conftest import Api
from tests.ocpp_client import open_client
from tests.station_responder import REPLIES_16, REPLIES_201, Responder

VERSIONS = pytest.mark.parametrize("version", ["1.6", "2.0.1"])
OLD = "old-password-0123456789"
SUBPROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}
BOOT = {
    "1.6": {"chargePointVendor": "T", "chargePointModel": "R"},
    "2.0.1": {"reason": "PowerUp", "chargingStation": {"model": "R", "vendorName": "T"}},
}


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def password_result(status: str) -> dict[str, Any]:
    """A 2.0.1 SetVariablesResponse for BasicAuthPassword."""
    return {
        "setVariableResult": [
            {
                "attributeStatus": status,
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
            }
        ]
    }


@contextlib.asynccontextmanager
async def station(
    csms: Running, station_id: str, version: str, password: str
) -> AsyncIterator[Responder]:
    """A booted station, connected with `password`, answering the CSMS's calls."""
    client = await open_client(
        csms.ocpp_port, station_id, [SUBPROTOCOL[version]], headers=basic(station_id, password)
    )
    await client.call("BootNotification", BOOT[version])
    replies = dict(REPLIES_16 if version == "1.6" else REPLIES_201)
    replies["SetVariables"] = password_result("Accepted")
    responder = Responder(client, replies)
    task = asyncio.create_task(responder.serve())
    try:
        yield responder
    finally:
        await client.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def connects(csms: Running, station_id: str, version: str, password: str) -> bool:
    """Whether the handshake with these credentials succeeds (401 otherwise)."""
    try:
        client = await open_client(
            csms.ocpp_port,
            station_id,
            [SUBPROTOCOL[version]],
            headers=basic(station_id, password),
        )
    except InvalidStatus as refused:
        assert refused.response.status_code == 401
        return False
    await client.close()
    return True


def sent_password(version: str, action: str, payload: dict[str, Any]) -> str:
    """The password as the station understands the CALL it received."""
    if version == "1.6":
        assert action == "ChangeConfiguration" and payload["key"] == "AuthorizationKey"
        key = payload["value"]
        # whitepaper: up to 20 bytes, hex represented (40 hex digits)
        assert len(key) == 40 and all(c in string.hexdigits for c in key), key
        return bytes.fromhex(key).decode()
    assert action == "SetVariables"
    (data,) = payload["setVariableData"]
    assert data["component"] == {"name": "SecurityCtrlr"}
    assert data["variable"] == {"name": "BasicAuthPassword"}
    value: str = data["attributeValue"]
    return value


async def rotate(api: Api, station_id: str, **params: Any) -> Any:
    return await api.post(
        f"/api/v1/stations/{station_id}/commands/rotate-password",
        role="admin",
        json={},
        params=params,
    )


async def actions(api: Api, station_id: str) -> list[str]:
    reply = await api.get("/api/v1/audit", role="admin")
    assert reply.status_code == 200, reply.text
    rows = [r for r in reply.json() if r["subject_id"] == station_id]
    return sorted(r["action"] for r in rows)


@VERSIONS
async def test_accepted_rotation_keeps_both_until_the_new_one_connects(
    csms: Running, api: Api, version: str
) -> None:
    """Accepted: old and new both let in; the first connect with the new one retires the old.
    The password is never in an API answer or the command log."""
    station_id = f"ROT-A-{version}"
    await StationStore(csms.pool).create(
        station_id, password_hash=hash_password(OLD), security_profile=1
    )
    async with station(csms, station_id, version, OLD) as side:
        reply = await rotate(api, station_id)
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        assert answer["status"] == "Accepted" and answer["pending"] is True
        action, payload = side.received[-1]
        new = sent_password(version, action, payload)
    # 1.6: 20 characters (the key's 20 bytes); 2.0.1 A01: up to 40 characters
    assert len(new) == (20 if version == "1.6" else 40)
    assert new != OLD and new.isalnum()
    history = (await api.get("/api/v1/commands", params={"station_id": station_id})).text
    for text in (reply.text, history):
        assert new not in text and new.encode().hex() not in text
    assert "rotate-password" in history

    assert await connects(csms, station_id, version, OLD)  # both valid meanwhile
    assert await connects(csms, station_id, version, OLD)
    assert await connects(csms, station_id, version, new)  # retires the old one
    assert not await connects(csms, station_id, version, OLD)
    assert await connects(csms, station_id, version, new)
    assert await actions(api, station_id) == [
        "password_rotated",
        "password_rotation_accepted",
        "password_rotation_sent",
    ]


@VERSIONS
async def test_a_refused_rotation_keeps_the_old_password_only(
    csms: Running, api: Api, version: str
) -> None:
    """Rejected (or a CALLERROR): the new password is dropped at once, the old one stays."""
    station_id = f"ROT-R-{version}"
    await StationStore(csms.pool).create(
        station_id, password_hash=hash_password(OLD), security_profile=1
    )
    async with station(csms, station_id, version, OLD) as side:
        if version == "1.6":
            side.replies["ChangeConfiguration"] = {"status": "Rejected"}
        else:
            side.replies["SetVariables"] = password_result("Rejected")
        reply = await rotate(api, station_id)
        assert reply.status_code == 200, reply.text
        assert reply.json()["status"] == "Rejected" and reply.json()["pending"] is False
        new = sent_password(version, *side.received[-1])
        side.mode = "callerror"
        assert (await rotate(api, station_id)).status_code == 502
        other = sent_password(version, *side.received[-1])
    for refused in (new, other):
        assert not await connects(csms, station_id, version, refused)
    assert await connects(csms, station_id, version, OLD)
    assert (await actions(api, station_id)).count("password_rotation_refused") == 2


@VERSIONS
async def test_an_unanswered_rotation_is_settled_by_the_next_connect(
    csms: Running, api: Api, version: str
) -> None:
    """No answer in time (504): the station may have taken the new password, so both stay
    valid; its next connect with the old one shows it did not, and the new one is dropped."""
    station_id = f"ROT-T-{version}"
    await StationStore(csms.pool).create(
        station_id, password_hash=hash_password(OLD), security_profile=1
    )
    async with station(csms, station_id, version, OLD) as side:
        side.mode = "silent"
        reply = await rotate(api, station_id, timeout=0.5)
        assert reply.status_code == 504, reply.text
        new = sent_password(version, *side.received[-1])
        # a second rotation waits for this one to settle
        again = await rotate(api, station_id)
        assert again.status_code == 409 and "pending" in again.text
    assert await connects(csms, station_id, version, OLD)  # drops the unconfirmed one
    assert not await connects(csms, station_id, version, new)
    assert "password_rotation_dropped" in await actions(api, station_id)

    # the same, but the station did take it: its connect with the new one retires the old
    async with station(csms, station_id, version, OLD) as side:
        side.mode = "silent"
        assert (await rotate(api, station_id, timeout=0.5)).status_code == 504
        new = sent_password(version, *side.received[-1])
    assert await connects(csms, station_id, version, new)
    assert not await connects(csms, station_id, version, OLD)


@VERSIONS
async def test_the_password_changes_only_through_rotate_password(
    csms: Running, api: Api, version: str
) -> None:
    """set-configuration and the raw passthrough may not set AuthorizationKey /
    SecurityCtrlr.BasicAuthPassword (a password the CSMS does not know would lock the station
    out): 422 naming rotate-password, and nothing reaches the station."""
    station_id = f"ROT-G-{version}"
    await StationStore(csms.pool).create(
        station_id, password_hash=hash_password(OLD), security_profile=1
    )
    if version == "1.6":
        key = "AuthorizationKey"
        # any case: a station may match key names loosely
        raw = ("ChangeConfiguration", {"key": "authorizationkey", "value": "a-password-of-my-own"})
    else:
        key = "SecurityCtrlr.BasicAuthPassword"
        raw = (
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "attributeValue": "60",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    },
                    {
                        "attributeValue": "a-password-of-my-own",
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "basicAuthPassword"},
                    },
                ]
            },
        )
    async with station(csms, station_id, version, OLD) as side:
        replies = [
            await api.post(
                f"/api/v1/stations/{station_id}/commands/set-configuration",
                json={"key": key, "value": "a-password-of-my-own"},
            ),
            await api.post(f"/api/v1/stations/{station_id}/ocpp/{raw[0]}", json=raw[1]),
        ]
        for reply in replies:
            assert reply.status_code == 422, reply.text
            assert "rotate-password" in reply.text
        assert side.received == []
        # other keys still go through
        other = "HeartbeatInterval" if version == "1.6" else "OCPPCommCtrlr.HeartbeatInterval"
        fine = await api.post(
            f"/api/v1/stations/{station_id}/commands/set-configuration",
            json={"key": other, "value": "60"},
        )
        assert fine.status_code == 200, fine.text
    assert await connects(csms, station_id, version, OLD)


async def test_rotation_needs_an_admin_a_password_and_a_connection(csms: Running, api: Api) -> None:
    stations = StationStore(csms.pool)
    await stations.create("ROT-N-1", password_hash=hash_password(OLD), security_profile=1)
    await stations.create("ROT-N-2")
    path = "/api/v1/stations/{}/commands/rotate-password"
    operator = await api.post(path.format("ROT-N-1"), json={})
    assert operator.status_code == 403
    assert (await rotate(api, "ROT-N-1")).status_code == 409  # offline
    assert (await rotate(api, "ROT-NOPE")).status_code == 404
    bad = await api.post(path.format("ROT-N-1"), role="admin", json={"password": "mine"})
    assert bad.status_code == 422
    async with station(csms, "ROT-N-2", "1.6", "ignored-no-password") as side:
        reply = await rotate(api, "ROT-N-2")  # no password to rotate: a first one is PATCHed
        assert reply.status_code == 409 and "PATCH" in reply.text
        assert side.received == []


@VERSIONS
async def test_the_simulator_takes_the_new_password_and_reconnects(
    csms: Running, api: Api, version: str
) -> None:
    """The simulator applies the new password (1.6: decoding the hex key) and reconnects with
    it at once; that connect retires the old password."""
    station_id = f"ROT-S-{version}"
    stations = StationStore(csms.pool)
    await stations.create(station_id, password_hash=hash_password(OLD), security_profile=1)
    config = StationConfig(
        station_id=station_id,
        url=f"ws://127.0.0.1:{csms.ocpp_port}/ocpp",
        version=version,
        kind=KINDS["ac7"],
        meter_interval=60,
        call_timeout=10.0,
        password=OLD,
    )
    sim = Station(config, rng=random.Random(5))
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(sim.run(stop=stop, drain_timeout=5))
        try:
            async with asyncio.timeout(30):
                await sim.wait_online()
            before = await stations.get_auth(station_id)
            assert before is not None
            reply = await rotate(api, station_id)
            assert reply.status_code == 200 and reply.json()["status"] == "Accepted", reply.text
            async with asyncio.timeout(30):
                while (now := await stations.get_auth(station_id)) is not None and (
                    now.pending_password_hash is not None
                ):
                    await asyncio.sleep(0.05)
            assert now is not None and now.password_hash != before.password_hash
            assert sim.password != OLD
            assert "password_rotated" in await actions(api, station_id)
            async with asyncio.timeout(30):
                await sim.wait_online()
        finally:
            stop.set()
    assert not await connects(csms, station_id, version, OLD)
    assert json.dumps(reply.json()).count(str(sim.password)) == 0


async def test_an_admin_password_ends_a_pending_rotation(csms: Running, api: Api) -> None:
    """The way out when a station lost its new password: PATCH a password (admin); the pending
    one is dropped with the old one, and a new rotation may start."""
    station_id = "ROT-P-1"
    await StationStore(csms.pool).create(
        station_id, password_hash=hash_password(OLD), security_profile=1
    )
    async with station(csms, station_id, "2.0.1", OLD) as side:
        side.mode = "silent"
        assert (await rotate(api, station_id, timeout=0.5)).status_code == 504
        new = sent_password("2.0.1", *side.received[-1])
    reset = "reset-by-the-admin-0001"
    patched = await api.patch(
        f"/api/v1/stations/{station_id}", role="admin", json={"password": reset}
    )
    assert patched.status_code == 200, patched.text
    for refused in (OLD, new):
        assert not await connects(csms, station_id, "2.0.1", refused)
    async with station(csms, station_id, "2.0.1", reset):
        assert (await rotate(api, station_id)).status_code == 200


async def test_a_rotation_abandoned_while_sent_ends_at_the_next_connect(
    csms: Running, api: Api
) -> None:
    """A node that stopped between sending and recording the answer leaves the rotation `sent`;
    once that is older than any caller waits, a connect with the old password drops it (as for
    an unanswered rotation) instead of keeping it, and blocking every rotation, for ever."""
    fresh, stale = "ROT-SENT-NEW", "ROT-SENT-OLD"
    store, passwords = StationStore(csms.pool), PasswordStore(csms.pool)
    for station_id, age in ((fresh, timedelta(0)), (stale, SENT_ABANDONED_AFTER * 2)):
        await store.create(station_id, password_hash=hash_password(OLD), security_profile=1)
        await passwords.begin(
            station_id,
            hash_password("never-delivered-0123456789"),
            actor="admin",
            command="rotate-password",
            at=utcnow() - age,
        )
        assert await connects(csms, station_id, "2.0.1", OLD)
    kept = await store.get_auth(fresh)
    assert kept is not None and kept.pending_password_state == "sent"  # its caller may still wait
    dropped = await store.get_auth(stale)
    assert dropped is not None and dropped.pending_password_state is None
    assert dropped.pending_password_hash is None
    async with station(csms, stale, "2.0.1", OLD):
        again = await rotate(api, stale)
    assert again.status_code == 200, again.text


@VERSIONS
async def test_a_station_that_moved_away_is_not_sent_the_log_placeholder(
    csms: Running, api: Api, version: str
) -> None:
    """The station reconnects on another node while the rotation is checked: the command would
    travel through the command log, which keeps a placeholder instead of the password. It is
    refused (409) and the pending password dropped; nothing reaches the station."""
    station_id = f"ROT-MOVED-{version}"
    await StationStore(csms.pool).create(
        station_id, password_hash=hash_password(OLD), security_profile=1
    )
    service = csms.commands
    real_local, real_node_of = service._local, service._nodes.node_of
    lookups = 0

    def moved_on_send(sid: str) -> Any:  # the lookup in _send finds the connection gone
        nonlocal lookups
        lookups += 1
        return None if lookups >= 3 else real_local(sid)  # 1, 2: the checks before

    async def elsewhere(sid: str, timeout: float) -> str:
        return "another-node"

    service._local = moved_on_send  # type: ignore[method-assign]
    service._nodes.node_of = elsewhere  # type: ignore[method-assign]
    try:
        async with station(csms, station_id, version, OLD) as side:
            before = len(side.received)
            reply = await rotate(api, station_id)
            received = side.received[before:]
    finally:
        service._local = real_local  # type: ignore[method-assign]
        service._nodes.node_of = real_node_of  # type: ignore[method-assign]
    assert reply.status_code == 409, reply.text
    assert received == []
    auth = await StationStore(csms.pool).get_auth(station_id)
    assert auth is not None and auth.pending_password_hash is None
