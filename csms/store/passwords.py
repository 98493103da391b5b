"""A station's pending (rotated) password next to its current one, and the audit of each step.

Every change is a compare-and-set on the pending hash: a late answer to one rotation never
touches another, and a handshake that already retired the old password wins over the answer
that arrives after it.
"""

from __future__ import annotations

from datetime import datetime

from csms.domain.password import PendingState
from csms.errors import Conflict, NotFound
from csms.store import audit
from csms.store.database import Pool

ACTOR_STATION = "station"  # the audit actor of what the station's own connect decided


class PasswordStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def begin(
        self, station_id: str, new_hash: str, *, actor: str, command: str, at: datetime
    ) -> None:
        """Keep `new_hash` as the station's pending password (state sent) before it is sent,
        so a station that switches at once is let in; Conflict while another is pending."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """SELECT password_hash, pending_password_state, pending_password_since
                   FROM stations WHERE id = $1 FOR UPDATE""",
                station_id,
            )
            if row is None:
                raise NotFound(f"station {station_id} does not exist")
            if row["pending_password_state"] is not None:
                raise Conflict(
                    f"station {station_id} has a password rotation pending since "
                    f"{row['pending_password_since'].isoformat()} "
                    f"({row['pending_password_state']}): it ends when the station connects "
                    f"with the new password, or with PATCH /api/v1/stations/{station_id} "
                    f"(admin) setting a password"
                )
            await conn.execute(
                """UPDATE stations SET pending_password_hash = $2, pending_password_state = $3,
                       pending_password_since = $4, updated_at = now()
                   WHERE id = $1""",
                station_id,
                new_hash,
                PendingState.SENT.value,
                at,
            )
            await audit.record(
                conn,
                at=at,
                actor=actor,
                action="password_rotation_sent",
                subject_kind="station",
                subject_id=station_id,
                detail={"command": command},
            )

    async def settle(
        self,
        station_id: str,
        new_hash: str,
        state: PendingState | None,
        *,
        actor: str,
        action: str,
        detail: dict[str, str],
        at: datetime,
    ) -> bool:
        """Set the pending password's state after the station's answer (None: drop it, the old
        password stays the only one). False when it is no longer pending: the station already
        connected with it, or an operator set a password meanwhile."""
        async with self._pool.acquire() as conn, conn.transaction():
            if state is None:
                changed = await conn.fetchval(
                    """UPDATE stations SET pending_password_hash = NULL,
                           pending_password_state = NULL, pending_password_since = NULL,
                           updated_at = now()
                       WHERE id = $1 AND pending_password_hash = $2 RETURNING true""",
                    station_id,
                    new_hash,
                )
            else:
                changed = await conn.fetchval(
                    """UPDATE stations SET pending_password_state = $3, updated_at = now()
                       WHERE id = $1 AND pending_password_hash = $2 RETURNING true""",
                    station_id,
                    new_hash,
                    state.value,
                )
            if not changed:
                return False
            await audit.record(
                conn,
                at=at,
                actor=actor,
                action=action,
                subject_kind="station",
                subject_id=station_id,
                detail=detail,
            )
            return True

    async def retire_old(self, station_id: str, new_hash: str, at: datetime) -> bool:
        """The station connected with the pending password: it becomes the only one."""
        async with self._pool.acquire() as conn, conn.transaction():
            changed = await conn.fetchval(
                """UPDATE stations SET password_hash = pending_password_hash,
                       pending_password_hash = NULL, pending_password_state = NULL,
                       pending_password_since = NULL, updated_at = now()
                   WHERE id = $1 AND pending_password_hash = $2 RETURNING true""",
                station_id,
                new_hash,
            )
            if changed:
                await audit.record(
                    conn,
                    at=at,
                    actor=ACTOR_STATION,
                    action="password_rotated",
                    subject_kind="station",
                    subject_id=station_id,
                    detail={"retired": "the previous password"},
                )
            return bool(changed)
