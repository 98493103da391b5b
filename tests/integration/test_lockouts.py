"""Safety lockouts end to end with real 1.6 and 2.0.1 stations: the station is made inoperative,
starts are refused, it shows as locked, the lift brings it back; offline stations are told when
they boot; everything is in the history, the command log and the refusal log."""

from __future__ import annotations

import asyncio
import itertools
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from csms.bootstrap import Running
from csms.clock import isoformat, utcnow
from tests.conftest import Api
from tests.ocpp_client import OcppClient
from tests.station_responder import DuplexStation, duplex_station

VERSIONS = pytest.mark.parametrize("version", ["1.6", "2.0.1"])
HAZARD = "charging cable insulation burnt at connector 1"
RECTIFICATION = "cable and connector replaced, insulation tested 500 V"
_ids = itertools.count(1)


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


class Station(DuplexStation):
    """A station answering every CSMS CALL in the background, recording what it was sent."""

    model = "L"

    def __init__(self, client: OcppClient, version: str) -> None:
        super().__init__(client, version)
        self._seq = itertools.count()

    async def start(self, token: str, connector: int) -> tuple[int | str, str]:
        """Start a session now; (its transaction id, the token's status in the answer)."""
        now = isoformat(utcnow())
        if self.v16:
            answer = await self.call(
                "StartTransaction",
                {"connectorId": connector, "idTag": token, "meterStart": 0, "timestamp": now},
            )
            return answer["transactionId"], answer["idTagInfo"]["status"]
        tx = f"LK-{next(_ids)}"
        answer = await self.call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": now,
                "triggerReason": "Authorized",
                "seqNo": next(self._seq),
                "transactionInfo": {"transactionId": tx, "chargingState": "Charging"},
                "evse": {"id": connector, "connectorId": 1},
                "idToken": {"idToken": token, "type": "ISO14443"},
            },
        )
        return tx, answer["idTokenInfo"]["status"]

    async def stop(self, tx: int | str) -> None:
        now = isoformat(utcnow())
        if self.v16:
            await self.call(
                "StopTransaction", {"transactionId": tx, "meterStop": 10, "timestamp": now}
            )
            return
        await self.call(
            "TransactionEvent",
            {
                "eventType": "Ended",
                "timestamp": now,
                "triggerReason": "StopAuthorized",
                "seqNo": next(self._seq),
                "transactionInfo": {"transactionId": tx, "stoppedReason": "Local"},
            },
        )

    def availability(self) -> list[str]:
        """The ChangeAvailability statuses received, in order (whole station each time)."""
        found = []
        for payload in self.sent("ChangeAvailability"):
            if self.v16:
                assert payload["connectorId"] == 0, payload
                found.append(payload["type"])
            else:
                assert "evse" not in payload, payload
                found.append(payload["operationalStatus"])
        return found


def station(csms: Running, station_id: str, version: str) -> AbstractAsyncContextManager[Station]:
    return duplex_station(csms.ocpp_port, station_id, version, Station)


async def _disconnected(api: Api, station_id: str) -> None:
    async with asyncio.timeout(10):
        while ok(await api.get(f"/api/v1/stations/{station_id}"))["connected"]:
            await asyncio.sleep(0.05)


