"""Group-commit writer for meter samples: many messages, one COPY, one commit.

Handlers await `write()`, which returns once their samples are durable, so a station is only
acknowledged for data we hold. Samples go by COPY into a session temp table and then into
`meter_samples` with ON CONFLICT DO NOTHING, which makes replays harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from csms import metrics
from csms.domain.meter import Sample
from csms.domain.station import ConnectorRef
from csms.errors import StoreError
from csms.store.database import Pool

log = logging.getLogger(__name__)

_STAGE_COLUMNS = (
    "station_id",
    "evse_id",
    "connector_id",
    "transaction_id",
    "sampled_at",
    "received_at",
    "measurand",
    "phase",
    "location",
    "context",
    "unit",
    "value",
    "raw_value",
    "signed_data",
)
# signed_data is staged as text: binary COPY has no codec for our jsonb-as-dict mapping.
_CREATE_STAGE = """CREATE TEMP TABLE IF NOT EXISTS meter_samples_stage (
    station_id text, evse_id integer, connector_id integer, transaction_id bigint,
    sampled_at timestamptz, received_at timestamptz, measurand text, phase text,
    location text, context text, unit text, value numeric, raw_value text, signed_data text
) ON COMMIT DELETE ROWS"""
_KEY = "station_id, evse_id, sampled_at, measurand, phase, location, context"
# A replayed sample adds nothing, except that a sample first stored without its transaction
# (a MeterValues without transactionId) is linked when it comes again with one (the stop's
# transactionData). DISTINCT ON: one row per key per batch, as ON CONFLICT DO UPDATE needs.
_MOVE = f"""INSERT INTO meter_samples ({", ".join(_STAGE_COLUMNS)})
    SELECT DISTINCT ON ({_KEY}) {", ".join(_STAGE_COLUMNS[:-1])}, signed_data::jsonb
    FROM meter_samples_stage
    ORDER BY {_KEY}, transaction_id NULLS LAST
    ON CONFLICT ({_KEY}) DO UPDATE SET transaction_id = EXCLUDED.transaction_id
    WHERE meter_samples.transaction_id IS NULL AND EXCLUDED.transaction_id IS NOT NULL"""

Row = tuple[object, ...]


@dataclass(slots=True)
class _Job:
    rows: list[Row]
    done: asyncio.Future[None]


def rows_for(
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


class MeterWriter:
    """Batches sample rows from all connections; `run()` is owned by the server's TaskGroup."""

    def __init__(self, pool: Pool, *, max_rows: int = 5000, max_delay: float = 0.005) -> None:
        self._pool = pool
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._max_rows = max_rows
        self._max_delay = max_delay
        self.batches = 0
        self.rows_written = 0
        self.running = False

    async def write(self, rows: list[Row]) -> None:
        """Queue rows and return once they are committed (replayed rows are skipped).

        Raises StoreError when they could not be stored, or when the writer is not running.
        """
        if not rows:
            return
        if not self.running:
            raise StoreError("the meter writer is not running")
        job = _Job(rows, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(job)
        await job.done

    async def run(self) -> None:
        """Drain the queue in batches, each one transaction, until cancelled.

        Nothing a batch does can end this loop: every failure is handed to the jobs it
        concerns. On cancellation every job still waiting is failed, so no handler hangs.
        """
        self.running = True
        try:
            await self._drain_forever()
        finally:
            self.running = False
            while not self._queue.empty():
                job = self._queue.get_nowait()
                if not job.done.done():
                    job.done.set_exception(StoreError("meter writer stopped"))

    async def _drain_forever(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            size = len(jobs[0].rows)
            deadline = asyncio.get_running_loop().time() + self._max_delay
            while size < self._max_rows:
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0 and self._queue.empty():
                    break
                try:
                    job = (
                        self._queue.get_nowait()
                        if timeout <= 0
                        else await asyncio.wait_for(self._queue.get(), timeout)
                    )
                except (TimeoutError, asyncio.QueueEmpty):
                    break
                jobs.append(job)
                size += len(job.rows)
            await self._flush(jobs)

    async def _flush(self, jobs: list[_Job]) -> None:
        rows = [row for job in jobs for row in job.rows]
        started = time.perf_counter()
        try:
            inserted = await self._copy(rows)
        except asyncio.CancelledError:
            for job in jobs:
                if not job.done.done():
                    job.done.set_exception(StoreError("meter writer stopped"))
            raise
        except Exception as exc:  # asyncpg's COPY encoders raise plain ValueError/OverflowError
            if len(jobs) == 1:
                log.warning("meter samples rejected by the database: %s", exc)
                jobs[0].done.set_exception(StoreError(f"meter samples not stored: {exc}"))
                return
            # One bad message must not fail its neighbours: retry each on its own.
            for job in jobs:
                await self._flush([job])
            return
        metrics.DB_WRITE_BATCH.labels("meter_samples").observe(len(rows))
        metrics.DB_WRITE_SECONDS.labels("meter_samples").observe(time.perf_counter() - started)
        self.batches += 1
        self.rows_written += inserted
        for job in jobs:
            if not job.done.done():
                job.done.set_result(None)

    async def _copy(self, rows: list[Row]) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(_CREATE_STAGE)
            await conn.copy_records_to_table(
                "meter_samples_stage", records=rows, columns=_STAGE_COLUMNS
            )
            status: str = await conn.execute(_MOVE)
        return int(status.split()[-1])
