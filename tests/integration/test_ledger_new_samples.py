"""The hot path's plain INSERT (ledger_sql.INSERT_NEW_SAMPLES): new samples are stored by it,
and a batch holding a replay is applied again by the statements that judge replays, with the
same outcome as before the fast path existed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from csms.bootstrap import Running
from csms.domain.meter import Sample
from csms.errors import StoreError
from csms.store import database, ledger, ledger_sql
from csms.store.ledger import SampleWrite, batch_json, sample_rows
from tests.conftest import PgCluster
from tests.integration.test_ledger import at, booted16, booted201, ev
from tests.integration.test_sample_references import T0, WHERE, _station, _transaction


def values(minute: int, wh: int, *, transaction_id: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": at(minute),
                "sampledValue": [
                    {"value": str(wh), "unit": "Wh"},
                    {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                ],
            }
        ],
    }
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return payload


async def test_v16_replay_is_applied_again_and_later_batches_wait_before_the_fast_path(
    csms: Running,
) -> None:
    writer = csms.writer
    cp = await booted16(csms, "CP-FAST")
    new0, retries0 = writer.new_batches, writer.replay_retries

    assert await cp.call("MeterValues", values(1, 1000)) == {}
    assert (writer.new_batches, writer.replay_retries) == (new0 + 1, retries0)

    assert await cp.call("MeterValues", values(1, 1000)) == {}  # a replay: answered, nothing new
    assert writer.replay_retries == retries0 + 1
    assert await csms.pool.fetchval("SELECT count(*) FROM meter_samples") == 2
    assert await csms.pool.fetchval("SELECT count(*) FROM meter_sample_conflicts") == 0

    # the same moment with another value, tried as new again: refused, then kept as a conflict
    writer._replay_batches = 0
    conflicts0 = writer.conflicts
    assert await cp.call("MeterValues", values(1, 1100)) == {}
    assert (writer.replay_retries, writer.conflicts) == (retries0 + 2, conflicts0 + 1)
    conflicts = await csms.pool.fetch("SELECT value, stored_value FROM meter_sample_conflicts")
    assert [(int(c["value"]), int(c["stored_value"])) for c in conflicts] == [(1100, 1000)]

    # the batches right after a replay skip the plain INSERT; then it is tried again
    for minute in range(2, 2 + ledger._REPLAY_BATCHES):
        assert await cp.call("MeterValues", values(minute, 1000 + minute)) == {}
    assert writer.new_batches == new0 + 1
    assert await cp.call("MeterValues", values(99, 5000)) == {}
    assert writer.new_batches == new0 + 2
    stored = await csms.pool.fetchval("SELECT count(*) FROM meter_samples")
    assert stored == 2 * (1 + ledger._REPLAY_BATCHES + 1)
    await cp.close()


async def test_a_replay_does_not_cost_its_neighbours_their_samples(csms: Running) -> None:
    first, second = await booted16(csms, "CP-R1"), await booted16(csms, "CP-R2")
    assert await first.call("MeterValues", values(1, 1000)) == {}
    for round_ in range(3):  # most likely one batch each time; kept whichever way they fall
        answers = await asyncio.gather(
            first.call("MeterValues", values(1, 1000)),  # replayed every time
            second.call("MeterValues", values(10 + round_, 2000 + round_)),
        )
        assert answers == [{}, {}]
    rows = await csms.pool.fetch(
        "SELECT station_id, count(*) AS n FROM meter_samples GROUP BY station_id ORDER BY 1"
    )
    assert [(r["station_id"], r["n"]) for r in rows] == [("CP-R1", 2), ("CP-R2", 6)]
    assert await csms.pool.fetchval("SELECT count(*) FROM meter_sample_conflicts") == 0
    await first.close()
    await second.close()


async def test_v201_replayed_update_on_the_hot_path(csms: Running) -> None:
    writer = csms.writer
    cs = await booted201(csms, "CS-FAST")
    await cs.call("TransactionEvent", ev("Started", 0, 0, 1000, tx="TX-F"))
    new0 = writer.new_batches
    update = ev("Updated", 1, 10, 3000, state="Charging", tx="TX-F")
    await cs.call("TransactionEvent", update)
    assert writer.new_batches == new0 + 1  # a known open transaction: the hot path, as new
    retries0 = writer.replay_retries
    await cs.call("TransactionEvent", update)  # the same event again
    assert writer.replay_retries == retries0 + 1
    tx = await csms.pool.fetchrow(
        "SELECT id, seq_anomalies, last_register_wh, charging_state FROM transactions"
        " WHERE station_tx_id = 'TX-F'"
    )
    assert (tx["seq_anomalies"], tx["last_register_wh"], tx["charging_state"]) == (
        [],
        3000,
        "Charging",
    )
    events = await csms.pool.fetchval(
        "SELECT count(*) FROM transaction_events WHERE transaction_id = $1", tx["id"]
    )
    samples = await csms.pool.fetchval(
        "SELECT count(*) FROM meter_samples WHERE transaction_id = $1", tx["id"]
    )
    assert (events, samples) == (2, 2)
    await cs.close()


async def test_events_without_samples_leave_the_replay_hold_alone(csms: Running) -> None:
    writer = csms.writer
    cs = await booted201(csms, "CS-HOLD")
    await cs.call("TransactionEvent", ev("Started", 0, 0, 1000, tx="TX-H"))
    await cs.call("TransactionEvent", ev("Updated", 1, 1, 1100, state="Charging", tx="TX-H"))
    writer._replay_batches = 3  # as a refused batch leaves it
    new0 = writer.new_batches
    for seq in range(2, 6):  # no samples: nothing to replay, the hold stays for the next ones
        await cs.call("TransactionEvent", ev("Updated", seq, seq, state="Charging", tx="TX-H"))
    assert (writer._replay_batches, writer.new_batches) == (3, new0)
    await cs.call("TransactionEvent", ev("Updated", 6, 6, 1600, state="Charging", tx="TX-H"))
    assert (writer._replay_batches, writer.new_batches) == (2, new0)  # a batch with samples
    events = await csms.pool.fetchval(
        "SELECT count(*) FROM transaction_events e JOIN transactions t"
        " ON t.id = e.transaction_id WHERE t.station_tx_id = 'TX-H'"
    )
    assert events == 7
    await cs.close()


@pytest.mark.parametrize("statement", ["INSERT_NEW_SAMPLES", "MOVE_DISTINCT_SAMPLES"])
async def test_a_stored_key_refuses_only_the_plain_insert(csms: Running, statement: str) -> None:
    """The fallback hangs on the name of the index that refuses a stored key."""
    await csms.pool.execute("INSERT INTO stations (id) VALUES ('CP-KEY')")
    row = ["CP-KEY", 1, 1, None, at(1), at(2), "Voltage", "", "", "", "V", "230", "230", None]
    text = ledger.batch_json([tuple(row)])
    sql = getattr(ledger_sql, statement)
    assert (await csms.pool.fetchrow(sql, text))["inserted"] == 1
    if statement == "INSERT_NEW_SAMPLES":
        with pytest.raises(asyncpg.UniqueViolationError) as refused:
            await csms.pool.fetchrow(sql, text)
        assert refused.value.constraint_name == ledger_sql.REPLAY_INDEX
    else:
        assert (await csms.pool.fetchrow(sql, text))["inserted"] == 0


async def test_one_key_twice_in_a_batch_is_judged_by_the_replay_statements(
    csms: Running,
) -> None:
    """The plain INSERT does not look for repeated keys first: the index refuses them."""
    writer = csms.writer
    cp = await booted16(csms, "CP-TWICE")
    retries0 = writer.replay_retries
    twice = values(1, 1000)
    twice["meterValue"][0]["sampledValue"].append({"value": "1000", "unit": "Wh"})
    assert await cp.call("MeterValues", twice) == {}
    assert writer.replay_retries == retries0 + 1
    assert await csms.pool.fetchval("SELECT count(*) FROM meter_samples") == 2
    assert await csms.pool.fetchval("SELECT count(*) FROM meter_sample_conflicts") == 0
    await cp.close()


async def test_a_sample_is_keyed_by_its_replay_key_alone(csms: Running) -> None:
    """Every index on meter_samples is paid by every stored sample (migration 0020)."""
    indexes = await csms.pool.fetch(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'meter_samples' ORDER BY 1"
    )
    assert [i["indexname"] for i in indexes] == [
        "meter_samples_late",
        "meter_samples_replay",
        "meter_samples_transaction",
    ]
    primary = await csms.pool.fetchval(
        "SELECT conname FROM pg_constraint"
        " WHERE conrelid = 'meter_samples'::regclass AND contype = 'p'"
    )
    assert primary == ledger_sql.REPLAY_INDEX


# -- from an independent review: each runs the fallback where it changes the outcome ----------


def _wh(wh: int, minute: int = 0) -> list[Sample]:
    return [Sample(T0 + timedelta(minutes=minute), "Energy.Active.Import.Register", Decimal(wh))]


async def test_a_conflict_found_by_the_fallback_is_kept_beside_a_new_sample(
    csms: Running,
) -> None:
    writer = csms.writer
    await _station(csms, "CF")
    await writer.submit(SampleWrite("CF", WHERE, None, _wh(1000), T0))
    writer._replay_batches = 0
    conflicts0, retries0 = writer.conflicts, writer.replay_retries
    # one write, so one batch: a value clashing with the stored one, and a new sample
    await writer.submit(SampleWrite("CF", WHERE, None, _wh(1001) + _wh(2000, 5), T0))
    assert (writer.conflicts, writer.replay_retries) == (conflicts0 + 1, retries0 + 1)
    stored = await csms.pool.fetchval("SELECT count(*) FROM meter_samples WHERE station_id='CF'")
    assert stored == 2
    kept = await csms.pool.fetch("SELECT value, stored_value FROM meter_sample_conflicts")
    assert [(r["value"], r["stored_value"]) for r in kept] == [(Decimal(1001), Decimal(1000))]


async def test_v201_update_attaches_an_unlinked_sample_through_the_fallback(
    csms: Running,
) -> None:
    writer = csms.writer
    cs = await booted201(csms, "CS-ATT")
    await cs.call("TransactionEvent", ev("Started", 0, 0, 1000, tx="TX-A"))
    reading = {"value": 3000, "measurand": "Energy.Active.Import.Register"}
    unlinked = {"evseId": 1, "meterValue": [{"timestamp": at(10), "sampledValue": [reading]}]}
    assert await cs.call("MeterValues", unlinked) == {}  # stored without a transaction
    writer._replay_batches = 0
    retries0 = writer.replay_retries
    await cs.call("TransactionEvent", ev("Updated", 1, 10, 3000, state="Charging", tx="TX-A"))
    assert writer.replay_retries == retries0 + 1  # the same sample: refused, then attached
    linked = await csms.pool.fetch(
        "SELECT t.station_tx_id FROM meter_samples m"
        " LEFT JOIN transactions t ON t.id = m.transaction_id"
        " WHERE m.station_id = 'CS-ATT' AND m.sampled_at = $1",
        T0 + timedelta(minutes=10),
    )
    assert [r["station_tx_id"] for r in linked] == ["TX-A"]
    tx = await csms.pool.fetchrow(
        "SELECT last_register_wh, charging_state FROM transactions WHERE station_tx_id = 'TX-A'"
    )
    assert tuple(tx) == (3000, "Charging")
    await cs.close()


async def test_concurrent_batches_with_replays_and_a_bad_message(csms: Running) -> None:
    """Batches in flight at once, some writes replays, one naming a missing transaction: that
    one fails alone."""
    writer = csms.writer
    stations = [f"CC{i}" for i in range(8)]
    for s in stations:
        await _station(csms, s)
    for s in stations[:4]:
        await writer.submit(SampleWrite(s, WHERE, None, _wh(1000), T0))
    for round_ in range(3):
        writer._replay_batches = 0
        jobs = []
        for i, s in enumerate(stations):
            if i < 4:
                jobs.append(writer.submit(SampleWrite(s, WHERE, None, _wh(1000), T0)))
            new = _wh(5000 + round_, 10 + round_)
            jobs.append(writer.submit(SampleWrite(s, WHERE, None, new, T0)))
        missing = SampleWrite(stations[0], WHERE, 999_999, _wh(7, 50 + round_), T0)
        jobs.append(writer.submit(missing))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        assert len(failed) == 1 and isinstance(failed[0], StoreError), results
    counts = dict(
        await csms.pool.fetch("SELECT station_id, count(*) FROM meter_samples GROUP BY 1")
    )
    assert counts == {s: (4 if i < 4 else 3) for i, s in enumerate(stations)}
    assert await csms.pool.fetchval("SELECT count(*) FROM meter_sample_conflicts") == 0


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_another_node_inserting_the_same_key_meanwhile(csms: Running, outcome: str) -> None:
    """Another node's uncommitted insert of the same key: the plain INSERT waits for it, then is
    refused and attaches the sample (commit) or stores it as new (rollback)."""
    writer = csms.writer
    await _station(csms, "MN")
    tx = await _transaction(csms, "MN")
    other = await asyncpg.connect(csms.database_url)
    try:
        pending_tx = other.transaction()
        await pending_tx.start()
        rows = sample_rows("MN", WHERE, None, _wh(1000), T0)
        await other.fetchrow(ledger_sql.INSERT_NEW_SAMPLES, batch_json(rows))
        writer._replay_batches = 0
        retries0 = writer.replay_retries
        pending = asyncio.ensure_future(writer.submit(SampleWrite("MN", WHERE, tx, _wh(1000), T0)))
        await asyncio.sleep(0.3)
        assert not pending.done()
        await (pending_tx.commit() if outcome == "commit" else pending_tx.rollback())
        await asyncio.wait_for(pending, 5)
        stored = await csms.pool.fetch(
            "SELECT transaction_id FROM meter_samples WHERE station_id = 'MN'"
        )
        assert [r["transaction_id"] for r in stored] == [tx]
        assert writer.replay_retries == retries0 + (outcome == "commit")
    finally:
        await other.close()


async def test_migration_0020_on_a_database_with_samples(pg_cluster: PgCluster) -> None:
    conn = await pg_cluster.migrated_to(19)
    try:
        await conn.execute("INSERT INTO stations (id) VALUES ('M1')")
        tx = await conn.fetchval(
            "INSERT INTO transactions (station_id, ocpp_version, evse_id, connector_id,"
            " started_at) VALUES ('M1', '1.6', 1, 1, $1) RETURNING id",
            T0,
        )
        rows = sample_rows("M1", WHERE, None, _wh(1000) + _wh(1100, 1), T0)
        rows += sample_rows("M1", WHERE, tx, _wh(1200, 2), T0)
        assert (await conn.fetchrow(ledger_sql.MOVE_SAMPLES, batch_json(rows)))["inserted"] == 3
        twenty = [m for m in database.load_migrations() if m.version <= 20]
        assert await database.migrate(conn, twenty) == ["0020_sample_key"]
        assert await conn.fetchval("SELECT count(*) FROM meter_samples") == 3
        primary = await conn.fetchval(
            "SELECT conname FROM pg_constraint"
            " WHERE conrelid = 'meter_samples'::regclass AND contype = 'p'"
        )
        assert primary == ledger_sql.REPLAY_INDEX
        again = sample_rows("M1", WHERE, tx, _wh(1000), T0)  # attaches the first sample
        moved = await conn.fetchrow(ledger_sql.MOVE_DISTINCT_SAMPLES, batch_json(again))
        assert (moved["inserted"], moved["conflicts"]) == (1, 0)
        with pytest.raises(asyncpg.UniqueViolationError) as refused:
            await conn.fetchrow(ledger_sql.INSERT_NEW_SAMPLES, batch_json(again))
        assert refused.value.constraint_name == ledger_sql.REPLAY_INDEX
        new = sample_rows("M1", WHERE, tx, _wh(1300, 3), T0)
        inserted = await conn.fetchrow(ledger_sql.INSERT_NEW_SAMPLES, batch_json(new))
        assert inserted["inserted"] == 1
    finally:
        await conn.close()