@VERSIONS
async def test_lockout_refuses_starts_until_the_lift(api: Api, csms: Running, version: str) -> None:
    sid = f"LOCK-{version}"
    for token in ("EARLY", "LATE"):
        ok(await api.post("/api/v1/tokens", json={"id_token": token}), 201)
    events: list[tuple[str, dict[str, Any]]] = []
    wanted = ("station.locked", "station.unlocked")
    with csms.bus.subscribe(lambda e: e.type in wanted and e.station_id == sid) as feed:
        async with station(csms, sid, version) as cp:
            # The boot's own lockout check (BOOT_SETTLE later) first: were the lock made before
            # it, the check would rightly send Inoperative a second time.
            async with asyncio.timeout(10):
                while csms.lockouts.boot_checks < 1:
                    await asyncio.sleep(0.05)
            early_tx, status = await cp.start("EARLY", 1)  # a session running before the lock
            assert status == "Accepted"

            locked = ok(
                await api.post(f"/api/v1/stations/{sid}/lockout", json={"hazard": HAZARD}), 201
            )
            assert locked["hazard"] == HAZARD and locked["open"] is True
            assert locked["locked_by"].startswith("key:") and locked["lifted_at"] is None
            assert locked["availability"] == {
                "sent": True,
                "status": "Accepted",
                "detail": "answered; asked 1 running session(s) to stop",
            }
            assert cp.availability() == ["Inoperative"]
            # out of use immediately: the session running before the lock is asked to stop
            stop = "RemoteStopTransaction" if version == "1.6" else "RequestStopTransaction"
            assert stop in dict(cp.received), cp.received
            again = await api.post(f"/api/v1/stations/{sid}/lockout", json={"hazard": "other"})
            assert again.status_code == 409 and again.json()["error"] == "conflict"

            shown = ok(await api.get(f"/api/v1/stations/{sid}"))
            assert shown["locked"] is True
            assert shown["lockout"]["hazard"] == HAZARD
            assert shown["lockout"]["id"] == locked["id"]
            listed = ok(await api.get("/api/v1/stations"))
            assert [(s["id"], s["locked"]) for s in listed] == [(sid, True)]

            # starts are refused; the running session may still be stopped
            assert await cp.authorize("LATE") == "Blocked"
            blocked_tx, status = await cp.start("LATE", 2)
            assert status == "Blocked"
            r = await api.post(
                f"/api/v1/stations/{sid}/commands/remote-start", json={"id_token": "LATE"}
            )
            assert r.status_code == 409, r.text
            assert r.json()["detail"] == f"station locked out: {HAZARD}"
            assert "RemoteStartTransaction" not in dict(cp.received)
            assert "RequestStartTransaction" not in dict(cp.received)
            # presenting the running session's token (to stop it) is not refused by the lockout
            assert await cp.authorize("EARLY") != "Blocked"
            await cp.stop(early_tx)
            await cp.stop(blocked_tx)

            refusals = ok(await api.get("/api/v1/access-decisions", params={"station_id": sid}))
            contexts = sorted(d["context"] for d in refusals)
            start = "StartTransaction" if version == "1.6" else "TransactionEvent"
            assert contexts == sorted(["Authorize", start, "remote-start"])
            assert all(d["reason"] == f"station locked out: {HAZARD}" for d in refusals)
            assert all(d["allowed"] is False for d in refusals)

            lifted = ok(
                await api.post(
                    f"/api/v1/stations/{sid}/lockout/lift", json={"rectification": RECTIFICATION}
                )
            )
            assert lifted["id"] == locked["id"] and lifted["open"] is False
            assert lifted["rectification"] == RECTIFICATION and lifted["lifted_by"]
            assert lifted["availability"]["status"] == "Accepted"
            assert cp.availability() == ["Inoperative", "Operative"]
            r = await api.post(
                f"/api/v1/stations/{sid}/lockout/lift", json={"rectification": "again"}
            )
            assert r.status_code == 409

            assert ok(await api.get(f"/api/v1/stations/{sid}"))["locked"] is False
            assert ok(await api.get(f"/api/v1/stations/{sid}"))["lockout"] is None
            assert await cp.authorize("LATE") == "Accepted"
            late_tx, status = await cp.start("LATE", 2)
            assert status == "Accepted"
            await cp.stop(late_tx)
            remote = await api.post(
                f"/api/v1/stations/{sid}/commands/remote-start",
                json={"id_token": "LATE", "evse_id": 1},
            )
            assert remote.status_code == 200, remote.text

        for _ in range(2):
            event = await feed.next(timeout=5)
            assert event is not None
            events.append((event.type, event.data))
    assert events[0] == (
        "station.locked",
        {"lockout_id": locked["id"], "hazard": HAZARD, "by": locked["locked_by"]},
    )
    assert events[1][0] == "station.unlocked"
    assert events[1][1]["rectification"] == RECTIFICATION

    history = ok(await api.get(f"/api/v1/stations/{sid}/lockouts"))
    assert len(history) == 1
    (entry,) = history
    assert (entry["hazard"], entry["rectification"]) == (HAZARD, RECTIFICATION)
    assert entry["locked_by"] == entry["lifted_by"] == locked["locked_by"]
    assert entry["locked_at"] <= entry["lifted_at"]
    assert ok(await api.get("/api/v1/lockouts", params={"open": "true"})) == []
    assert [x["id"] for x in ok(await api.get("/api/v1/lockouts", params={"open": "false"}))] == [
        locked["id"]
    ]
    commands = ok(await api.get("/api/v1/commands", params={"station_id": sid}))
    sent = [c for c in commands if c["command"] == "change-availability"]
    assert [c["status"] for c in sent] == ["answered", "answered"]
    assert {c["requested_by"] for c in sent} == {locked["locked_by"]}


