"""Meter samples keep exact references to their station and transaction without per-row
foreign keys (migration 0014): a batch naming one that does not exist is refused as a whole,
deleting a station deletes its samples, deleting a transaction unlinks them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from csms.bootstrap import Running
from csms.domain.meter import Sample
from csms.domain.station import ConnectorRef
from csms.errors import StoreError
from csms.store import ledger_sql as sql
from csms.store.ledger import SampleWrite, batch_json, sample_rows
from tests.ocpp_client import open_client

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
WHERE = ConnectorRef(1, 1)


def samples(*wh: int, minute: int = 0) -> list[Sample]:
    return [
        Sample(
            T0 + timedelta(minutes=minute, seconds=k), "Energy.Active.Import.Register", Decimal(w)
        )
        for k, w in enumerate(wh)
    ]


async def _station(csms: Running, station_id: str) -> None:
    cp = await open_client(csms.ocpp_port, station_id)
    boot = {"chargePointVendor": "Acme", "chargePointModel": "AC7"}
    assert (await cp.call("BootNotification", boot))["status"] == "Accepted"
    await cp.close()


async def _transaction(csms: Running, station_id: str) -> int:
    return int(
        await csms.pool.fetchval(
            "INSERT INTO transactions (station_id, ocpp_version, evse_id, connector_id,"
            " started_at) VALUES ($1, '1.6', 1, 1, $2) RETURNING id",
            station_id,
            T0,
        )
    )


async def _count(csms: Running, station_id: str) -> int:
    return int(
        await csms.pool.fetchval(
            "SELECT count(*) FROM meter_samples WHERE station_id = $1", station_id
        )
    )


@pytest.mark.parametrize("repeat_key", [False, True], ids=["distinct keys", "repeated key"])
async def test_a_batch_naming_an_unknown_station_stores_nothing(
    csms: Running, repeat_key: bool
) -> None:
    await _station(csms, "REF-A")
    good = sample_rows("REF-A", WHERE, None, samples(100, 200), T0)
    bad = sample_rows("NO-SUCH-STATION", WHERE, None, samples(300), T0)
    rows = good + bad + (good[:1] if repeat_key else [])
    assert sql.distinct_keys(rows) is not repeat_key
    statement = sql.MOVE_SAMPLES if repeat_key else sql.MOVE_DISTINCT_SAMPLES
    with pytest.raises(Exception, match="does not exist"):
        await csms.pool.fetchrow(statement, batch_json(rows))
    assert await _count(csms, "REF-A") == 0


@pytest.mark.parametrize("statement", ["MOVE_SAMPLES", "MOVE_DISTINCT_SAMPLES"])
async def test_a_batch_naming_an_unknown_transaction_stores_nothing(
    csms: Running, statement: str
) -> None:
    await _station(csms, "REF-B")
    tx = await _transaction(csms, "REF-B")
    rows = sample_rows("REF-B", WHERE, tx, samples(100), T0) + sample_rows(
        "REF-B", WHERE, tx + 1000, samples(200, minute=5), T0
    )
    with pytest.raises(Exception, match="does not exist"):
        await csms.pool.fetchrow(getattr(sql, statement), batch_json(rows))
    assert await _count(csms, "REF-B") == 0


async def test_the_writer_refuses_only_the_write_with_a_missing_reference(csms: Running) -> None:
    """A batch that fails is retried write by write: the good neighbour is stored."""
    await _station(csms, "REF-C")
    good = SampleWrite("REF-C", WHERE, None, samples(100), T0)
    bad = SampleWrite("REF-GONE", WHERE, None, samples(100), T0)
    results = await _submit_together(csms, good, bad)
    assert results[0] is None and isinstance(results[1], StoreError)
    # the station reads why, not the database's text
    assert str(results[1]) == "not stored: it names a station or transaction that does not exist"
    assert await _count(csms, "REF-C") == 1
    assert await _count(csms, "REF-GONE") == 0


async def _submit_together(csms: Running, *writes: SampleWrite) -> list[BaseException | None]:
    outcomes = await asyncio.gather(
        *(csms.writer.submit(w) for w in writes), return_exceptions=True
    )
    return [o if isinstance(o, BaseException) else None for o in outcomes]


async def test_deleting_a_station_deletes_its_samples(csms: Running) -> None:
    await _station(csms, "REF-D")
    await _station(csms, "REF-E")
    await csms.writer.submit(SampleWrite("REF-D", WHERE, None, samples(1, 2, 3), T0))
    await csms.writer.submit(SampleWrite("REF-E", WHERE, None, samples(1), T0))
    await csms.pool.execute("DELETE FROM stations WHERE id = 'REF-D'")
    assert await _count(csms, "REF-D") == 0
    assert await _count(csms, "REF-E") == 1


async def test_deleting_a_transaction_unlinks_its_samples(csms: Running) -> None:
    await _station(csms, "REF-F")
    tx = await _transaction(csms, "REF-F")
    await csms.writer.submit(SampleWrite("REF-F", WHERE, tx, samples(1, 2), T0))
    await csms.pool.execute("DELETE FROM transactions WHERE id = $1", tx)
    linked = await csms.pool.fetch(
        "SELECT transaction_id FROM meter_samples WHERE station_id = 'REF-F'"
    )
    assert [r["transaction_id"] for r in linked] == [None, None]


def test_distinct_keys_compares_as_postgresql_does() -> None:
    """Aware datetimes are equal by instant, as timestamptz values are."""
    later = samples(5)[0]
    same_instant = Sample(
        later.sampled_at.astimezone(timezone(timedelta(hours=8))),
        later.measurand,
        Decimal(6),
    )
    rows = sample_rows("S", WHERE, None, [later, same_instant], T0)
    assert not sql.distinct_keys(rows)
    other_phase = Sample(later.sampled_at, later.measurand, Decimal(6), phase="L1")
    assert sql.distinct_keys(sample_rows("S", WHERE, None, [later, other_phase], T0))


def _signed(raw: str) -> list[Sample]:
    """A sample without a number (1.6 format SignedData): only its raw text tells it apart."""
    return [Sample(T0, "Energy.Active.Import.Register", None, unit="Wh", raw_value=raw)]


@pytest.mark.parametrize("statement", ["MOVE_SAMPLES", "MOVE_DISTINCT_SAMPLES"])
async def test_a_signed_sample_with_other_text_is_kept_as_a_conflict(
    csms: Running, statement: str
) -> None:
    """Stored without its transaction, then delivered with it and another signed text: the row
    is attached (no number differs) and the other text is a conflict, kept, on either path."""
    station_id = f"SIG-{statement[-7:]}"
    await _station(csms, station_id)
    tx = await _transaction(csms, station_id)
    move = getattr(sql, statement)
    await csms.pool.fetchrow(
        move, batch_json(sample_rows(station_id, WHERE, None, _signed("AAA"), T0))
    )
    moved = await csms.pool.fetchrow(
        move, batch_json(sample_rows(station_id, WHERE, tx, _signed("BBB"), T0))
    )
    assert moved is not None and moved["conflicts"] == 1
    kept = await csms.pool.fetch(
        "SELECT raw_value, transaction_id FROM meter_sample_conflicts WHERE station_id = $1",
        station_id,
    )
    assert [tuple(r) for r in kept] == [("BBB", tx)]


async def test_the_writer_keeps_a_signed_sample_with_other_text(csms: Running) -> None:
    """The same through the ledger's hot path (a batch of one write, all keys distinct)."""
    await _station(csms, "SIG-W")
    tx = await _transaction(csms, "SIG-W")
    await csms.writer.submit(SampleWrite("SIG-W", WHERE, None, _signed("AAA"), T0))
    await csms.writer.submit(SampleWrite("SIG-W", WHERE, tx, _signed("BBB"), T0))
    stored = await csms.pool.fetch("SELECT raw_value FROM meter_samples WHERE station_id = 'SIG-W'")
    kept = await csms.pool.fetch(
        "SELECT raw_value FROM meter_sample_conflicts WHERE station_id = 'SIG-W'"
    )
    assert ([r["raw_value"] for r in stored], [r["raw_value"] for r in kept]) == (["AAA"], ["BBB"])
