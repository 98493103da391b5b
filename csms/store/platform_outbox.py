"""The durable outbox of platform pushes: written with the event, sent in order, never lost.

Each record is one row per platform that takes its kind (a disabled platform is paused, not
forgotten), inserted in the transaction of the event that causes it. A stream (a charging
station, or a site) is sent one record at a time in id order; a record stays pending until the
platform acknowledges it.

Ids are drawn under a per-stream transaction lock (STREAM_LOCK) held to commit, so within a
stream id order is commit order: a sender never sees a later record before an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csms.errors import Conflict, NotFound
from csms.store.database import Pool
from csms.store.platform_facts import CONNECTOR_FACTS

KINDS = ("station_info", "connector_status", "charge_order", "station_stats", "charge_status")
LIVE = "charge_status"
_RECORD_COLUMNS = """id, platform_id, stream, kind, dedupe_key, data, state, attempts,
    next_attempt_at, created_at, last_attempt_at, sent_at, last_ret, last_msg, answer,
    requeued_as"""

# pg_advisory_xact_lock class of outbox streams; the key is hashtext(stream)
STREAM_LOCK_CLASS = 0x7CEA
STREAM_LOCK = f"SELECT pg_advisory_xact_lock({STREAM_LOCK_CLASS}, hashtext($1))"
# Heads are looked for among this many oldest pending records (a full scan when too few).
WINDOW = 2_000

# Fan a record out to every platform that takes its kind ($1 kind, $2 stream, $3 data, $4 dedupe
# key); a dedupe key already queued for a platform is not queued again.
_ENQUEUE = """INSERT INTO platform_outbox (platform_id, stream, kind, data, dedupe_key)
    SELECT p.id, $2, $1, $3, $4 FROM platforms p WHERE $1 = ANY (p.kinds)
    ON CONFLICT (platform_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING"""


def code_ctes(
    station: str, evse: str, connector: str, code: str, at: str, guard: str = "true"
) -> str:
    """CTEs (to put in front of another statement) that record a connector's status code and,
    when the code changed and is not older than the last one, queue a connector_status push.

    The arguments are SQL placeholders ("$1", ...) and `at` is the CSMS's receipt time (station
    clocks may be skewed against the offline time). `guard` is an extra SQL condition. Private
    piles are not reported.
    """
    return f"""stream_lock AS (
        SELECT pg_advisory_xact_lock({STREAM_LOCK_CLASS}, hashtext({station}))
        WHERE {guard} AND {evse} > 0
    ), code_change AS (
        INSERT INTO platform_connector_codes AS c
            (station_id, evse_id, connector_id, code, code_at)
        SELECT {station}, {evse}, {connector}, {code}, {at} FROM stream_lock
        WHERE EXISTS (
            SELECT 1 FROM stations s WHERE s.id = {station} AND s.access_mode <> 'private')
        ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE
            SET code = EXCLUDED.code, code_at = EXCLUDED.code_at
            WHERE c.code <> EXCLUDED.code AND c.code_at <= EXCLUDED.code_at
        RETURNING station_id, evse_id, connector_id, code, code_at
    ), code_push AS (
        INSERT INTO platform_outbox (platform_id, stream, kind, data)
        SELECT p.id, x.station_id, 'connector_status', jsonb_build_object(
                'station_id', x.station_id, 'evse_id', x.evse_id,
                'connector_id', x.connector_id, 'code', x.code, 'at', x.code_at)::text
        FROM code_change x CROSS JOIN platforms p
        WHERE 'connector_status' = ANY (p.kinds)
    )"""


_SET_CODE = f"WITH {code_ctes('$1', '$2', '$3', '$4', '$5')} SELECT count(*) FROM code_change"

# A station that goes offline: every connector platforms were told about becomes 0.
_OFFLINE_CHANGE = """code_change AS (
        UPDATE platform_connector_codes SET code = 0, code_at = $2
        WHERE station_id = ANY ($1::text[]) AND code <> 0 AND code_at <= $2{lock}
        RETURNING station_id, evse_id, connector_id, code, code_at
    )
    INSERT INTO platform_outbox (platform_id, stream, kind, data)
    SELECT p.id, x.station_id, 'connector_status', jsonb_build_object(
            'station_id', x.station_id, 'evse_id', x.evse_id,
            'connector_id', x.connector_id, 'code', x.code, 'at', x.code_at)::text
    FROM code_change x CROSS JOIN platforms p
    WHERE 'connector_status' = ANY (p.kinds)
    ORDER BY x.station_id, x.evse_id, x.connector_id"""
_OFFLINE = f"""WITH stream_lock AS (
        SELECT pg_advisory_xact_lock({STREAM_LOCK_CLASS}, hashtext(s))
        FROM (SELECT DISTINCT s FROM unnest($1::text[]) s ORDER BY s) ordered
    ), {_OFFLINE_CHANGE.format(lock=" AND (SELECT count(*) FROM stream_lock) >= 0")}"""
# Stations released in one transaction at most: each takes a lock-table slot until commit.
OFFLINE_BATCH = 50


async def enqueue(conn: Any, kind: str, stream: str, data: str, dedupe_key: str | None) -> int:
    """Queue a record on `conn` inside the caller's transaction; the rows queued."""
    await conn.execute(STREAM_LOCK, stream)
    done: str = await conn.execute(_ENQUEUE, kind, stream, data, dedupe_key)
    return int(done.split()[-1])


