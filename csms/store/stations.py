"""Stations, their connections, presence and connector status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from csms.domain.scope import Scope
from csms.domain.station import AdminState, BootInfo, ConnectorStatus, StationAuth
from csms.domain.version import OcppVersion
from csms.errors import Conflict, NotFound
from csms.store import audit, platform_outbox
from csms.store.database import Pool
from csms.store.scope_sql import scope_args, station_in_scope

_AUTH_COLUMNS = (
    "id, admin_state, password_hash, security_profile, decommissioned_at IS NOT NULL AS retired, "
    "pending_password_hash, pending_password_state, pending_password_since"
)
METADATA_COLUMNS = (
    "county",
    "site_name",
    "address",
    "latitude",
    "longitude",
    "notes",
    "operator_id",
    "owner_unit",
    "rated_power_kw",
    "meter_cert_number",
    "meter_cert_expires_on",
)
_LIST_COLUMNS = """s.id, s.admin_state, s.ocpp_version, s.vendor, s.model, s.serial_number,
    s.firmware_version, s.connected, s.node_id, s.connected_at, s.disconnected_at,
    s.last_seen_at, s.last_heartbeat_at, s.offline_reason, s.last_boot_status,
    s.password_hash IS NOT NULL AS has_password, s.security_profile, s.county, s.site_name,
    s.address, s.latitude, s.longitude, s.notes, s.firmware_status, s.created_at,
    s.operator_id, s.owner_unit, s.rated_power_kw, s.meter_cert_number, s.meter_cert_expires_on,
    s.decommissioned_at, s.decommissioned_by, s.decommission_reason,
    EXISTS (SELECT 1 FROM lockouts l WHERE l.station_id = s.id AND l.lifted_at IS NULL) AS locked,
    (SELECT jsonb_build_object('id', l.id, 'hazard', l.hazard, 'locked_by', l.locked_by,
                               'locked_at', l.locked_at)
     FROM lockouts l WHERE l.station_id = s.id AND l.lifted_at IS NULL) AS lockout"""


def _auth(row: Any) -> StationAuth:
    return StationAuth(
        station_id=row["id"],
        admin_state=AdminState(row["admin_state"]),
        password_hash=row["password_hash"],
        security_profile=row["security_profile"],
        decommissioned=row["retired"],
        pending_password_hash=row["pending_password_hash"],
        pending_password_state=row["pending_password_state"],
        pending_password_since=row["pending_password_since"],
    )


class StationStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def get_auth(self, station_id: str) -> StationAuth | None:
        row = await self._pool.fetchrow(
            f"SELECT {_AUTH_COLUMNS} FROM stations WHERE id = $1", station_id
        )
        return None if row is None else _auth(row)

    async def admit(self, station_id: str, *, create: bool) -> StationAuth | None:
        """The station for the handshake, created first when `create` and unknown.

        One round trip either way; handshakes of a boot storm arrive by the thousand. Only when
        two first connects of one new station race does the loser need a second: its INSERT
        waits for the winner's, but its SELECT reads a snapshot taken before that committed.
        """
        if not create:
            return await self.get_auth(station_id)
        row = await self._pool.fetchrow(
            f"""WITH created AS (
                    INSERT INTO stations (id) VALUES ($1) ON CONFLICT (id) DO NOTHING
                    RETURNING {_AUTH_COLUMNS}
                )
                SELECT * FROM created
                UNION ALL
                SELECT {_AUTH_COLUMNS} FROM stations WHERE id = $1
                LIMIT 1""",
            station_id,
        )
        return await self.get_auth(station_id) if row is None else _auth(row)

    async def create(
        self,
        station_id: str,
        *,
        password_hash: str | None = None,
        admin_state: AdminState = AdminState.ACTIVE,
        security_profile: int | None = None,
    ) -> tuple[StationAuth, bool]:
        """Create the station unless it exists; return it and whether it was created."""
        row = await self._pool.fetchrow(
            f"""INSERT INTO stations (id, password_hash, admin_state, security_profile)
                VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING {_AUTH_COLUMNS}""",
            station_id,
            password_hash,
            admin_state.value,
            security_profile,
        )
        if row is not None:
            return _auth(row), True
        existing = await self.get_auth(station_id)
        if existing is None:  # deleted between the two statements
            raise NotFound(f"station {station_id} vanished while being created")
        return existing, False

    async def update_auth(
        self,
        station_id: str,
        *,
        password_hash: str | None = None,
        clear_password: bool = False,
        admin_state: AdminState | None = None,
        security_profile: int | None = None,
    ) -> StationAuth:
        row = await self._pool.fetchrow(
            f"""UPDATE stations SET
                    password_hash = CASE WHEN $2 THEN NULL ELSE COALESCE($3, password_hash) END,
                    -- an operator's own password ends any rotation in progress
                    pending_password_hash = CASE WHEN $2 OR $3 IS NOT NULL THEN NULL
                                                 ELSE pending_password_hash END,
                    pending_password_state = CASE WHEN $2 OR $3 IS NOT NULL THEN NULL
                                                  ELSE pending_password_state END,
                    pending_password_since = CASE WHEN $2 OR $3 IS NOT NULL THEN NULL
                                                  ELSE pending_password_since END,
                    admin_state = COALESCE($4, admin_state),
                    security_profile = COALESCE($5, security_profile),
                    updated_at = now()
                WHERE id = $1 RETURNING {_AUTH_COLUMNS}""",
            station_id,
            clear_password,
            password_hash,
            admin_state.value if admin_state else None,
            security_profile,
        )
        if row is None:
            raise NotFound(f"station {station_id} does not exist")
        return _auth(row)

    async def search(
        self,
        *,
        connected: bool | None = None,
        status: str | None = None,
        county: str | None = None,
        admin_state: str | None = None,
        include_decommissioned: bool = False,
        limit: int = 100,
        offset: int = 0,
        scope: Scope | None = None,
    ) -> list[dict[str, Any]]:
        """Stations for the operator list; `status` matches any connector's current status.
        Decommissioned stations only when asked for; only those in `scope` (None: all)."""
        rows = await self._pool.fetch(
            f"""SELECT {_LIST_COLUMNS} FROM stations s
                WHERE ($1::boolean IS NULL OR s.connected = $1)
                  AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM connectors c
                        WHERE c.station_id = s.id AND c.status = $2))
                  AND ($3::text IS NULL OR s.county = $3)
                  AND ($4::text IS NULL OR s.admin_state = $4)
                  AND ($7::boolean OR s.decommissioned_at IS NULL)
                  AND {station_in_scope("s.id", 8, 9)}
                ORDER BY s.id LIMIT $5 OFFSET $6""",
            connected,
            status,
            county,
            admin_state,
            limit,
            offset,
            include_decommissioned,
            *scope_args(scope),
        )
        return [dict(r) for r in rows]

    async def update_metadata(self, station_id: str, fields: dict[str, Any]) -> None:
        """Set registration metadata columns (only those named in METADATA_COLUMNS)."""
        unknown = set(fields) - set(METADATA_COLUMNS)
        if unknown:
            raise ValueError(f"not metadata: {sorted(unknown)}")
        if not fields:
            return
        names = list(fields)
        assignments = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(names))
        status: str = await self._pool.execute(
            f"UPDATE stations SET {assignments}, updated_at = now() WHERE id = $1",
            station_id,
            *(fields[n] for n in names),
        )
        if status.endswith(" 0"):
            raise NotFound(f"station {station_id} does not exist")

    async def all(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT id, admin_state, ocpp_version, vendor, model, connected, node_id,
                      connected_at, disconnected_at, last_seen_at, offline_reason,
                      password_hash IS NOT NULL AS has_password, security_profile,
                      decommissioned_at
               FROM stations ORDER BY id"""
        )
        return [dict(r) for r in rows]

    async def get(self, station_id: str, *, scope: Scope | None = None) -> dict[str, Any] | None:
        """The station; None when it does not exist or is outside `scope` (None: anywhere)."""
        row = await self._pool.fetchrow(
            f"""SELECT {_LIST_COLUMNS} FROM stations s
                WHERE s.id = $1 AND {station_in_scope("s.id", 2, 3)}""",
            station_id,
            *scope_args(scope),
        )
        return None if row is None else dict(row)

    async def in_scope(self, station_id: str, scope: Scope) -> bool:
        """Whether the station exists and is in `scope`."""
        return bool(
            await self._pool.fetchval(
                f"SELECT EXISTS (SELECT 1 FROM stations s WHERE s.id = $1 AND "
                f"{station_in_scope('s.id', 2, 3)})",
                station_id,
                *scope_args(scope),
            )
        )

    async def ids_in_scope(self, scope: Scope) -> frozenset[str]:
        """The ids of the stations in `scope` (the live event feed of a scoped account)."""
        rows = await self._pool.fetch(
            f"SELECT s.id FROM stations s WHERE {station_in_scope('s.id', 1, 2)}",
            *scope_args(scope),
        )
        return frozenset(r["id"] for r in rows)

    async def record_boot(
        self,
        station_id: str,
        info: BootInfo,
        status_by_state: dict[str, str],
        version: OcppVersion,
        at: datetime,
    ) -> AdminState | None:
        """Store the boot and the status it is answered with, in one round trip (boot storms):
        `status_by_state` maps each administrative state to its answer (the domain's rule), and
        the station's current state picks. Returns that state; None for an unknown station."""
        state: str | None = await self._pool.fetchval(
            """UPDATE stations SET vendor = $2, model = $3, serial_number = $4,
                   firmware_version = $5, iccid = $6, imsi = $7, meter_type = $8,
                   meter_serial_number = $9, boot_reason = $10, last_boot_at = $11,
                   last_boot_status = $12::jsonb ->> admin_state, ocpp_version = $13,
                   last_seen_at = $11, updated_at = now()
               WHERE id = $1 RETURNING admin_state""",
            station_id,
            info.vendor,
            info.model,
            info.serial_number,
            info.firmware_version,
            info.iccid,
            info.imsi,
            info.meter_type,
            info.meter_serial_number,
            info.reason,
            at,
            status_by_state,
            version.value,
        )
        return None if state is None else AdminState(state)

    async def connected(
        self,
        station_id: str,
        *,
        node_id: str,
        version: OcppVersion | None,
        remote_address: str | None,
        at: datetime,
    ) -> int:
        """Record a new WebSocket session and make it the station's current one; return its id.

        One statement (one round trip, atomic): a boot storm makes thousands of these at once.
        A slower, older connection must not overwrite a newer one's claim.
        """
        connection_id: int = await self._pool.fetchval(
            """WITH session AS (
                   INSERT INTO station_connections
                       (station_id, node_id, subprotocol, remote_address, connected_at)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id
               ), claim AS (
                   UPDATE stations SET connected = true, node_id = $2,
                       connection_id = (SELECT id FROM session), connected_at = $5,
                       last_seen_at = $5, offline_reason = NULL,
                       ocpp_version = COALESCE($6, ocpp_version), updated_at = now()
                   WHERE id = $1 AND (connected_at IS NULL OR connected_at <= $5)
               )
               SELECT id FROM session""",
            station_id,
            node_id,
            version.subprotocol if version else None,
            remote_address,
            at,
            version.value if version else None,
        )
        return connection_id

    async def disconnected(
        self,
        station_id: str,
        connection_id: int,
        *,
        at: datetime,
        code: int | None,
        reason: str,
    ) -> None:
        """Close the session record; the station goes offline only if this was its current one.

        The station row also forgets the connection id, so a presence flush still carrying it
        (read from the registry before the socket closed) can no longer mark it connected.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            went: bool = await conn.fetchval(
                _DISCONNECTED, station_id, connection_id, at, code, reason
            )
            if went:
                # platforms learn "offline" in the transaction that records it
                await platform_outbox.stations_offline(conn, [station_id], at)

    async def release_node(self, node_id: str, at: datetime) -> int:
        """Mark every station this node claimed as disconnected (after a crash or at shutdown)."""
        return await release(self._pool, "node restarted", at, node_id=node_id)

    async def touch(
        self, seen: Sequence[tuple[str, datetime, datetime | None, int | None]], node_id: str
    ) -> None:
        """Write last-seen / last-heartbeat times of many stations in one statement.

        A station whose current connection is one of ours is also marked connected to this node
        again, and that connection's record reopened: that undoes a release by another node
        that wrongly thought this one dead. Only the row's connection id decides, and a
        disconnect clears it in the same row, so a flush racing the disconnect of the very
        connection it carries cannot bring it back (rows are locked, then re-read). Sorted,
        so two flushes lock stations in one order.
        """
        if not seen:
            return
        rows = sorted(seen, key=lambda s: s[0])
        await self._pool.execute(
            _TOUCH,
            [s[0] for s in rows],
            [s[1] for s in rows],
            [s[2] for s in rows],
            [s[3] for s in rows],
            node_id,
        )

    async def decommission(
        self, station_id: str, *, by: str, reason: str | None, force: bool, at: datetime
    ) -> list[int]:
        """Mark the station decommissioned and audit it, in one transaction; return the ids of
        its open transactions, which stay open (a stop the station still sends after it is
        re-commissioned closes them; nothing is invented for them here).

        NotFound for an unknown station; Conflict when it is already decommissioned, or has
        open transactions and not `force`. The row is locked first: a start being written
        for the station (its foreign key) waits for this, so none slips past the check.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT decommissioned_at FROM stations WHERE id = $1 FOR UPDATE", station_id
            )
            if row is None:
                raise NotFound(f"station {station_id} does not exist")
            if row["decommissioned_at"] is not None:
                raise Conflict(
                    f"station {station_id} was already decommissioned at "
                    f"{row['decommissioned_at'].isoformat()}"
                )
            open_ids: list[int] = [
                r["id"]
                for r in await conn.fetch(
                    """SELECT id FROM transactions WHERE station_id = $1 AND status = 'open'
                       ORDER BY id""",
                    station_id,
                )
            ]
            if open_ids and not force:
                raise Conflict(
                    f"station {station_id} has open transactions {open_ids}: stop them first, "
                    "or decommission with force=true (they stay open)"
                )
            await conn.execute(
                """UPDATE stations SET decommissioned_at = $2, decommissioned_by = $3,
                       decommission_reason = $4, updated_at = now()
                   WHERE id = $1""",
                station_id,
                at,
                by,
                reason,
            )
            await audit.record(
                conn,
                at=at,
                actor=by,
                action="station.decommission",
                subject_kind="station",
                subject_id=station_id,
                detail={"reason": reason, "force": force, "open_transactions": open_ids},
            )
        return open_ids

    async def recommission(
        self, station_id: str, *, by: str, reason: str | None, at: datetime
    ) -> None:
        """Put a decommissioned station back in service (it may connect again), audited with
        the decommissioning it ends. NotFound; Conflict when it is in service."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """SELECT decommissioned_at, decommissioned_by, decommission_reason
                   FROM stations WHERE id = $1 FOR UPDATE""",
                station_id,
            )
            if row is None:
                raise NotFound(f"station {station_id} does not exist")
            if row["decommissioned_at"] is None:
                raise Conflict(f"station {station_id} is in service (not decommissioned)")
            await conn.execute(
                """UPDATE stations SET decommissioned_at = NULL, decommissioned_by = NULL,
                       decommission_reason = NULL, updated_at = now()
                   WHERE id = $1""",
                station_id,
            )
            await audit.record(
                conn,
                at=at,
                actor=by,
                action="station.recommission",
                subject_kind="station",
                subject_id=station_id,
                detail={
                    "reason": reason,
                    "decommissioned_at": row["decommissioned_at"],
                    "decommissioned_by": row["decommissioned_by"],
                    "decommission_reason": row["decommission_reason"],
                },
            )

    async def decommissioned_here(self, node_id: str) -> list[str]:
        """Stations connected to this node although decommissioned (by another node, or by
        the CLI): their sockets are to be closed."""
        rows = await self._pool.fetch(
            """SELECT id FROM stations
               WHERE node_id = $1 AND connected AND decommissioned_at IS NOT NULL""",
            node_id,
        )
        return [r["id"] for r in rows]

    async def admin_states(self, node_id: str, also: list[str]) -> dict[str, AdminState]:
        rows = await self._pool.fetch(
            """SELECT id, admin_state FROM stations
               WHERE (node_id = $1 AND connected AND admin_state <> 'active')
                  OR id = ANY($2::text[])""",
            node_id,
            also,
        )
        return {r["id"]: AdminState(r["admin_state"]) for r in rows}

    async def record_status(
        self,
        station_id: str,
        status: ConnectorStatus,
        received_at: datetime,
        platform_code: int | None = None,
    ) -> None:
        """Keep the newest status per connector (by station time) and every status in history.

        With `platform_code` (monitoring platforms are configured) the same statement records
        the connector's T/CEC status code and queues a push when it changed.
        """
        where = status.where
        args = (
            station_id,
            where.evse_id,
            where.connector_id,
            status.status,
            status.error_code,
            status.info,
            status.vendor_error_code,
            status.timestamp,
            received_at,
            status.vendor_id,
        )
        # one statement: atomic and a single round trip (boot storms send thousands)
        if platform_code is None:
            await self._pool.execute(_RECORD_STATUS, *args)
        else:
            await self._pool.execute(_RECORD_STATUS_AND_CODE, *args, platform_code)

    async def connectors(self, station_id: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT evse_id, connector_id, status, error_code, info, status_at
               FROM connectors WHERE station_id = $1 ORDER BY evse_id, connector_id""",
            station_id,
        )
        return [dict(r) for r in rows]

    async def set_progress(self, station_id: str, kind: str, status: str, at: datetime) -> None:
        """Firmware, diagnostics or log upload progress as last reported."""
        column = {"firmware": "firmware", "diagnostics": "diagnostics", "log": "log"}[kind]
        await self._pool.execute(
            f"""UPDATE stations SET {column}_status = $2, {column}_status_at = $3,
                    updated_at = now()
                WHERE id = $1""",
            station_id,
            status,
            at,
        )


