"""The hot path's plain INSERT (ledger_sql.INSERT_NEW_SAMPLES): new samples are stored by it,
and a batch holding a replay is applied again by the statements that judge replays, with the
same outcome as before the fast path existed."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from csms.bootstrap import Running
from csms.store import ledger, ledger_sql
from tests.integration.test_ledger import at, booted16, booted201, ev


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

    # the same moment with another value: a conflict, kept beside the stored sample
    assert await cp.call("MeterValues", values(1, 1100)) == {}
    conflicts = await csms.pool.fetch("SELECT value, stored_value FROM meter_sample_conflicts")
    assert [(int(c["value"]), int(c["stored_value"])) for c in conflicts] == [(1100, 1000)]

    # the batches right after a replay skip the plain INSERT; then it is tried again
    for minute in range(2, 2 + ledger._REPLAY_BATCHES - 1):
        assert await cp.call("MeterValues", values(minute, 1000 + minute)) == {}
    assert writer.new_batches == new0 + 1
    assert await cp.call("MeterValues", values(99, 5000)) == {}
    assert writer.new_batches == new0 + 2
    stored = await csms.pool.fetchval("SELECT count(*) FROM meter_samples")
    assert stored == 2 * (1 + ledger._REPLAY_BATCHES - 1 + 1)
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
