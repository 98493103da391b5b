"""The station ledger's write path: one group-commit pipeline for every message that changes it.

1.6 StartTransaction/StopTransaction/MeterValues and 2.0.1 TransactionEvent/MeterValues are
queued as writes; a batch of them is applied in one database transaction (set-based statements
where the volume is: events and samples) and committed once. A handler's `submit()` returns
only after its batch committed, so every CALLRESULT goes out for data we hold. While one batch
commits the next is collected (`depth` batches in flight, each on its own connection). A batch
that fails is retried message by message, so a bad message fails alone (its handler answers
InternalError) and its neighbours are kept. The rules are written down in docs/ledger.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import asyncpg
import orjson

from csms import metrics
from csms.domain.meter import Sample, register_readings, register_wh
from csms.domain.station import MAX_INT64, WHOLE_STATION, ConnectorRef
from csms.domain.transaction import (
    EventOutcome,
    EventType,
    StartOutcome,
    StartRequest,
    StopOutcome,
    StopRequest,
    TransactionEvent,
)
from csms.errors import StoreError
from csms.store import ledger_sql as sql
from csms.store import outage, platform_outbox
from csms.store.database import Pool

log = logging.getLogger(__name__)

Row = tuple[object, ...]
_TX_CACHE_LIMIT = 200_000
# After a hot-path batch held a replay, this many next batches go straight to the statements
# that judge replays: a resending station then costs no refused statement per batch.
_REPLAY_BATCHES = 32


def sample_rows(
    station_id: str,
    where: ConnectorRef,
    transaction_id: int | None,
    samples: Sequence[Sample],
    received_at: datetime,
) -> list[Row]:
    return [
        (
            station_id,
            where.evse_id,
            where.connector_id,
            transaction_id,
            s.sampled_at,
            received_at,
            s.measurand,
            s.phase,
            s.location,
            s.context,
            s.unit,
            s.value,
            s.raw_value,
            None if s.signed_data is None else json.dumps(s.signed_data),
        )
        for s in samples
    ]


# -- the writes ------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class SampleWrite:
    """MeterValues of either version: samples linked to a transaction the caller resolved."""

    station_id: str
    where: ConnectorRef
    transaction_pk: int | None
    samples: list[Sample]
    received_at: datetime

    def rows(self) -> list[Row]:
        return sample_rows(
            self.station_id, self.where, self.transaction_pk, self.samples, self.received_at
        )


@dataclass(eq=False, slots=True)
class StartWrite:
    """1.6 StartTransaction: the CSMS assigns the id, or returns the one a replay got."""

    station_id: str
    start: StartRequest
    auth_status: str
    received_at: datetime  # the CSMS clock's, kept as the row's created_at (clock evidence)
    outcome: StartOutcome | None = None

    def rows(self) -> list[Row]:
        return []


@dataclass(eq=False, slots=True)
class StopWrite:
    """1.6 StopTransaction: never refused; its transactionData goes with it."""

    station_id: str
    stop: StopRequest
    received_at: datetime
    outcome: StopOutcome | None = None

    def rows(self) -> list[Row]:
        assert self.outcome is not None
        return sample_rows(
            self.station_id,
            self.outcome.where or WHOLE_STATION,
            self.outcome.transaction_pk,
            self.stop.samples,
            self.received_at,
        )


@dataclass(eq=False, slots=True)
class EventWrite:
    """2.0.1 TransactionEvent with its samples; `platform_code` is queued for platforms."""

    station_id: str
    event: TransactionEvent
    payload: dict[str, Any]  # the request, kept verbatim: its content decides what a replay is
    received_at: datetime
    platform_code: int | None = None
    transaction_pk: int | None = None
    outcome: EventOutcome | None = None
    row: dict[str, Any] = field(default_factory=dict)
    known_where: ConnectorRef | None = None  # the transaction's EVSE before this event

    def rows(self) -> list[Row]:
        where = (
            (self.outcome.where if self.outcome is not None else self.known_where)
            or self.event.where
            or WHOLE_STATION
        )
        return sample_rows(
            self.station_id, where, self.transaction_pk, self.event.samples, self.received_at
        )


Write = SampleWrite | StartWrite | StopWrite | EventWrite


@dataclass(frozen=True, slots=True)
class _Known:
    """A 2.0.1 transaction as the last committed batch left it."""

    pk: int
    where: ConnectorRef | None
    closed: bool


@dataclass(slots=True)
class _Job:
    write: Write
    done: asyncio.Future[None]


# -- the pipeline ----------------------------------------------------------------------------


class Ledger:
    """Batches writes from all connections; `run()` is owned by the server's TaskGroup."""

    def __init__(
        self,
        pool: Pool,
        *,
        max_rows: int = 1000,
        max_delay: float = 0.002,
        depth: int = 2,
    ) -> None:
        self._pool = pool
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._max_rows = max_rows
        self._max_delay = max_delay
        self._depth = depth
        # (station, 2.0.1 transactionId) -> what committed batches left of it.
        self._known: dict[tuple[str, str], _Known] = {}
        self._busy: Counter[str] = Counter()  # stations with writes in a batch in flight
        self._held: list[_Job] = []  # writes waiting for their station's batch to finish
        self.batches = 0
        self.rows_written = 0
        self.conflicts = 0
        self.new_batches = 0  # hot-path batches stored by the plain INSERT
        self.replay_retries = 0  # hot-path batches applied again because they held a replay
        self._replay_batches = 0  # hot-path batches still to apply as possible replays
        self.running = False
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, write: Write) -> None:
        """Queue a write and return once it is committed (its outcome is then on it).

        Raises StoreError when it could not be stored, or when the pipeline is not running.
        """
        loop = self._loop  # run()'s: asyncio.get_running_loop() costs a getpid() system call
        if not self.running or loop is None:
            raise StoreError("the ledger writer is not running")
        job = _Job(write, loop.create_future())
        self._queue.put_nowait(job)
        await job.done

    async def run(self) -> None:
        """Collect and commit batches until cancelled; nothing a batch does ends this loop.

        On cancellation every job still waiting is failed, so no handler hangs.
        """
        self._loop = asyncio.get_running_loop()
        self.running = True
        slots = asyncio.Semaphore(self._depth)
        try:
            async with asyncio.TaskGroup() as group:
                while True:
                    jobs = await self._collect()
                    await slots.acquire()
                    for job in jobs:
                        self._busy[job.write.station_id] += 1
                    group.create_task(self._flush_then_release(jobs, slots))
        finally:
            self.running = False
            pending = self._held + [self._queue.get_nowait() for _ in range(self._queue.qsize())]
            self._held = []
            for job in pending:
                if not job.done.done():
                    job.done.set_exception(StoreError("ledger writer stopped"))

    async def _collect(self) -> list[_Job]:
        """The next batch. A station's writes go in arrival order and never in two batches in
        flight at once (a reconnected station's message may still be committing from its old
        socket): a write whose station is busy is held for a later batch."""
        loop = asyncio.get_running_loop()
        jobs: list[_Job] = []
        held, self._held = self._held, []
        waiting: set[str] = set()  # stations with a held write: later ones wait behind it
        size = 0

        def take(job: _Job) -> None:
            nonlocal size
            station = job.write.station_id
            if station in self._busy or station in waiting:
                self._held.append(job)
                waiting.add(station)
            else:
                jobs.append(job)
                size += _size(job.write)

        for job in held:
            take(job)
        while not jobs:  # held writes wait for their stations' batches; poll them briefly
            try:
                take(await _get(self._queue, 0.001 if self._held else None))
            except TimeoutError:
                held, self._held, waiting = self._held, [], set()
                for job in held:
                    take(job)
        deadline = loop.time() + self._max_delay
        while size < self._max_rows:
            try:
                job = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:  # one wake-up for whatever arrives until the deadline, not one per write
                    await asyncio.sleep(timeout)
                except asyncio.CancelledError:
                    self._held[:0] = jobs  # run() fails them: no handler waits for ever
                    raise
                continue
            take(job)
        return jobs

    async def _flush_then_release(self, jobs: list[_Job], slots: asyncio.Semaphore) -> None:
        try:
            await self._flush(jobs)
        finally:
            for job in jobs:
                station = job.write.station_id
                self._busy[station] -= 1
                if not self._busy[station]:
                    del self._busy[station]
            slots.release()

    async def _flush(self, jobs: list[_Job]) -> None:
        started = time.perf_counter()
        try:
            rows, conflicts = await self._commit([job.write for job in jobs])
        except asyncio.CancelledError:
            for job in jobs:
                if not job.done.done():
                    job.done.set_exception(StoreError("ledger writer stopped"))
            raise
        except Exception as exc:  # asyncpg's encoders raise plain ValueError/OverflowError too
            down = outage.unavailable(exc)
            if down is not None:
                # No message is to blame and none is acknowledged: each handler answers
                # CALLERROR and the station sends it again; retrying one by one would only
                # wait for the same outage N times. (A commit whose answer was lost may have
                # landed: the resend is then a replay, which the ledger recognises.)
                for job in jobs:
                    self._forget(job.write)
                    if not job.done.done():
                        job.done.set_exception(down)
                return
            if len(jobs) == 1:
                write = jobs[0].write
                log.warning(
                    "a %s of %s was not stored: %s", type(write).__name__, write.station_id, exc
                )
                self._forget(write)
                if not jobs[0].done.done():  # its handler may have been cancelled
                    jobs[0].done.set_exception(StoreError(f"not stored: {refusal(exc)}"))
                return
            # One bad message must not fail its neighbours: retry each on its own.
            for job in jobs:
                await self._flush([job])
            return
        self._remember([job.write for job in jobs])
        metrics.DB_WRITE_BATCH.labels("ledger").observe(len(jobs))
        metrics.DB_WRITE_SECONDS.labels("ledger").observe(time.perf_counter() - started)
        self.batches += 1
        self.rows_written += rows
        self.conflicts += conflicts
        for job in jobs:
            if not job.done.done():
                job.done.set_result(None)

    def _forget(self, write: Write) -> None:
        if isinstance(write, EventWrite):
            self._known.pop((write.station_id, write.event.station_tx_id), None)

    def _remember(self, writes: list[Write]) -> None:
        """Keep what a committed batch left of its 2.0.1 transactions."""
        if len(self._known) > _TX_CACHE_LIMIT:
            self._known.clear()
        for w in writes:
            if isinstance(w, EventWrite) and w.outcome is not None:
                self._known[(w.station_id, w.event.station_tx_id)] = _Known(
                    w.outcome.transaction_pk, w.outcome.where, w.row.get("status") == "closed"
                )

    async def _commit(self, writes: list[Write]) -> tuple[int, int]:
        """Apply a batch atomically: (sample rows stored, conflicts kept)."""
        events = [w for w in writes if isinstance(w, EventWrite)]
        async with self._pool.acquire() as conn:
            if self._plain(writes, events):
                return await self._commit_hot(conn, writes, events)
            async with conn.transaction():
                for write in writes:
                    if isinstance(write, StartWrite):
                        write.outcome = await _start_v16(conn, write)
                    elif isinstance(write, StopWrite):
                        write.outcome = await _stop_v16(conn, write)
                if events:
                    await self._apply_events(conn, events)
                inserted = conflicts = 0
                rows = [row for w in writes for row in w.rows()]
                if rows:
                    moved: Any = await conn.fetchrow(_move_samples(rows), batch_json(rows))
                    inserted, conflicts = moved["inserted"], moved["conflicts"]
                if events:
                    await _finish_events(conn, events)
            return inserted, conflicts

    async def _commit_hot(
        self, conn: Any, writes: list[Write], events: list[EventWrite]
    ) -> tuple[int, int]:
        """A hot-path batch, its samples first taken for new (a plain INSERT); when one was
        stored already, the batch is applied again by the statements that judge replays, and
        so are the next few batches: a station that resends keeps resending for a while. Two
        rows of the batch with one key are refused by the same index (no need to look first)."""
        rows = [row for w in writes for row in w.rows()]
        if rows:  # events alone risk no sample replay: they neither try nor use up the hold
            if self._replay_batches:
                self._replay_batches -= 1
            else:
                try:
                    counts = await _commit_plain(conn, rows, events, new=True)
                except asyncpg.UniqueViolationError as exc:
                    if exc.constraint_name != sql.REPLAY_INDEX:
                        raise
                    self.replay_retries += 1
                    metrics.LEDGER_REPLAY_RETRIES.inc()
                    self._replay_batches = _REPLAY_BATCHES
                else:
                    self.new_batches += 1
                    return counts
        return await _commit_plain(conn, rows, events, new=False)

    def _plain(self, writes: list[Write], events: list[EventWrite]) -> bool:
        """Whether the batch is the hot path: samples, and Updated events of open transactions
        already known, at most one each, none of which a platform must hear about. Such a
        batch is one statement (one round trip, atomic on its own)."""
        seen: set[int] = set()
        for w in events:
            known = self._known.get((w.station_id, w.event.station_tx_id))
            if (
                known is None
                or known.closed
                or known.pk in seen
                or w.event.event_type is not EventType.UPDATED
                or w.platform_code is not None
            ):
                return False
            seen.add(known.pk)
            w.transaction_pk, w.known_where = known.pk, known.where
        return all(isinstance(w, SampleWrite | EventWrite) for w in writes)

    async def _apply_events(self, conn: Any, events: list[EventWrite]) -> None:
        """Resolve each event's transaction (creating new ones), then apply them in rounds
        of at most one event per transaction, in arrival order."""
        unknown: dict[tuple[str, str], TransactionEvent] = {}
        for w in events:
            key = (w.station_id, w.event.station_tx_id)
            known = self._known.get(key)
            w.transaction_pk = None if known is None else known.pk
            if known is None:
                unknown.setdefault(key, w.event)
        if unknown:
            keys, firsts = list(unknown), list(unknown.values())
            await conn.execute(
                sql.CREATE_TRANSACTIONS,
                [k[0] for k in keys],
                [k[1] for k in keys],
                [e.event_type is not EventType.STARTED for e in firsts],
                [None if e.event_type is EventType.ENDED else e.timestamp for e in firsts],
            )
            found = {
                (r["station_id"], r["station_tx_id"]): r["id"]
                for r in await conn.fetch(
                    sql.FIND_TRANSACTIONS, [k[0] for k in keys], [k[1] for k in keys]
                )
            }
            for w in events:
                if w.transaction_pk is None:
                    w.transaction_pk = found[(w.station_id, w.event.station_tx_id)]
        rounds: dict[int, list[EventWrite]] = defaultdict(list)
        seen: dict[int, int] = defaultdict(int)
        for w in events:
            assert w.transaction_pk is not None
            rounds[seen[w.transaction_pk]].append(w)
            seen[w.transaction_pk] += 1
        for k in sorted(rounds):
            round_json = batch_json(_event_rows(rounds[k]))
            _take_results(rounds[k], await conn.fetch(sql.APPLY_EVENTS, round_json))