async def release(
    pool: Pool,
    reason: str,
    at: datetime | None,
    *,
    node_id: str | None = None,
    dead_after: float | None = None,
) -> int:
    """Mark connected stations disconnected: those claimed by `node_id`, or by any node silent
    for `dead_after` seconds; `at` None is the database's now. Returns how many.

    In batches: each batch's release and the offline codes platforms are told go in one
    transaction, which holds one stream lock per station until it commits. The station keeps
    its connection id, so a node wrongly judged dead can claim it again (see `touch`).
    Then the node's other open connection records are closed: sockets a newer connection of
    the station replaced, whose own close the node did not live to record.
    """
    total = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            released = await conn.fetch(
                """WITH batch AS (
                       SELECT id, connection_id FROM stations
                       WHERE connected AND (node_id = $1 OR node_id IN (
                           SELECT node_id FROM nodes
                           WHERE last_seen < now() - make_interval(secs => $2)))
                       ORDER BY id LIMIT $5 FOR UPDATE
                   ), closed AS (
                       UPDATE station_connections c
                       SET disconnected_at = COALESCE($3, now()), close_reason = $4
                       FROM batch b WHERE c.id = b.connection_id AND c.disconnected_at IS NULL
                   )
                   UPDATE stations s SET connected = false,
                       disconnected_at = COALESCE($3, now()), offline_reason = $4,
                       updated_at = now()
                   FROM batch b WHERE s.id = b.id RETURNING s.id, s.disconnected_at""",
                node_id,
                dead_after,
                at,
                reason,
                platform_outbox.OFFLINE_BATCH,
            )
            if released:
                await platform_outbox.stations_offline(
                    conn, [r["id"] for r in released], released[0]["disconnected_at"]
                )
        total += len(released)
        if len(released) < platform_outbox.OFFLINE_BATCH:
            break
    await pool.execute(_CLOSE_LEFT_OPEN, node_id, dead_after, at, reason)
    return total