async def stations_offline(conn: Any, station_ids: Sequence[str], at: datetime) -> None:
    """Queue code 0 for every known connector of the stations (in the caller's transaction),
    their stream locks taken in sorted order; at most OFFLINE_BATCH stations at a time."""
    if len(station_ids) > OFFLINE_BATCH:
        raise ValueError(f"release stations in batches of {OFFLINE_BATCH} at most")
    if station_ids:
        await conn.execute(_OFFLINE, list(station_ids), at)


async def charging(
    conn: Any,
    station_id: str,
    evse_id: int,
    connector_id: int,
    code: int,
    at: datetime,
    *,
    ended: bool = False,
) -> int:
    """A 2.0.1 charging-state change (in the caller's transaction): 3 or 2 for connectors
    platforms know as idle, occupied or charging; offline, reserved and faulted keep their code.
    An ended session only turns charging (3) into occupied (2): a connector already reported
    free stays free. `connector_id` 0 means every connector of the EVSE."""
    await conn.execute(STREAM_LOCK, station_id)
    rows = await conn.fetch(
        """SELECT connector_id FROM platform_connector_codes
           WHERE station_id = $1 AND evse_id = $2 AND ($3 = 0 OR connector_id = $3)
             AND code = ANY ($5::smallint[]) AND code <> $4""",
        station_id,
        evse_id,
        connector_id,
        code,
        [3] if ended else [1, 2, 3],
    )
    for row in rows:
        await conn.fetchval(_SET_CODE, station_id, evse_id, row["connector_id"], code, at)
    return len(rows)


@dataclass(frozen=True, slots=True)
class LiveRecord:
    """A connector's live charging data (our JSON) for one platform, of one open session."""

    station_id: str
    evse_id: int
    connector_id: int
    transaction_id: int
    data: str

    @property
    def coalesce_key(self) -> str:
        return f"live:{self.station_id}:{self.evse_id}:{self.connector_id}"


class OutboxStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def replace_live(
        self, platform_id: str, records: Sequence[LiveRecord], at: datetime
    ) -> int:
        """Queue live records at the end of their station's stream, each replacing the record
        of its connector that was not sent yet or was refused (only the latest live state
        matters: a platform that is down gets the latest, not a backlog). Rows queued.

        Under the station's stream lock, and only while the session is still open: the order
        of an ended session is queued under that lock after its stop, so no live record of a
        session ever follows its order.
        """
        queued = 0
        by_station: dict[str, list[LiveRecord]] = {}
        for record in records:
            by_station.setdefault(record.station_id, []).append(record)
        async with self._pool.acquire() as conn:
            for station_id in sorted(by_station):
                async with conn.transaction():
                    await conn.execute(STREAM_LOCK, station_id)
                    for record in by_station[station_id]:
                        # a statement after the lock: it sees a stop committed while we waited
                        running = await conn.fetchval(
                            "SELECT status = 'open' FROM transactions WHERE id = $1",
                            record.transaction_id,
                        )
                        if not running:
                            continue
                        await conn.execute(
                            """DELETE FROM platform_outbox
                               WHERE platform_id = $1 AND coalesce_key = $2
                                 AND state <> 'sent'""",
                            platform_id,
                            record.coalesce_key,
                        )
                        await conn.execute(
                            """INSERT INTO platform_outbox (platform_id, stream, kind, data,
                                   coalesce_key, next_attempt_at, created_at)
                               VALUES ($1, $2, $3, $4, $5, $6, $6)""",
                            platform_id,
                            station_id,
                            LIVE,
                            record.data,
                            record.coalesce_key,
                            at,
                        )
                        queued += 1
        return queued

    async def enqueue(self, kind: str, stream: str, data: str, dedupe_key: str | None) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            return await enqueue(conn, kind, stream, data, dedupe_key)

    async def enqueue_for(
        self,
        platform_id: str,
        kind: str,
        stream: str,
        data: str,
        dedupe_key: str | None = None,
    ) -> int:
        """Queue a record for one platform only (a resync, a statistics period asked for
        again); with `dedupe_key`, at most once per platform."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(STREAM_LOCK, stream)
            done: str = await conn.execute(
                """INSERT INTO platform_outbox (platform_id, stream, kind, data, dedupe_key)
                   VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (platform_id, dedupe_key) WHERE dedupe_key IS NOT NULL
                   DO NOTHING""",
                platform_id,
                stream,
                kind,
                data,
                dedupe_key,
            )
        return int(done.split()[-1])

    async def set_codes(
        self, station_id: str, codes: Sequence[tuple[int, int, int]], at: datetime
    ) -> int:
        """Record (evse, connector, code) triples; changed ones are queued. Atomic."""
        changed = 0
        async with self._pool.acquire() as conn, conn.transaction():
            for evse, connector, code in codes:
                changed += int(
                    await conn.fetchval(_SET_CODE, station_id, evse, connector, code, at)
                )
        return changed

    async def resync_station(
        self,
        platform_id: str,
        station_id: str,
        codes_of: Callable[[Sequence[Any]], Sequence[tuple[int, int, int, datetime]]],
    ) -> int:
        """Tell one platform a station's connectors as they are now; records queued.

        Under the station's stream lock (statuses take it before they write), the connectors
        are read and `codes_of` maps them. A code that differs from what platforms were told is
        a change every platform hears; the others go to this platform alone.
        """
        queued = 0
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(STREAM_LOCK, station_id)
            rows = await conn.fetch(CONNECTOR_FACTS, [station_id])
            for evse, connector, code, since in codes_of(rows):
                changed = await conn.fetchval(_SET_CODE, station_id, evse, connector, code, since)
                if changed:
                    queued += 1
                    continue
                done: str = await conn.execute(
                    """INSERT INTO platform_outbox (platform_id, stream, kind, data)
                       VALUES ($1, $2, 'connector_status', jsonb_build_object(
                           'station_id', $2::text, 'evse_id', $3::integer,
                           'connector_id', $4::integer, 'code', $5::integer,
                           'at', $6::timestamptz)::text)""",
                    platform_id,
                    station_id,
                    evse,
                    connector,
                    code,
                    since,
                )
                queued += int(done.split()[-1])
        return queued

    async def codes(self, station_id: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT evse_id, connector_id, code, code_at FROM platform_connector_codes
               WHERE station_id = $1 ORDER BY evse_id, connector_id""",
            station_id,
        )
        return [dict(r) for r in rows]

    async def due(
        self, platform_id: str, now: datetime, limit: int, busy: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """The head (oldest pending record) of each stream that is due, oldest first.

        Streams with a record in flight are skipped: a stream is sent one record at a time.
        Heads are looked for among the oldest WINDOW pending records (a head found there is its
        stream's oldest); only when those yield too few is every pending record scanned.
        """
        rows = await self._pool.fetch(_DUE_WINDOW, platform_id, now, limit, list(busy), WINDOW)
        if len(rows) < limit and await self._window_full(platform_id):
            rows = await self._pool.fetch(_DUE_ALL, platform_id, now, limit, list(busy))
        return [dict(r) for r in rows]

    async def _window_full(self, platform_id: str) -> bool:
        found: int = await self._pool.fetchval(
            """SELECT count(*) FROM (SELECT 1 FROM platform_outbox
                   WHERE platform_id = $1 AND state = 'pending' LIMIT $2) w""",
            platform_id,
            WINDOW,
        )
        return found >= WINDOW

    async def mark_sent(self, record_id: int, at: datetime, answer: Any) -> bool:
        """Acknowledged: never sent again. False when it was not pending (requeued meanwhile)."""
        done: str = await self._pool.execute(
            """UPDATE platform_outbox SET state = 'sent', sent_at = $2, last_attempt_at = $2,
                   attempts = attempts + 1, last_ret = 0, last_msg = NULL, answer = $3
               WHERE id = $1 AND state = 'pending'""",
            record_id,
            at,
            answer,
        )
        return done.endswith(" 1")

    async def mark_retry(
        self, record_id: int, at: datetime, next_at: datetime, ret: int | None, msg: str
    ) -> None:
        await self._pool.execute(
            """UPDATE platform_outbox SET attempts = attempts + 1, last_attempt_at = $2,
                   next_attempt_at = $3, last_ret = $4, last_msg = $5
               WHERE id = $1 AND state = 'pending'""",
            record_id,
            at,
            next_at,
            ret,
            msg[:1000],
        )

    async def mark_failed(self, record_id: int, at: datetime, ret: int | None, msg: str) -> None:
        """Refused for good (the platform says the data is wrong, or it cannot be rendered)."""
        await self._pool.execute(
            """UPDATE platform_outbox SET state = 'failed', attempts = attempts + 1,
                   last_attempt_at = $2, last_ret = $3, last_msg = $4
               WHERE id = $1 AND state = 'pending'""",
            record_id,
            at,
            ret,
            msg[:1000],
        )

    async def requeue(self, platform_id: str, record_id: int, at: datetime) -> dict[str, Any]:
        """Send a failed record again, as a new record at the end of its stream (never ahead of
        what happened after it), once. A connector status or site information that a newer
        record of the same connector or site has superseded is refused."""
        async with self._pool.acquire() as conn, conn.transaction():
            old = await conn.fetchrow(
                f"""SELECT {_RECORD_COLUMNS} FROM platform_outbox
                    WHERE id = $2 AND platform_id = $1 FOR UPDATE""",
                platform_id,
                record_id,
            )
            if old is None:
                raise NotFound(f"platform {platform_id} has no outbox record {record_id}")
            if old["state"] != "failed":
                raise Conflict(
                    f"record {record_id} is {old['state']}; only failed ones are retried"
                )
            if old["kind"] == LIVE:
                raise Conflict(
                    f"record {record_id} is live charging data: it is not sent again, the next "
                    "interval sends the session's current state"
                )
            if old["requeued_as"] is not None:
                raise Conflict(f"record {record_id} was sent again as record {old['requeued_as']}")
            await conn.execute(STREAM_LOCK, old["stream"])
            newer = await conn.fetchval(
                """SELECT n.id FROM platform_outbox n JOIN platform_outbox o ON o.id = $2
                   WHERE n.platform_id = $1 AND n.stream = o.stream AND n.id > o.id
                     AND n.kind = o.kind AND o.kind IN ('connector_status', 'station_info')
                     AND (o.kind = 'station_info' OR (
                          n.data::jsonb -> 'evse_id' = o.data::jsonb -> 'evse_id'
                          AND n.data::jsonb -> 'connector_id' = o.data::jsonb -> 'connector_id'))
                   ORDER BY n.id LIMIT 1""",
                platform_id,
                record_id,
            )
            if newer is not None:
                raise Conflict(f"record {record_id} is superseded by the newer record {newer}")
            copy = await conn.fetchrow(
                f"""INSERT INTO platform_outbox
                        (platform_id, stream, kind, data, dedupe_key, next_attempt_at)
                    VALUES ($1, $2, $3, $4, NULL, $5) RETURNING {_RECORD_COLUMNS}""",
                platform_id,
                old["stream"],
                old["kind"],
                old["data"],
                at,
            )
            assert copy is not None
            await conn.execute(
                "UPDATE platform_outbox SET requeued_as = $2 WHERE id = $1", record_id, copy["id"]
            )
        return dict(copy)

    async def search(
        self,
        platform_id: str,
        *,
        state: str | None,
        kind: str | None,
        stream: str | None,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"""SELECT {_RECORD_COLUMNS} FROM platform_outbox
                WHERE platform_id = $1 AND ($2::text IS NULL OR state = $2)
                  AND ($3::text IS NULL OR kind = $3) AND ($4::text IS NULL OR stream = $4)
                ORDER BY id DESC LIMIT $5 OFFSET $6""",
            platform_id,
            state,
            kind,
            stream,
            limit,
            offset,
        )
        return [dict(r) for r in rows]

    async def backlog(self) -> dict[str, dict[str, Any]]:
        """Per platform: pending and failed counts and the oldest pending record's age."""
        rows = await self._pool.fetch(
            """SELECT p.id,
                   (SELECT count(*) FROM platform_outbox o
                     WHERE o.platform_id = p.id AND o.state = 'pending') AS pending,
                   (SELECT min(created_at) FROM platform_outbox o
                     WHERE o.platform_id = p.id AND o.state = 'pending') AS oldest_pending_at,
                   (SELECT count(*) FROM platform_outbox o
                     WHERE o.platform_id = p.id AND o.state = 'failed') AS failed
               FROM platforms p ORDER BY p.id"""
        )
        return {r["id"]: dict(r) for r in rows}

    async def purge_sent(self, before: datetime, live_before: datetime | None = None) -> int:
        """Drop acknowledged records older than the retention (they are never sent again);
        live charging data, a record per connector per interval, from `live_before`."""
        done: str = await self._pool.execute(
            """DELETE FROM platform_outbox
               WHERE state = 'sent' AND sent_at < GREATEST($1, COALESCE($2, $1))
                 AND sent_at < CASE WHEN kind = $3 THEN COALESCE($2, $1) ELSE $1 END""",
            before,
            live_before,
            LIVE,
        )
        return int(done.split()[-1])

    async def digests(self) -> dict[str, str]:
        rows = await self._pool.fetch("SELECT site_code, digest FROM platform_site_digests")
        return {r["site_code"]: r["digest"] for r in rows}

    async def site_changed(self, site_code: str, old: str | None, new: str, data: str) -> int:
        """Move a site's digest from `old` to `new` and queue its information, atomically; a
        node that lost the race (the digest moved meanwhile) queues nothing. Rows queued."""
        async with self._pool.acquire() as conn, conn.transaction():
            if old is None:
                moved = await conn.fetchval(
                    """INSERT INTO platform_site_digests (site_code, digest) VALUES ($1, $2)
                       ON CONFLICT (site_code) DO NOTHING RETURNING 1""",
                    site_code,
                    new,
                )
            else:
                moved = await conn.fetchval(
                    """UPDATE platform_site_digests SET digest = $3, updated_at = now()
                       WHERE site_code = $1 AND digest = $2 RETURNING 1""",
                    site_code,
                    old,
                    new,
                )
            if moved is None:
                return 0
            return await enqueue(conn, "station_info", f"site:{site_code}", data, None)


# A record never tried is due at once: its next_attempt_at is the database's now() (the column's
# default) and would wait for the CSMS clock to catch up with it where the two differ (a node
# whose clock runs behind the database host's). A retry is due when the sender said, on the
# CSMS clock that set it.
_DUE = "(attempts = 0 OR next_attempt_at <= $2)"
_DUE_WINDOW = f"""WITH w AS (
        SELECT id, stream, next_attempt_at, attempts FROM platform_outbox
        WHERE platform_id = $1 AND state = 'pending' ORDER BY id LIMIT $5
    ), heads AS (
        SELECT DISTINCT ON (stream) id, stream, next_attempt_at, attempts FROM w
        ORDER BY stream, id
    )
    SELECT {_RECORD_COLUMNS} FROM platform_outbox WHERE id IN (
        SELECT id FROM heads
        WHERE {_DUE} AND NOT (stream = ANY ($4::text[]))
        ORDER BY id LIMIT $3)
    ORDER BY id"""
_DUE_ALL = f"""SELECT {_RECORD_COLUMNS} FROM platform_outbox WHERE id IN (
        SELECT h.id FROM (
            SELECT DISTINCT ON (stream) id, stream, next_attempt_at, attempts
            FROM platform_outbox
            WHERE platform_id = $1 AND state = 'pending'
            ORDER BY stream, id
        ) h
        WHERE {_DUE} AND NOT (h.stream = ANY ($4::text[]))
        ORDER BY h.id LIMIT $3)
    ORDER BY id"""