async def _commit_plain(
    conn: Any, rows: list[Row], events: list[EventWrite], *, new: bool
) -> tuple[int, int]:
    """The hot path: one statement applies the events and stores every sample. `new`: the
    samples are taken for unstored (INSERT_NEW_SAMPLES); the statement raises
    UniqueViolationError on the replay index if one is stored, or if two share a key."""
    if not events:
        statement = sql.INSERT_NEW_SAMPLES if new else _move_samples(rows)
        moved: Any = await conn.fetchrow(statement, batch_json(rows))
        return moved["inserted"], moved["conflicts"]
    if rows:
        if new:
            apply = sql.APPLY_ALL_NEW
        else:
            apply = sql.APPLY_ALL_DISTINCT if sql.distinct_keys(rows) else sql.APPLY_ALL
        results = await conn.fetch(apply, batch_json(_event_rows(events)), batch_json(rows))
    else:
        results = await conn.fetch(sql.APPLY_EVENTS, batch_json(_event_rows(events)))
    _take_results(events, results)
    if any(w.row.get("status") == "closed" for w in events):
        # closed meanwhile (superseded by a newer start, or by another node): its meter stop
        # and seqNo gaps follow what was stored
        await _finish_events(conn, events)
    return (results[0]["inserted"], results[0]["conflicts"]) if rows else (0, 0)