# One statement, station row first and then the connection record (as `touch` and `release`
# lock them): whether the station was connected through this connection decides the offline
# record; the connection record is closed either way.
_DISCONNECTED = """WITH current AS (
        SELECT id, connected FROM stations WHERE id = $1 AND connection_id = $2 FOR UPDATE
    ), went AS (
        UPDATE stations s SET connected = false, connection_id = NULL,
            disconnected_at = CASE WHEN c.connected THEN $3 ELSE s.disconnected_at END,
            offline_reason = CASE WHEN c.connected THEN $5 ELSE s.offline_reason END,
            updated_at = now()
        FROM current c WHERE s.id = c.id
        RETURNING c.connected
    ), closed AS (
        UPDATE station_connections SET disconnected_at = $3, close_code = $4, close_reason = $5
        WHERE id = $2 AND disconnected_at IS NULL AND (SELECT count(*) FROM went) >= 0
    )
    SELECT COALESCE((SELECT connected FROM went), false)"""
# Re-asserting is decided on the station row alone: a concurrent disconnect's update is waited
# for and the row re-read (READ COMMITTED), and by then its connection id is gone.
_TOUCH = """WITH touched AS (
        UPDATE stations s SET
            last_seen_at = GREATEST(s.last_seen_at, v.seen),
            last_heartbeat_at = COALESCE(GREATEST(s.last_heartbeat_at, v.heartbeat),
                                         s.last_heartbeat_at),
            connected = s.connected OR COALESCE(s.connection_id = v.cid, false),
            node_id = CASE WHEN s.connection_id = v.cid THEN $5 ELSE s.node_id END,
            offline_reason = CASE WHEN s.connection_id = v.cid THEN NULL
                                  ELSE s.offline_reason END
        FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::bigint[])
             AS v(id, seen, heartbeat, cid)
        WHERE s.id = v.id
        RETURNING CASE WHEN s.connection_id = v.cid THEN v.cid END AS ours
    )
    UPDATE station_connections SET disconnected_at = NULL, close_code = NULL, close_reason = NULL
    WHERE id = ANY (ARRAY(SELECT ours FROM touched WHERE ours IS NOT NULL))
      AND disconnected_at IS NOT NULL"""
