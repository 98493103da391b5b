"""The durable outbox of platform pushes: written with the event, sent in order, never lost.

Each record is one row per enabled platform that takes its kind, inserted in the transaction
of the event that causes it. A stream (a charging station, or a site) is sent one record at a
time in id order; a record stays pending until the platform acknowledges it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from csms.errors import Conflict, NotFound
from csms.store.database import Pool

KINDS = ("station_info", "connector_status", "charge_order", "station_stats")
STATES = ("pending", "sent", "failed")
_RECORD_COLUMNS = """id, platform_id, stream, kind, dedupe_key, data, state, attempts,
    next_attempt_at, created_at, last_attempt_at, sent_at, last_ret, last_msg, answer"""

# Fan a record out to every enabled platform that takes its kind ($1 kind, $2 stream, $3 data,
# $4 dedupe key); a dedupe key already queued for a platform is not queued again.
_ENQUEUE = """INSERT INTO platform_outbox (platform_id, stream, kind, data, dedupe_key)
    SELECT p.id, $2, $1, $3, $4 FROM platforms p WHERE p.enabled AND $1 = ANY (p.kinds)
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
    return f"""code_change AS (
        INSERT INTO platform_connector_codes AS c
            (station_id, evse_id, connector_id, code, code_at)
        SELECT {station}, {evse}, {connector}, {code}, {at}
        WHERE {guard} AND {evse} > 0 AND EXISTS (
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
        WHERE p.enabled AND 'connector_status' = ANY (p.kinds)
    )"""


_SET_CODE = f"WITH {code_ctes('$1', '$2', '$3', '$4', '$5')} SELECT count(*) FROM code_change"

# A station that goes offline: every connector platforms were told about becomes 0.
_OFFLINE = """WITH code_change AS (
        UPDATE platform_connector_codes SET code = 0, code_at = $2
        WHERE station_id = ANY ($1::text[]) AND code <> 0 AND code_at <= $2
        RETURNING station_id, evse_id, connector_id, code, code_at
    )
    INSERT INTO platform_outbox (platform_id, stream, kind, data)
    SELECT p.id, x.station_id, 'connector_status', jsonb_build_object(
            'station_id', x.station_id, 'evse_id', x.evse_id,
            'connector_id', x.connector_id, 'code', x.code, 'at', x.code_at)::text
    FROM code_change x CROSS JOIN platforms p
    WHERE p.enabled AND 'connector_status' = ANY (p.kinds)
    ORDER BY x.station_id, x.evse_id, x.connector_id"""


async def enqueue(conn: Any, kind: str, stream: str, data: str, dedupe_key: str | None) -> int:
    """Queue a record on `conn` (inside the caller's transaction); the rows queued."""
    done: str = await conn.execute(_ENQUEUE, kind, stream, data, dedupe_key)
    return int(done.split()[-1])


async def stations_offline(conn: Any, station_ids: Sequence[str], at: datetime) -> None:
    """Queue code 0 for every known connector of the stations (in the caller's transaction)."""
    if station_ids:
        await conn.execute(_OFFLINE, list(station_ids), at)


class OutboxStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def enqueue(self, kind: str, stream: str, data: str, dedupe_key: str | None) -> int:
        return await enqueue(self._pool, kind, stream, data, dedupe_key)

    async def enqueue_for(self, platform_id: str, kind: str, stream: str, data: str) -> int:
        """Queue a record for one platform only (a resync)."""
        done: str = await self._pool.execute(
            """INSERT INTO platform_outbox (platform_id, stream, kind, data)
               VALUES ($1, $2, $3, $4)""",
            platform_id,
            stream,
            kind,
            data,
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
        """
        rows = await self._pool.fetch(
            f"""SELECT {_RECORD_COLUMNS} FROM platform_outbox WHERE id IN (
                    SELECT h.id FROM (
                        SELECT DISTINCT ON (stream) id, stream, next_attempt_at
                        FROM platform_outbox
                        WHERE platform_id = $1 AND state = 'pending'
                        ORDER BY stream, id
                    ) h
                    WHERE h.next_attempt_at <= $2 AND NOT (h.stream = ANY ($4::text[]))
                    ORDER BY h.id LIMIT $3)
                ORDER BY id""",
            platform_id,
            now,
            limit,
            list(busy),
        )
        return [dict(r) for r in rows]

    async def next_due_at(self, platform_id: str) -> datetime | None:
        """When the earliest stream head becomes due (None: nothing pending)."""
        found: datetime | None = await self._pool.fetchval(
            """SELECT min(next_attempt_at) FROM (
                   SELECT DISTINCT ON (stream) next_attempt_at FROM platform_outbox
                   WHERE platform_id = $1 AND state = 'pending' ORDER BY stream, id) h""",
            platform_id,
        )
        return found

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
        """A failed record goes back to pending (after the operator fixed the cause)."""
        row = await self._pool.fetchrow(
            f"""UPDATE platform_outbox SET state = 'pending', next_attempt_at = $3
                WHERE id = $2 AND platform_id = $1 AND state = 'failed'
                RETURNING {_RECORD_COLUMNS}""",
            platform_id,
            record_id,
            at,
        )
        if row is not None:
            return dict(row)
        found = await self._pool.fetchval(
            "SELECT state FROM platform_outbox WHERE id = $2 AND platform_id = $1",
            platform_id,
            record_id,
        )
        if found is None:
            raise NotFound(f"platform {platform_id} has no outbox record {record_id}")
        raise Conflict(f"record {record_id} is {found}; only failed records can be retried")

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

    async def sent_sequence(self, platform_id: str) -> list[dict[str, Any]]:
        """Every sent record in send order (sent_at, then id): for audits and tests."""
        rows = await self._pool.fetch(
            f"""SELECT {_RECORD_COLUMNS} FROM platform_outbox
                WHERE platform_id = $1 AND state = 'sent' ORDER BY sent_at, id""",
            platform_id,
        )
        return [dict(r) for r in rows]

    async def purge_sent(self, before: datetime) -> int:
        """Drop acknowledged records older than the retention (they are never sent again)."""
        done: str = await self._pool.execute(
            "DELETE FROM platform_outbox WHERE state = 'sent' AND sent_at < $1", before
        )
        return int(done.split()[-1])

    async def digests(self) -> dict[str, str]:
        rows = await self._pool.fetch("SELECT site_code, digest FROM platform_site_digests")
        return {r["site_code"]: r["digest"] for r in rows}

    async def site_changed(self, site_code: str, digest: str, data: str) -> int:
        """Record a site's new digest and queue its information, atomically; rows queued."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO platform_site_digests (site_code, digest, updated_at)
                   VALUES ($1, $2, now())
                   ON CONFLICT (site_code) DO UPDATE SET digest = $2, updated_at = now()""",
                site_code,
                digest,
            )
            return await enqueue(conn, "station_info", f"site:{site_code}", data, None)

    async def forget_digests(self) -> None:
        """Make the next comparison push every site again (a resync)."""
        await self._pool.execute("DELETE FROM platform_site_digests")