def refusal(exc: BaseException) -> str:
    """Why a write was refused, as its station may read it (in a CALLERROR): the kind of
    fault, never the database's own text (table, constraint and type names stay in our log)."""
    state = getattr(exc, "sqlstate", None) or ""
    if state == "23503":  # foreign_key_violation: csms_refuse_missing_refs and the keys
        return "it names a station or transaction that does not exist"
    if state.startswith("22") or isinstance(exc, ValueError | OverflowError):
        return "a value in it cannot be stored"  # data exception, or asyncpg's encoders
    if state.startswith("23"):
        return "it conflicts with what is stored"
    return "a storage fault (logged by the CSMS)"


def batch_json(rows: Sequence[Row]) -> str:
    """Rows as the statements' one JSON parameter (ledger_sql._SAMPLE_FIELDS, _EVENT_INPUT):
    orjson, times in RFC 3339 and numbers as their exact text; what orjson refuses (integers
    beyond 64 bits in a request) goes through the standard encoder, with the same output."""
    try:
        return orjson.dumps(rows, default=_exact_text, option=orjson.OPT_NAIVE_UTC).decode()
    except TypeError:
        return json.dumps(rows, default=_exact_text, ensure_ascii=False)


def _exact_text(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)  # exact: PostgreSQL's numeric reads it back digit for digit
    if isinstance(value, datetime):  # the standard encoder's path only (orjson writes these)
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    raise TypeError(f"{type(value).__name__} is not stored in the ledger")