# Open records of a released node (or of every dead one); skipped outright when there is none.
_CLOSE_LEFT_OPEN = """WITH dead AS (
        SELECT node_id FROM nodes WHERE last_seen < now() - make_interval(secs => $2)
    ), left_open AS (
        SELECT id FROM station_connections
        WHERE disconnected_at IS NULL
          AND ($1::text IS NOT NULL OR EXISTS (SELECT 1 FROM dead))
          AND (node_id = $1 OR node_id IN (SELECT node_id FROM dead))
        ORDER BY id FOR UPDATE
    )
    UPDATE station_connections c SET disconnected_at = COALESCE($3, now()), close_reason = $4
    FROM left_open o WHERE c.id = o.id"""
_STATUS_HISTORY = """INSERT INTO status_history (station_id, evse_id, connector_id, status,
        error_code, info, vendor_error_code, status_at, received_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"""
_CONNECTOR_UPSERT = """INSERT INTO connectors (station_id, evse_id, connector_id, status,
        error_code, info, vendor_error_code, status_at, received_at, vendor_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE SET
        status = EXCLUDED.status, error_code = EXCLUDED.error_code,
        info = EXCLUDED.info, vendor_error_code = EXCLUDED.vendor_error_code,
        vendor_id = EXCLUDED.vendor_id, status_at = EXCLUDED.status_at,
        received_at = EXCLUDED.received_at
    WHERE connectors.status_at <= EXCLUDED.status_at"""
