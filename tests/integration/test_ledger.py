"""The station ledger (docs/ledger.md) over real sockets: each quirk real chargers show, and
what the ledger keeps of it. A replay is the same message; anything else is kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.bootstrap import Running
from tests.conftest import Api
from tests.integration.test_billing_metering import (
    bill_of,
    boot201,
    pending_review,
    set_up,
    tx_event,
    tx_pk,
)
from tests.ocpp_client import OcppClient, open_client

BOOT16 = {"chargePointVendor": "Acme", "chargePointModel": "AC7"}
BOOT201 = {"reason": "PowerUp", "chargingStation": {"model": "DC120", "vendorName": "Acme"}}
TOKEN = {"idToken": "CARD-L", "type": "ISO14443"}


def at(minute: int) -> str:
    """A fixed moment (2026-05-01 02:00Z plus minutes): no test depends on the wall clock."""
    return f"2026-05-01T{2 + minute // 60:02d}:{minute % 60:02d}:00Z"


def ev(
    kind: str,
    seq: int,
    minute: int,
    wh: int | None = None,
    *,
    state: str | None = None,
    tx: str = "TX-L",
    **extra: Any,
) -> dict[str, Any]:
    info: dict[str, Any] = {"transactionId": tx}
    if state:
        info["chargingState"] = state
    if kind == "Ended":
        info["stoppedReason"] = "Local"
    payload: dict[str, Any] = {
        "eventType": kind,
        "timestamp": at(minute),
        "triggerReason": {"Started": "Authorized", "Ended": "StopAuthorized"}.get(
            kind, "MeterValuePeriodic"
        ),
        "seqNo": seq,
        "transactionInfo": info,
        **extra,
    }
    if kind == "Started":
        payload.setdefault("evse", {"id": 1, "connectorId": 1})
        payload.setdefault("idToken", TOKEN)
    if wh is not None:
        payload["meterValue"] = [
            {
                "timestamp": at(minute),
                "sampledValue": [{"value": wh, "measurand": "Energy.Active.Import.Register"}],
            }
        ]
    return payload


@dataclass(frozen=True)
class V201Case:
    name: str
    events: list[dict[str, Any]]
    status: str
    meter: tuple[int | None, int | None]
    anomalies: set[str]
    events_kept: int
    state: str | None = None
    orphan: bool = False
    not_replayed: list[int] = field(default_factory=list)


V201_CASES = [
    V201Case(
        "seqNo 0 on every event (a third-party simulator)",
        [
            ev("Started", 0, 0, 1000),
            ev("Updated", 0, 10, 4000),
            ev("Updated", 0, 20, 7000),
            ev("Ended", 0, 30, 9000),
        ],
        "closed",
        (1000, 9000),
        {"repeated_seq_no"},
        4,
    ),
    V201Case(
        "a repeated seqNo with other content is kept and applied in timestamp order",
        [
            ev("Started", 0, 0, 1000, state="Charging"),
            ev("Updated", 1, 20, 5000, state="Charging"),
            ev("Updated", 1, 10, 3000, state="SuspendedEV"),
        ],
        "open",
        (1000, None),
        {"repeated_seq_no"},
        3,
        state="Charging",
    ),
    V201Case(
        "gaps in the seqNo run are noted when the session ends",
        [ev("Started", 0, 0, 1000), ev("Updated", 2, 10, 2000), ev("Ended", 5, 20, 3000)],
        "closed",
        (1000, 3000),
        {"missing_seq_no"},
        3,
    ),
    V201Case(
        "Ended before Updated (an offline queue's order): the Updated does not reopen it",
        [
            ev("Started", 0, 0, 1000),
            ev("Ended", 2, 30, 6000, state="Idle"),
            ev("Updated", 1, 15, 3500, state="Charging"),
        ],
        "closed",
        (1000, 6000),
        {"out_of_order"},
        3,
        state="Idle",
    ),
    V201Case(
        "Ended first, its Started after it: the start is filled in, the session stays ended",
        [ev("Ended", 2, 30, 6000), ev("Started", 0, 0, 1000), ev("Updated", 1, 15, 3500)],
        "closed",
        (1000, 6000),
        {"out_of_order"},
        3,
    ),
    V201Case(
        "an Updated stamped after the Ended is kept; the meter stop stays at the end",
        [ev("Started", 0, 0, 1000), ev("Ended", 1, 30, 6000), ev("Updated", 2, 40, 6500)],
        "closed",
        (1000, 6000),
        set(),
        3,
    ),
    V201Case(
        "an identical event is a replay, also when re-sent with offline=true",
        [
            ev("Started", 0, 0, 1000),
            ev("Ended", 1, 30, 6000),
            ev("Ended", 1, 30, 6000),
            {**ev("Ended", 1, 30, 6000), "offline": True},
        ],
        "closed",
        (1000, 6000),
        set(),
        2,
    ),
    V201Case(
        "a second, different Ended is kept; the first one ended the session",
        [ev("Started", 0, 0, 1000), ev("Ended", 1, 30, 6000), ev("Ended", 2, 35, 6100)],
        "closed",
        (1000, 6000),
        {"conflicting_end"},
        3,
    ),
    V201Case(
        "Ended for a transaction never started is an orphan",
        [ev("Ended", 4, 30, 6000, evse={"id": 2, "connectorId": 1})],
        "closed",
        (6000, 6000),
        set(),
        1,
        orphan=True,
    ),
]


async def booted201(csms: Running, station_id: str) -> OcppClient:
    cs = await open_client(csms.ocpp_port, station_id, ["ocpp2.0.1"])
    assert (await cs.call("BootNotification", BOOT201))["status"] == "Accepted"
    return cs


@pytest.mark.parametrize("case", V201_CASES, ids=lambda c: c.name)
async def test_v201_event_quirks(csms: Running, case: V201Case) -> None:
    cs = await booted201(csms, "CS-LEDGER")
    for payload in case.events:
        reply = await cs.call("TransactionEvent", payload)
        assert "totalCost" not in reply or reply["totalCost"] >= 0
    await cs.close()
    tx = await csms.pool.fetchrow("SELECT * FROM transactions WHERE station_tx_id = 'TX-L'")
    assert tx["status"] == case.status
    assert (tx["meter_start_wh"], tx["meter_stop_wh"]) == case.meter
    assert set(tx["seq_anomalies"]) == case.anomalies
    assert tx["orphan"] == case.orphan
    if case.state is not None:
        assert tx["charging_state"] == case.state
    kept = await csms.pool.fetchval(
        "SELECT count(*) FROM transaction_events WHERE transaction_id = $1", tx["id"]
    )
    assert kept == case.events_kept
    # every distinct register value acknowledged is stored, none twice
    registers = {
        (p["meterValue"][0]["timestamp"], p["meterValue"][0]["sampledValue"][0]["value"])
        for p in case.events
        if "meterValue" in p
    }
    stored = await csms.pool.fetchval(
        "SELECT count(*) FROM meter_samples WHERE station_id = 'CS-LEDGER'"
    )
    assert stored == len(registers)


async def test_v201_ended_session_releases_the_token(csms: Running) -> None:
    """seqNo 0 everywhere used to leave the session open and the token held (ConcurrentTx)."""
    await csms.pool.execute("INSERT INTO id_tokens (id_token) VALUES ('CARD-L')")
    cs = await booted201(csms, "CS-TOKEN")
    for payload in (ev("Started", 0, 0, 1000), ev("Ended", 0, 30, 4000)):
        await cs.call("TransactionEvent", payload)
    again = await cs.call("TransactionEvent", ev("Started", 0, 40, 4000, tx="TX-NEXT"))
    assert again["idTokenInfo"]["status"] == "Accepted"
    await cs.close()


async def test_v201_refused_start_is_kept_with_its_refusal(csms: Running) -> None:
    cs = await booted201(csms, "CS-REFUSED")
    started = await cs.call("TransactionEvent", ev("Started", 0, 0, 1000))
    assert started["idTokenInfo"]["status"] == "Invalid"  # unknown tokens are refused
    await cs.call("TransactionEvent", ev("Ended", 1, 1, 1000))
    await cs.close()
    tx = await csms.pool.fetchrow("SELECT * FROM transactions WHERE station_tx_id = 'TX-L'")
    assert tx["refused"] and tx["auth_status"] == "Invalid" and tx["status"] == "closed"
    assert await csms.pool.fetchval("SELECT count(*) FROM cdrs") == 0


# -- 1.6 -------------------------------------------------------------------------------------


async def booted16(csms: Running, station_id: str) -> OcppClient:
    cp = await open_client(csms.ocpp_port, station_id)
    assert (await cp.call("BootNotification", BOOT16))["status"] == "Accepted"
    return cp


START = {"connectorId": 1, "idTag": "CARD-L", "meterStart": 1000, "timestamp": at(0)}


async def test_v16_start_after_a_clock_reset_is_a_new_session(csms: Running) -> None:
    cp = await booted16(csms, "CP-RESET")
    first = (await cp.call("StartTransaction", START))["transactionId"]
    await cp.call(
        "StopTransaction", {"transactionId": first, "meterStop": 5000, "timestamp": at(30)}
    )
    # the clock reset: the very same start key, but the first session's stop was received
    second = (await cp.call("StartTransaction", START))["transactionId"]
    assert second != first
    await cp.call(
        "StopTransaction", {"transactionId": second, "meterStop": 9500, "timestamp": at(45)}
    )
    await cp.close()
    rows = await csms.pool.fetch(
        "SELECT id, status, meter_stop_wh FROM transactions WHERE NOT orphan ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [(first, "closed", 5000), (second, "closed", 9500)]


async def test_v16_placeholder_stops_are_each_kept(csms: Running) -> None:
    cp = await booted16(csms, "CP-ZERO")
    stops = [
        {"transactionId": 0, "meterStop": 100, "timestamp": at(10)},
        {"transactionId": 0, "meterStop": 200, "timestamp": at(20)},
        {"transactionId": -1, "meterStop": 300, "timestamp": at(30)},
        {"transactionId": 0, "meterStop": 100, "timestamp": at(10)},  # a replay of the first
    ]
    for stop in stops:
        assert await cp.call("StopTransaction", stop) == {}
    await cp.close()
    orphans = await csms.pool.fetch(
        "SELECT station_tx_id, meter_stop_wh FROM transactions WHERE orphan ORDER BY id"
    )
    assert [tuple(o) for o in orphans] == [("0", 100), ("0", 200), ("-1", 300)]


@pytest.mark.parametrize(
    ("stop_tag", "second_open", "linked"),
    [
        ("CARD-L", False, True),  # the same idTag, one start waiting: clearly that one
        (None, False, True),  # no idTag, but a single start waiting on the station
        ("OTHER", False, False),  # another card: not this start
        (None, True, False),  # two starts waiting and nothing to tell them apart
    ],
)
async def test_v16_orphan_stop_is_linked_when_the_evidence_is_clear(
    csms: Running, stop_tag: str | None, second_open: bool, linked: bool
) -> None:
    await csms.pool.execute(
        "INSERT INTO id_tokens (id_token) VALUES ('CARD-L'), ('CARD-M'), ('OTHER')"
    )
    cp = await booted16(csms, "CP-LINK")
    started = (await cp.call("StartTransaction", START))["transactionId"]
    if second_open:
        await cp.call("StartTransaction", {**START, "connectorId": 2, "idTag": "CARD-M"})
    stop: dict[str, Any] = {"transactionId": -1, "meterStop": 3000, "timestamp": at(30)}
    if stop_tag:
        stop["idTag"] = stop_tag
    await cp.call("StopTransaction", stop)
    await cp.call("StopTransaction", stop)  # its replay changes nothing
    await cp.close()
    tx = await csms.pool.fetchrow("SELECT * FROM transactions WHERE id = $1", started)
    orphans = await csms.pool.fetch("SELECT * FROM transactions WHERE orphan")
    assert len(orphans) == 1
    if linked:
        assert tx["status"] == "closed" and tx["meter_stop_wh"] == 3000
        assert tx["linked_to"] == orphans[0]["id"] and orphans[0]["linked_to"] == started
    else:
        assert tx["status"] == "open" and tx["meter_stop_wh"] is None
        assert orphans[0]["linked_to"] is None


async def test_conflicting_samples_are_kept(csms: Running) -> None:
    cp = await booted16(csms, "CP-CLASH")

    def values(*wh: int) -> dict[str, Any]:
        return {
            "connectorId": 1,
            "meterValue": [
                {"timestamp": at(5), "sampledValue": [{"value": str(w)} for w in wh]},
            ],
        }

    await cp.call("MeterValues", values(1000))
    await cp.call("MeterValues", values(1000))  # a replay: nothing new
    await cp.call("MeterValues", values(1200))  # the same moment, another value
    await cp.call("MeterValues", values(1200))  # that conflict again: kept once
    await cp.call("MeterValues", values(1500, 1600))  # one message, the same moment twice
    await cp.close()
    assert await csms.pool.fetchval("SELECT count(*) FROM meter_samples") == 1
    conflicts = await csms.pool.fetch(
        "SELECT value, stored_value FROM meter_sample_conflicts ORDER BY id"
    )
    assert sorted((int(c["value"]), int(c["stored_value"])) for c in conflicts) == [
        (1200, 1000),
        (1500, 1000),
        (1600, 1500),  # against the value it clashed with, in the same message
    ]


async def test_v201_session_completed_late_is_billed_then(csms: Running, api: Api) -> None:
    """Its Ended came first (nothing to bill: no start), its Started and Updated after: it is
    billed when they arrive, and the review it waited in is closed by that bill."""
    await set_up(csms, api, "CS-LATE")
    cs = await boot201(csms, "CS-LATE")
    t0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    ended = tx_event("Ended", 2, t0 + timedelta(minutes=30), "TX-LATE", 5000)
    assert "totalCost" not in await cs.call("TransactionEvent", ended)
    tx = await tx_pk(api, "CS-LATE")
    assert (await pending_review(api, tx))["cause"] == "metering"
    await cs.call("TransactionEvent", tx_event("Started", 0, t0, "TX-LATE", 1000))
    await cs.call(
        "TransactionEvent", tx_event("Updated", 1, t0 + timedelta(minutes=15), "TX-LATE", 3000)
    )
    await cs.close()
    bill = await bill_of(api, tx)
    assert [c["energy_wh"] for c in bill["cdrs"]] == [4000]
    assert bill["review"]["status"] == "billed"


async def test_v201_transaction_id_reused_after_a_reboot_leaves_the_ended_session(
    csms: Running, api: Api
) -> None:
    """A station whose counter restarted sends Started for an id it used before, dated after
    that session's end: the billed session keeps its start, token and decision; the event is
    kept and noted (reused_transaction_id), and its token is still answered."""
    await set_up(csms, api, "CS-REUSE")
    cs = await boot201(csms, "CS-REUSE")
    t0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    await cs.call("TransactionEvent", tx_event("Started", 0, t0, "1", 1000))
    ended = await cs.call(
        "TransactionEvent", tx_event("Ended", 1, t0 + timedelta(minutes=30), "1", 6000)
    )
    tx = await tx_pk(api, "CS-REUSE")
    before = await bill_of(api, tx)
    assert [c["energy_wh"] for c in before["cdrs"]] == [5000] and "totalCost" in ended
    await cs.call("BootNotification", BOOT201)  # rebooted: its counter starts again
    again = tx_event("Started", 0, t0 + timedelta(minutes=60), "1", 6000)
    again["idToken"] = {"idToken": "STRANGER", "type": "ISO14443"}
    answer = await cs.call("TransactionEvent", again)
    assert answer["idTokenInfo"]["status"] in ("Invalid", "Unknown")  # answered, not recorded
    await cs.call("TransactionEvent", tx_event("Ended", 1, t0 + timedelta(minutes=90), "1", 12000))
    row = await csms.pool.fetchrow(
        """SELECT id_token, auth_status, refused, started_at, stopped_at, seq_anomalies,
                  meter_start_wh, meter_stop_wh
           FROM transactions WHERE id = $1""",
        tx,
    )
    assert (row["id_token"], row["auth_status"], row["refused"]) == ("CARD-M", "Accepted", False)
    assert (row["started_at"], row["stopped_at"]) == (t0, t0 + timedelta(minutes=30))
    assert (row["meter_start_wh"], row["meter_stop_wh"]) == (1000, 6000)
    assert "reused_transaction_id" in row["seq_anomalies"]
    events = await csms.pool.fetchval(
        "SELECT count(*) FROM transaction_events WHERE transaction_id = $1", tx
    )
    assert events == 4  # every event kept
    after = await bill_of(api, tx)
    assert after["cdrs"] == before["cdrs"]  # the filed bill stands
    await cs.close()


async def test_v201_late_refused_start_is_not_billed(csms: Running, api: Api) -> None:
    """Its Ended first, then its Started with a card the CSMS refuses: held for review as a
    refused start that delivered energy, never billed."""
    await set_up(csms, api, "CS-LATEREF")
    cs = await boot201(csms, "CS-LATEREF")
    t0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    await cs.call(
        "TransactionEvent", tx_event("Ended", 1, t0 + timedelta(minutes=30), "TX-R", 8000)
    )
    started = tx_event("Started", 0, t0, "TX-R", 1000)
    started["idToken"] = {"idToken": "NOT-A-CARD", "type": "ISO14443"}
    assert (await cs.call("TransactionEvent", started))["idTokenInfo"]["status"] == "Invalid"
    await cs.close()
    tx = await tx_pk(api, "CS-LATEREF")
    bill = await bill_of(api, tx)
    assert bill["cdrs"] == []
    assert (await pending_review(api, tx))["cause"] == "refused"


async def test_v201_start_decision_is_made_again_when_it_was_not_kept(csms: Running) -> None:
    """A Started committed but whose decision was not kept (the node failed in between): its
    replay decides and keeps it."""
    cs = await booted201(csms, "CS-REDECIDE")
    await cs.call("TransactionEvent", ev("Started", 0, 0, 1000))
    await csms.pool.execute("UPDATE transactions SET auth_status = NULL")
    again = await cs.call("TransactionEvent", ev("Started", 0, 0, 1000))
    assert again["idTokenInfo"]["status"] == "Invalid"
    await cs.close()
    tx = await csms.pool.fetchrow("SELECT auth_status, refused FROM transactions")
    assert (tx["auth_status"], tx["refused"]) == ("Invalid", True)


async def test_v201_late_update_of_a_superseded_session_is_answered(csms: Running) -> None:
    """T1's Ended was lost, T2 started on its EVSE (T1 superseded), then T1's queued Updated
    arrives: stored and answered, T1 is not billed as if it had ended."""
    cs = await booted201(csms, "CS-SUPER")
    await cs.call("TransactionEvent", ev("Started", 0, 0, 1000, tx="T1"))
    await cs.call("TransactionEvent", ev("Started", 0, 20, 3000, tx="T2"))
    assert await cs.call("TransactionEvent", ev("Updated", 1, 10, 2000, tx="T1")) == {}
    await cs.close()
    row = await csms.pool.fetchrow(
        "SELECT status, stop_reason, stopped_at FROM transactions WHERE station_tx_id = 'T1'"
    )
    assert tuple(row) == ("closed", "Superseded", None)
    assert await csms.pool.fetchval("SELECT count(*) FROM transaction_events") == 3


async def test_v201_voided_review_is_not_billed_by_late_data(csms: Running, api: Api) -> None:
    await set_up(csms, api, "CS-VOID")
    cs = await boot201(csms, "CS-VOID")
    t0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    await cs.call(
        "TransactionEvent", tx_event("Ended", 1, t0 + timedelta(minutes=30), "TX-V", 5000)
    )
    tx = await tx_pk(api, "CS-VOID")
    voided = await api.post(f"/api/v1/billing/reviews/{tx}/void", json={"note": "test session"})
    assert voided.status_code < 300, voided.text
    await cs.call("TransactionEvent", tx_event("Started", 0, t0, "TX-V", 1000))
    await cs.close()
    bill = await bill_of(api, tx)
    assert bill["cdrs"] == [] and bill["review"]["status"] == "voided"


async def test_v16_orphan_stop_is_not_linked_to_a_superseded_start(csms: Running) -> None:
    """Start A lost its stop, start B superseded it and was stopped and billed; a later stop
    for a never-issued id must not bill A over B's energy."""
    await csms.pool.execute("INSERT INTO id_tokens (id_token) VALUES ('CARD-L')")
    cp = await booted16(csms, "CP-SUPER")
    first = (await cp.call("StartTransaction", START))["transactionId"]
    later = {**START, "meterStart": 5000, "timestamp": at(20)}
    second = (await cp.call("StartTransaction", later))["transactionId"]
    await cp.call(
        "StopTransaction", {"transactionId": second, "meterStop": 8000, "timestamp": at(40)}
    )
    stop = {"transactionId": 0, "meterStop": 9000, "timestamp": at(50), "idTag": "CARD-L"}
    await cp.call("StopTransaction", stop)
    await cp.close()
    a = await csms.pool.fetchrow("SELECT * FROM transactions WHERE id = $1", first)
    assert (a["stop_reason"], a["meter_stop_wh"], a["linked_to"]) == ("Superseded", None, None)
    orphan = await csms.pool.fetchrow("SELECT * FROM transactions WHERE orphan")
    assert orphan["linked_to"] is None


async def test_v16_replayed_linked_stop_keeps_its_samples_once(csms: Running) -> None:
    await csms.pool.execute("INSERT INTO id_tokens (id_token) VALUES ('CARD-L')")
    cp = await booted16(csms, "CP-LINKS")
    started = (await cp.call("StartTransaction", START))["transactionId"]
    end = {"timestamp": at(30), "sampledValue": [{"value": "3000", "context": "Transaction.End"}]}
    stop = {
        "transactionId": -1,
        "meterStop": 3000,
        "timestamp": at(30),
        "idTag": "CARD-L",
        "transactionData": [end],
    }
    await cp.call("StopTransaction", stop)
    await cp.call("StopTransaction", stop)
    await cp.close()
    rows = await csms.pool.fetch("SELECT evse_id, transaction_id FROM meter_samples")
    assert [tuple(r) for r in rows] == [(1, started)]