def _move_samples(rows: list[Row]) -> str:
    """The statement that stores these rows: the one without a window when their keys differ."""
    return sql.MOVE_DISTINCT_SAMPLES if sql.distinct_keys(rows) else sql.MOVE_SAMPLES


def _size(write: Write) -> int:
    if isinstance(write, SampleWrite):
        return len(write.samples) or 1
    if isinstance(write, StopWrite):
        return len(write.stop.samples) + 1
    if isinstance(write, EventWrite):
        return len(write.event.samples) + 1
    return 1


# -- 2.0.1 -----------------------------------------------------------------------------------


def _event_rows(round_: list[EventWrite]) -> list[Row]:
    """A round of events as rows of APPLY_EVENTS' one parameter (ledger_sql._EVENT_INPUT)."""
    rows: list[Row] = []
    for w in round_:
        e = w.event
        readings = register_readings(e.samples)
        first, last = (readings[0], readings[-1]) if readings else ((None, None), (None, None))
        where = e.where
        rows.append(
            (
                w.transaction_pk,
                e.seq_no,
                e.event_type.value,
                e.trigger_reason,
                e.timestamp,
                w.received_at,
                e.offline,
                w.payload,
                where.evse_id if where else None,
                where.connector_id if where else None,
                e.id_token,
                e.id_token_type,
                e.charging_state,
                e.remote_start_id,
                e.reservation_id,
                first[0],
                first[1],
                last[0],
                last[1],
                e.stopped_reason,
            )
        )
    return rows


