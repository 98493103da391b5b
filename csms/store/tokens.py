"""Id tokens: the store Authorize answers from. A deleted token is kept (soft delete) for the
sessions that name it, and answers as unknown; creating its id again revives the row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.clock import utcnow
from csms.domain.token import IdToken
from csms.errors import Conflict, NotFound
from csms.store import audit
from csms.store.database import Pool

SYSTEM = "system"  # the actor of changes no operator asked for by name
_COLUMNS = "id_token, token_type, group_id, expires_at, blocked, deleted_at"
# Creating a token whose id was deleted revives that row with the new settings; `xmax` is
# non-zero exactly when ON CONFLICT updated an existing row.
_REVIVE = """ON CONFLICT (id_token) DO UPDATE SET token_type = EXCLUDED.token_type,
        group_id = EXCLUDED.group_id, expires_at = EXCLUDED.expires_at,
        blocked = EXCLUDED.blocked, note = EXCLUDED.note, deleted_at = NULL,
        deleted_by = NULL, created_at = now(), updated_at = now()"""


def _settings(token: IdToken, note: str | None) -> tuple[object, ...]:
    """$1..$6 of every statement that writes a token's settings."""
    return (token.id_token, token.token_type, token.group_id, token.expires_at, token.blocked, note)


def _token(row: Any) -> IdToken:
    return IdToken(
        id_token=row["id_token"],
        token_type=row["token_type"],
        group_id=row["group_id"],
        expires_at=row["expires_at"],
        blocked=row["blocked"],
        deleted_at=row["deleted_at"],
    )


class TokenStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def get(self, id_token: str) -> IdToken | None:
        """The live token (None when unknown or deleted): what authorization sees."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM id_tokens WHERE id_token = $1 AND deleted_at IS NULL",
            id_token,
        )
        return None if row is None else _token(row)

    async def find(self, id_token: str) -> IdToken | None:
        """The token, deleted or not (operators read a deleted one's history)."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM id_tokens WHERE id_token = $1", id_token
        )
        return None if row is None else _token(row)

    async def create(
        self,
        token: IdToken,
        note: str | None = None,
        *,
        by: str = SYSTEM,
        at: datetime | None = None,
    ) -> IdToken | None:
        """Insert a new token (audited as token.create), or revive a deleted one with these
        settings (token.recreate); None when a live token with that id exists."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"""INSERT INTO id_tokens (id_token, token_type, group_id, expires_at, blocked,
                        note)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    {_REVIVE} WHERE id_tokens.deleted_at IS NOT NULL
                    RETURNING {_COLUMNS}, xmax::text <> '0' AS revived""",
                *_settings(token, note),
            )
            if row is None:
                return None
            if row["revived"]:
                await _audit_revival(conn, token.id_token, by, at)
            else:
                await _audit_settings(conn, "token.create", token, note, by, at)
        return _token(row)

    async def put(
        self,
        token: IdToken,
        note: str | None = None,
        *,
        by: str = SYSTEM,
        at: datetime | None = None,
    ) -> IdToken:
        """Create or replace a token's settings; a deleted one is revived (audited)."""
        async with self._pool.acquire() as conn, conn.transaction():
            revived = await conn.fetchval(
                "SELECT deleted_at IS NOT NULL FROM id_tokens WHERE id_token = $1 FOR UPDATE",
                token.id_token,
            )
            row = await conn.fetchrow(
                f"""INSERT INTO id_tokens (id_token, token_type, group_id, expires_at, blocked,
                        note)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT (id_token) DO UPDATE SET token_type = EXCLUDED.token_type,
                        group_id = EXCLUDED.group_id, expires_at = EXCLUDED.expires_at,
                        blocked = EXCLUDED.blocked,
                        note = COALESCE(EXCLUDED.note, id_tokens.note),
                        deleted_at = NULL, deleted_by = NULL, updated_at = now()
                    RETURNING {_COLUMNS}""",
                *_settings(token, note),
            )
            if revived:
                await _audit_revival(conn, token.id_token, by, at)
        return _token(row)

    async def update(
        self,
        token: IdToken,
        note: str | None = None,
        *,
        by: str = SYSTEM,
        at: datetime | None = None,
    ) -> IdToken | None:
        """Replace a live token's settings (audited as token.update with the new settings);
        None when it does not exist or was deleted (a PATCH racing a DELETE must not bring
        the token back: only creating it again does)."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"""UPDATE id_tokens SET token_type = $2, group_id = $3, expires_at = $4,
                        blocked = $5, note = COALESCE($6, note), updated_at = now()
                    WHERE id_token = $1 AND deleted_at IS NULL
                    RETURNING {_COLUMNS}""",
                *_settings(token, note),
            )
            if row is None:
                return None
            await _audit_settings(conn, "token.update", token, note, by, at)
        return _token(row)

    async def set_blocked(
        self, id_token: str, blocked: bool, *, by: str = SYSTEM, at: datetime | None = None
    ) -> IdToken:
        """Block or unblock a live token (audited as token.block or token.unblock)."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"""UPDATE id_tokens SET blocked = $2, updated_at = now()
                    WHERE id_token = $1 AND deleted_at IS NULL
                    RETURNING {_COLUMNS}""",
                id_token,
                blocked,
            )
            if row is None:
                raise NotFound(f"id token {id_token} does not exist")
            await audit.record(
                conn,
                at=at or utcnow(),
                actor=by,
                action="token.block" if blocked else "token.unblock",
                subject_kind="token",
                subject_id=id_token,
                detail={},
            )
        return _token(row)

    async def delete(self, id_token: str, *, by: str, at: datetime) -> IdToken:
        """Soft-delete the token and audit it with its settings, in one transaction; return it
        as deleted. NotFound for an unknown id; Conflict when it is already deleted."""
        async with self._pool.acquire() as conn, conn.transaction():
            before = await conn.fetchrow(
                f"SELECT {_COLUMNS}, note FROM id_tokens WHERE id_token = $1 FOR UPDATE",
                id_token,
            )
            if before is None:
                raise NotFound(f"id token {id_token} does not exist")
            if before["deleted_at"] is not None:
                raise Conflict(
                    f"id token {id_token} was already deleted at {before['deleted_at'].isoformat()}"
                )
            row = await conn.fetchrow(
                f"""UPDATE id_tokens SET deleted_at = $2, deleted_by = $3, updated_at = now()
                    WHERE id_token = $1 RETURNING {_COLUMNS}""",
                id_token,
                at,
                by,
            )
            await audit.record(
                conn,
                at=at,
                actor=by,
                action="token.delete",
                subject_kind="token",
                subject_id=id_token,
                # the settings it had: a later re-creation overwrites the row
                detail={
                    "token_type": before["token_type"],
                    "group_id": before["group_id"],
                    "expires_at": before["expires_at"],
                    "blocked": before["blocked"],
                    "note": before["note"],
                },
            )
        return _token(row)

    async def search(
        self,
        *,
        blocked: bool | None,
        group_id: str | None,
        limit: int,
        offset: int,
        include_deleted: bool = False,
    ) -> list[IdToken]:
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM id_tokens
                WHERE ($1::boolean IS NULL OR blocked = $1)
                  AND ($2::text IS NULL OR group_id = $2)
                  AND ($5::boolean OR deleted_at IS NULL)
                ORDER BY id_token LIMIT $3 OFFSET $4""",
            blocked,
            group_id,
            limit,
            offset,
            include_deleted,
        )
        return [_token(r) for r in rows]

    async def all(self) -> list[IdToken]:
        """Live tokens (the CLI list)."""
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM id_tokens WHERE deleted_at IS NULL ORDER BY id_token"
        )
        return [_token(r) for r in rows]

    async def open_here(self, id_token: str, group_id: str | None, station_id: str) -> bool:
        """Whether the token (or its group) holds an open transaction at this station: an
        Authorize then is for stopping it, not for a new start."""
        found = await self._pool.fetchval(
            """SELECT EXISTS (SELECT 1 FROM transactions t
                   LEFT JOIN id_tokens k ON k.id_token = t.id_token
                   WHERE t.station_id = $3 AND t.status = 'open'
                     AND (t.id_token = $1 OR ($2::text IS NOT NULL AND k.group_id = $2)))""",
            id_token,
            group_id,
            station_id,
        )
        return bool(found)

    async def in_open_transaction(
        self, id_token: str, *, except_station: str | None = None, except_evse: int | None = None
    ) -> bool:
        """Whether the token holds an open transaction anywhere but the given EVSE."""
        found = await self._pool.fetchval(
            """SELECT EXISTS (SELECT 1 FROM transactions
                   WHERE id_token = $1 AND status = 'open'
                     AND NOT (station_id IS NOT DISTINCT FROM $2
                              AND evse_id IS NOT DISTINCT FROM $3))""",
            id_token,
            except_station,
            except_evse,
        )
        return bool(found)


async def _audit_settings(
    conn: audit.Connection,
    action: str,
    token: IdToken,
    note: str | None,
    by: str,
    at: datetime | None,
) -> None:
    """A token created or changed, with the settings it was given."""
    await audit.record(
        conn,
        at=at or utcnow(),
        actor=by,
        action=action,
        subject_kind="token",
        subject_id=token.id_token,
        detail={
            "token_type": token.token_type,
            "group_id": token.group_id,
            "expires_at": token.expires_at,
            "blocked": token.blocked,
            "note": note,
        },
    )


async def _audit_revival(
    conn: audit.Connection, id_token: str, by: str, at: datetime | None
) -> None:
    await audit.record(
        conn,
        at=at or utcnow(),
        actor=by,
        action="token.recreate",
        subject_kind="token",
        subject_id=id_token,
        detail={},
    )
