"""Id tokens: the store Authorize answers from."""

from __future__ import annotations

from typing import Any

from csms.domain.token import IdToken
from csms.errors import NotFound
from csms.store.database import Pool

_COLUMNS = "id_token, token_type, group_id, expires_at, blocked"


def _token(row: Any) -> IdToken:
    return IdToken(
        id_token=row["id_token"],
        token_type=row["token_type"],
        group_id=row["group_id"],
        expires_at=row["expires_at"],
        blocked=row["blocked"],
    )


class TokenStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def get(self, id_token: str) -> IdToken | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM id_tokens WHERE id_token = $1", id_token
        )
        return None if row is None else _token(row)

    async def create(self, token: IdToken, note: str | None = None) -> IdToken | None:
        """Insert a new token; None when one with that id already exists."""
        row = await self._pool.fetchrow(
            f"""INSERT INTO id_tokens (id_token, token_type, group_id, expires_at, blocked, note)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (id_token) DO NOTHING RETURNING {_COLUMNS}""",
            token.id_token,
            token.token_type,
            token.group_id,
            token.expires_at,
            token.blocked,
            note,
        )
        return None if row is None else _token(row)

    async def put(self, token: IdToken, note: str | None = None) -> IdToken:
        """Create or replace a token's settings."""
        row = await self._pool.fetchrow(
            f"""INSERT INTO id_tokens (id_token, token_type, group_id, expires_at, blocked, note)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (id_token) DO UPDATE SET token_type = EXCLUDED.token_type,
                    group_id = EXCLUDED.group_id, expires_at = EXCLUDED.expires_at,
                    blocked = EXCLUDED.blocked, note = COALESCE(EXCLUDED.note, id_tokens.note),
                    updated_at = now()
                RETURNING {_COLUMNS}""",
            token.id_token,
            token.token_type,
            token.group_id,
            token.expires_at,
            token.blocked,
            note,
        )
        return _token(row)

    async def set_blocked(self, id_token: str, blocked: bool) -> IdToken:
        row = await self._pool.fetchrow(
            f"""UPDATE id_tokens SET blocked = $2, updated_at = now() WHERE id_token = $1
                RETURNING {_COLUMNS}""",
            id_token,
            blocked,
        )
        if row is None:
            raise NotFound(f"id token {id_token} does not exist")
        return _token(row)

    async def search(
        self, *, blocked: bool | None, group_id: str | None, limit: int, offset: int
    ) -> list[IdToken]:
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM id_tokens
                WHERE ($1::boolean IS NULL OR blocked = $1)
                  AND ($2::text IS NULL OR group_id = $2)
                ORDER BY id_token LIMIT $3 OFFSET $4""",
            blocked,
            group_id,
            limit,
            offset,
        )
        return [_token(r) for r in rows]

    async def all(self) -> list[IdToken]:
        rows = await self._pool.fetch(f"SELECT {_COLUMNS} FROM id_tokens ORDER BY id_token")
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