def _take_results(round_: list[EventWrite], results: list[Any]) -> None:
    by_tx = {r["tx"]: r for r in results}
    for w in round_:
        assert w.transaction_pk is not None
        r = by_tx[w.transaction_pk]
        w.row = dict(r)
        where = None if r["evse_id"] is None else ConnectorRef(r["evse_id"], r["connector_id"] or 0)
        w.outcome = EventOutcome(
            w.transaction_pk,
            r["replayed"],
            r["orphan"],
            where,
            # ended before: closed with an end (a superseded one lost its Ended, has none)
            closed_before=r["was_status"] == "closed" and r["stopped_at"] is not None,
            auth_status=r["auth_status"],
            after_end=r["stopped_at"] is not None and w.event.timestamp > r["stopped_at"],
        )


async def _finish_events(conn: Any, events: list[EventWrite]) -> None:
    """After the samples are in: meter stops of closed sessions, seqNo gaps of ended ones,
    superseded transactions, and the platforms' charging codes."""
    applied = [w for w in events if w.outcome is not None and not w.outcome.replayed]
    closed = [w.transaction_pk for w in applied if w.row.get("status") == "closed"]
    if closed:
        stops = {r["id"]: r for r in await conn.fetch(sql.SET_METER_STOP, closed)}
        for w in applied:
            r = stops.get(w.transaction_pk)
            if r is not None and w.outcome is not None:
                start, stop = r["meter_start_wh"], r["meter_stop_wh"]
                energy = stop - start if start is not None and stop is not None else None
                w.outcome = replace(w.outcome, energy_wh=energy)
        await conn.execute(sql.NOTE_MISSING, closed)
    started = [
        w
        for w in applied
        if w.event.event_type is EventType.STARTED and w.outcome and w.outcome.where
    ]
    if started:
        await conn.execute(
            sql.SUPERSEDE_V201,
            [w.station_id for w in started],
            [w.outcome.where.evse_id for w in started if w.outcome and w.outcome.where],
            [w.transaction_pk for w in started],
            [w.event.timestamp for w in started],
        )
    for w in applied:
        where = w.outcome.where if w.outcome else None
        if w.platform_code is not None and where is not None and where.evse_id:
            await platform_outbox.charging(
                conn,
                w.station_id,
                where.evse_id,
                where.connector_id,
                w.platform_code,
                w.received_at,
                ended=w.event.event_type is EventType.ENDED,
            )


