"""`kill -9` of the CSMS in the middle of a small mixed fleet: nothing acknowledged is lost.

Eight stations (four 1.6, four 2.0.1) each run three sessions as fast as a real charger's
queue drains. The server process is killed mid-run; the stations keep what was not answered
and send it again (2.0.1 flags it offline) to a new process on the same database, then finish.
Checked in SQL against each station's own ledger: every session once, closed, with the exact
meter start/stop, and every sample exactly once and linked to its session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from tests.ocpp_client import OcppClient, open_client
from tests.processes import csms_process

SESSIONS = 3
SAMPLES = 12
PACE = 0.02  # seconds between messages: the kill lands mid-run
BOOT16 = {"chargePointVendor": "Acme", "chargePointModel": "AC7"}
BOOT201 = {"reason": "PowerUp", "chargingStation": {"model": "DC120", "vendorName": "Acme"}}


def stamp(session: int, step: int) -> str:
    """Fixed station clock (no wall clock): session s, step k -> a distinct minute."""
    minute = session * 100 + step
    return f"2026-05-0{1 + minute // 1440}T{minute % 1440 // 60:02d}:{minute % 60:02d}:00Z"


def register(session: int, step: int) -> int:
    return 100_000 + session * 10_000 + step * 100


@dataclass
class Station:
    """A station's own ledger: what it sent and what the CSMS acknowledged."""

    id: str
    version: str
    port: int
    acked: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tx_ids: dict[int, int] = field(default_factory=dict)  # 1.6: session -> id the CSMS gave
    retried: int = 0

    def steps(self) -> list[tuple[int, int]]:
        return [(s, k) for s in range(SESSIONS) for k in range(SAMPLES + 2)]

    def message(self, session: int, step: int, offline: bool) -> tuple[str, dict[str, Any]]:
        at, wh = stamp(session, step), register(session, step)
        if self.version == "1.6":
            if step == 0:
                start = {"connectorId": 1, "idTag": "CARD-C", "meterStart": wh, "timestamp": at}
                return "StartTransaction", start
            tx = self.tx_ids[session]
            if step == SAMPLES + 1:
                return "StopTransaction", {"transactionId": tx, "meterStop": wh, "timestamp": at}
            values = {"timestamp": at, "sampledValue": [{"value": str(wh)}]}
            return "MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [values]}
        kind = "Started" if step == 0 else "Ended" if step == SAMPLES + 1 else "Updated"
        event: dict[str, Any] = {
            "eventType": kind,
            "timestamp": at,
            "triggerReason": "MeterValuePeriodic",
            "seqNo": step,
            "transactionInfo": {"transactionId": f"{self.id}-S{session}"},
            "meterValue": [{"timestamp": at, "sampledValue": [{"value": wh}]}],
        }
        if kind == "Started":
            event["evse"] = {"id": 1, "connectorId": 1}
        if offline:
            event["offline"] = True
        return "TransactionEvent", event

    async def connect(self, deadline: float) -> OcppClient:
        loop = asyncio.get_running_loop()
        while True:
            try:
                protocol = "ocpp1.6" if self.version == "1.6" else "ocpp2.0.1"
                client = await open_client(self.port, self.id, [protocol])
                boot = BOOT16 if self.version == "1.6" else BOOT201
                await client.call("BootNotification", boot)
                return client
            except Exception:  # refused or reset while the CSMS restarts: try again
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def run(self, deadline: float) -> None:
        """Send every step once acknowledged; an unanswered one is sent again after a reconnect."""
        client = await self.connect(deadline)
        pending = self.steps()
        offline = False
        while pending:
            session, step = pending[0]
            action, payload = self.message(session, step, offline)
            try:
                reply = await client.call(action, payload)
            except Exception:  # the CSMS died: reconnect and send it again
                self.retried += 1
                offline = True
                with contextlib.suppress(Exception):
                    await client.close()
                client = await self.connect(deadline)
                if self.acked:  # and the last answered one too, as if its answer was lost
                    last_action, last = self.acked[-1]
                    if last_action == "TransactionEvent":
                        last = {**last, "offline": True}
                    again = await client.call(last_action, last)
                    if last_action == "StartTransaction":
                        assert again["transactionId"] == self.tx_ids[session]
                continue
            if action == "StartTransaction":
                self.tx_ids[session] = reply["transactionId"]
            self.acked.append((action, payload))
            pending.pop(0)
            await asyncio.sleep(PACE)
        await client.close()


async def test_kill_9_mid_fleet_loses_nothing(database_url: str) -> None:
    stations: list[Station] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    async with csms_process(database_url, "crash-1", "--unknown-tokens", "accept") as first:
        stations = [
            Station(f"CRASH-{v.replace('.', '')}-{i}", v, first.ocpp_port)
            for v in ("1.6", "2.0.1")
            for i in range(4)
        ]
        runs = [asyncio.create_task(s.run(deadline)) for s in stations]
        async with asyncio.timeout(20):  # every station is mid-run, with answers behind it
            while not all(len(s.acked) >= 3 for s in stations):
                await asyncio.sleep(0.01)
        first.kill()  # SIGKILL: no shutdown, batches cut mid-commit
        await first.proc.wait()
    assert not all(r.done() for r in runs), "the fleet finished before the kill"
    async with csms_process(database_url, "crash-1", "--unknown-tokens", "accept") as second:
        for s in stations:
            s.port = second.ocpp_port
        async with asyncio.timeout(60):
            await asyncio.gather(*runs)
    assert sum(s.retried for s in stations) > 0, "no message was cut by the kill"

    conn = await asyncpg.connect(database_url)
    try:
        for s in stations:
            await check_station(conn, s)
    finally:
        await conn.close()


async def check_station(conn: Any, s: Station) -> None:
    txs = await conn.fetch(
        """SELECT id, station_tx_id, status, orphan, meter_start_wh, meter_stop_wh
           FROM transactions WHERE station_id = $1 ORDER BY started_at""",
        s.id,
    )
    assert len(txs) == SESSIONS, (s.id, [dict(t) for t in txs])
    for session, tx in enumerate(txs):
        assert tx["status"] == "closed" and not tx["orphan"], (s.id, dict(tx))
        assert tx["meter_start_wh"] == register(session, 0), (s.id, dict(tx))
        assert tx["meter_stop_wh"] == register(session, SAMPLES + 1), (s.id, dict(tx))
        if s.version == "1.6":
            assert tx["id"] == s.tx_ids[session]
        else:
            assert tx["station_tx_id"] == f"{s.id}-S{session}"
            events = await conn.fetchval(
                "SELECT count(*) FROM transaction_events WHERE transaction_id = $1", tx["id"]
            )
            assert events == SAMPLES + 2, (s.id, session, events)
    # every acknowledged sample exactly once, linked to its session
    sent = sorted(
        (mv["timestamp"], float(sv["value"]))
        for action, p in s.acked
        if action in ("MeterValues", "TransactionEvent")
        for mv in p["meterValue"]
        for sv in mv["sampledValue"]
    )
    rows = await conn.fetch(
        """SELECT to_char(sampled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at,
                  value, transaction_id FROM meter_samples WHERE station_id = $1""",
        s.id,
    )
    assert sorted((r["at"], float(r["value"])) for r in rows) == sent, s.id
    assert all(r["transaction_id"] is not None for r in rows), s.id
    conflicts = await conn.fetchval(
        "SELECT count(*) FROM meter_sample_conflicts WHERE station_id = $1", s.id
    )
    assert conflicts == 0
    assert json.dumps(sent)  # the ledger itself is plain data