@VERSIONS
async def test_offline_station_gets_its_lockout_and_its_lift_when_it_boots(
    api: Api, csms: Running, version: str
) -> None:
    sid = f"SLEEPY-{version}"
    ok(await api.post("/api/v1/stations", json={"id": sid}), 201)
    locked = ok(await api.post(f"/api/v1/stations/{sid}/lockout", json={"hazard": HAZARD}), 201)
    assert locked["availability"]["sent"] is False
    assert "offline" in locked["availability"]["detail"]
    assert ok(await api.get(f"/api/v1/stations/{sid}"))["locked"] is True

    async with station(csms, sid, version) as cp:
        await cp.wait_for("ChangeAvailability")
        assert cp.availability() == ["Inoperative"]
        assert await cp.authorize("ANY") in ("Invalid", "Blocked")
    await _disconnected(api, sid)

    lifted = ok(
        await api.post(
            f"/api/v1/stations/{sid}/lockout/lift", json={"rectification": RECTIFICATION}
        )
    )
    assert lifted["availability"]["sent"] is False
    async with station(csms, sid, version) as cp:
        await cp.wait_for("ChangeAvailability")
        assert cp.availability() == ["Operative"]
    await _disconnected(api, sid)

    async with station(csms, sid, version) as cp:  # told once: nothing more to say
        await asyncio.sleep(1.5)
        assert cp.availability() == []
    commands = ok(await api.get("/api/v1/commands", params={"station_id": sid}))
    by_system = [c for c in commands if c["requested_by"] == "lockout"]
    assert [c["status"] for c in by_system] == ["answered", "answered"]


async def test_lockout_requests_are_checked(api: Api, csms: Running) -> None:
    ok(await api.post("/api/v1/stations", json={"id": "CHK-1"}), 201)
    r = await api.post("/api/v1/stations/NOPE/lockout", json={"hazard": HAZARD})
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert (await api.get("/api/v1/stations/NOPE/lockouts")).status_code == 404
    r = await api.post("/api/v1/stations/NOPE/lockout/lift", json={"rectification": "x"})
    assert r.status_code == 404
    r = await api.post("/api/v1/stations/CHK-1/lockout/lift", json={"rectification": "x"})
    assert r.status_code == 409 and "not locked out" in r.json()["detail"]
    for body in ({}, {"hazard": ""}, {"hazard": "   "}, {"hazard": "x" * 2001}, {"hazard": 5}):
        r = await api.post("/api/v1/stations/CHK-1/lockout", json=body)
        assert r.status_code == 422, (body, r.text)
    r = await api.post("/api/v1/stations/CHK-1/lockout", role="viewer", json={"hazard": HAZARD})
    assert r.status_code == 403
    assert ok(await api.get("/api/v1/lockouts")) == []
    assert ok(await api.get("/api/v1/stations/CHK-1"))["locked"] is False
    ok(await api.post("/api/v1/stations/CHK-1/lockout", json={"hazard": " smoke "}), 201)
    (open_one,) = ok(await api.get("/api/v1/lockouts", params={"open": "true"}))
    assert open_one["hazard"] == "smoke" and open_one["station_id"] == "CHK-1"
    live = ok(await api.get("/api/v1/monitoring/live"))
    assert live["stations"]["locked"] == 1