# -- 1.6 -------------------------------------------------------------------------------------


async def _start_v16(conn: Any, write: StartWrite) -> StartOutcome:
    start, station_id = write.start, write.station_id
    key = (station_id, start.where.evse_id, start.id_token, start.timestamp, start.meter_start_wh)
    new_id = await conn.fetchval(
        sql.START_V16,
        station_id,
        start.where.evse_id,
        start.where.connector_id,
        start.id_token,
        write.auth_status,
        start.timestamp,
        start.meter_start_wh,
        start.reservation_id,
        write.received_at,
    )
    if new_id is None:
        return StartOutcome(int(await conn.fetchval(sql.FIND_START_V16, *key)), replayed=True)
    # A connector runs one transaction at a time: an older one still open here lost its
    # StopTransaction. Close it so it does not hold its token (ConcurrentTx) forever.
    await conn.execute(sql.SUPERSEDE_V16, station_id, start.where.evse_id, new_id, start.timestamp)
    return StartOutcome(int(new_id), replayed=False)


async def _stop_v16(conn: Any, write: StopWrite) -> StopOutcome:
    stop, station_id = write.stop, write.station_id
    row = None
    if 0 < stop.transaction_id <= MAX_INT64:
        row = await conn.fetchrow(sql.FIND_STOP_TARGET, stop.transaction_id, station_id)
    if row is not None:
        where = ConnectorRef.from_v16(row["evse_id"])
        energy = None if stop.meter_stop_wh is None else stop.meter_stop_wh - row["meter_start_wh"]
        if row["stopped_at"] is None:  # its first stop (a superseded one had none either)
            await conn.execute(
                sql.CLOSE_V16,
                row["id"],
                stop.timestamp,
                stop.meter_stop_wh,
                stop.reason or "Local",
                stop.id_token,
                None,
                write.received_at,
            )
            return StopOutcome(row["id"], False, False, where, energy)
        if _same_stop(row, stop):
            return StopOutcome(row["id"], False, True, where, energy)
        # Another stop for a stopped transaction: kept beside it, never applied over it.
        await _orphan_stop(conn, station_id, stop, linked_to=row["id"])
        await conn.execute(sql.NOTE_CONFLICTING_STOP, row["id"])
        return StopOutcome(row["id"], False, True, where, None)
    orphan_id, linked, created = await _orphan_stop(conn, station_id, stop, linked_to=None)
    if not created:
        if linked is not None:  # its samples go where they went the first time
            went = None if linked[1] is None else ConnectorRef.from_v16(linked[1])
            return StopOutcome(linked[0], False, True, went, None)
        return StopOutcome(orphan_id, True, True, None, None)
    target = await _link(conn, station_id, stop)
    if target is None:
        return StopOutcome(orphan_id, True, False, None, None)
    await conn.execute(sql.LINK_ORPHAN, orphan_id, target["id"])
    await conn.execute(
        sql.CLOSE_V16,
        target["id"],
        stop.timestamp,
        stop.meter_stop_wh,
        stop.reason or "Local",
        stop.id_token,
        orphan_id,
        write.received_at,
    )
    energy = None if stop.meter_stop_wh is None else stop.meter_stop_wh - target["meter_start_wh"]
    return StopOutcome(target["id"], False, False, ConnectorRef.from_v16(target["evse_id"]), energy)