_RECORD_STATUS = f"WITH history AS ({_STATUS_HISTORY}) {_CONNECTOR_UPSERT}"
# The code follows only a status that became the connector's newest (a stale one is history).
# 2.0.1 says Occupied whether charging or not; an open transaction that is Charging makes it 3.
_OCCUPIED_CODE = """CASE WHEN $4 = 'Occupied' AND EXISTS (
        SELECT 1 FROM transactions t WHERE t.station_id = $1 AND t.evse_id = $2
          AND t.status = 'open' AND t.charging_state = 'Charging')
    THEN 3 ELSE $11::smallint END"""
# With platforms: the station's stream lock first, so a resync reading the connectors under
# that lock never misses a status being written.
_RECORD_STATUS_AND_CODE = f"""WITH first_lock AS (
        SELECT pg_advisory_xact_lock({platform_outbox.STREAM_LOCK_CLASS}, hashtext($1::text))
    ), history AS (
        INSERT INTO status_history (station_id, evse_id, connector_id, status, error_code,
            info, vendor_error_code, status_at, received_at)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM first_lock
    ), newest AS (
        INSERT INTO connectors (station_id, evse_id, connector_id, status, error_code, info,
            vendor_error_code, status_at, received_at, vendor_id)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM first_lock
        ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE SET
            status = EXCLUDED.status, error_code = EXCLUDED.error_code,
            info = EXCLUDED.info, vendor_error_code = EXCLUDED.vendor_error_code,
            vendor_id = EXCLUDED.vendor_id, status_at = EXCLUDED.status_at,
            received_at = EXCLUDED.received_at
        WHERE connectors.status_at <= EXCLUDED.status_at
        RETURNING 1
    ), {
    platform_outbox.code_ctes(
        "$1::text",
        "$2::integer",
        "$3::integer",
        _OCCUPIED_CODE,
        "$9::timestamptz",
        guard="EXISTS (SELECT 1 FROM newest)",
    )
}
    SELECT 1"""