def _same_stop(row: Any, stop: StopRequest) -> bool:
    return bool(
        row["stopped_at"] == stop.timestamp
        and row["meter_stop_wh"] == stop.meter_stop_wh
        and row["stop_id_token"] == stop.id_token
        and row["stop_reason"] == (stop.reason or "Local")
    )


async def _orphan_stop(
    conn: Any, station_id: str, stop: StopRequest, *, linked_to: int | None
) -> tuple[int, tuple[int, int | None] | None, bool]:
    """Keep a stop as an orphan record: (its id, the transaction it is linked to with that
    one's connector, created)."""
    values = (
        station_id,
        str(stop.transaction_id),
        stop.timestamp,
        stop.meter_stop_wh,
        stop.reason or "Local",
        stop.id_token,
    )
    orphan_id = await conn.fetchval(
        sql.INSERT_ORPHAN_V16, *values, register_wh(stop.samples, last=False), linked_to
    )
    if orphan_id is not None:
        return int(orphan_id), None if linked_to is None else (linked_to, None), True
    found = await conn.fetchrow(
        sql.FIND_ORPHAN_V16,
        station_id,
        str(stop.transaction_id),
        stop.timestamp,
        stop.meter_stop_wh,
        stop.id_token,
        stop.reason or "Local",
    )
    linked = None if found["linked_to"] is None else (found["linked_to"], found["linked_evse"])
    return int(found["id"]), linked, False


async def _link(conn: Any, station_id: str, stop: StopRequest) -> Any:
    """The one start this stop for a never-issued id clearly belongs to, if there is one."""
    if stop.meter_stop_wh is None:
        return None
    candidates = await conn.fetch(
        sql.STOP_CANDIDATES, station_id, stop.timestamp, stop.meter_stop_wh, stop.id_token
    )
    return candidates[0] if len(candidates) == 1 else None


_T = TypeVar("_T")


async def _get(queue: asyncio.Queue[_T], timeout: float | None) -> _T:
    """The next item, TimeoutError after `timeout` seconds (None: wait for ever). Not
    asyncio.wait_for: on 3.11 it can swallow a cancellation that arrives as an item does, and
    the writer would not stop."""
    async with asyncio.timeout(timeout):
        return await queue.get()
