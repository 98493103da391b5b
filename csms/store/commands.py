"""The command audit log, which is also the mailbox between nodes for routed commands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from csms.domain.scope import Scope
from csms.errors import StoreError
from csms.store.database import Pool
from csms.store.scope_sql import scope_args, station_in_scope

_COLUMNS = """id, requested_by, station_id, command, action, request, origin_node, target_node,
    status, response, error_code, error_description, requested_at, answered_at"""


class CommandStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def create(
        self,
        *,
        requested_by: str,
        station_id: str,
        command: str,
        action: str | None,
        request: dict[str, Any],
        origin_node: str,
        target_node: str | None,
    ) -> int:
        command_id: int = await self._pool.fetchval(
            """INSERT INTO command_log (requested_by, station_id, command, action, request,
                   origin_node, target_node)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
            requested_by,
            station_id,
            command,
            action,
            request,
            origin_node,
            target_node,
        )
        return command_id

    async def finish(
        self,
        command_id: int,
        status: str,
        *,
        response: dict[str, Any] | None = None,
        error_code: str | None = None,
        error_description: str | None = None,
        at: datetime,
    ) -> None:
        """Record the outcome once; a late outcome never overwrites the first."""
        try:
            await self._finish(command_id, status, response, error_code, error_description, at)
        except (asyncpg.DataError, ValueError) as exc:
            raise StoreError(
                f"the outcome of command {command_id} cannot be stored: {exc}"
            ) from exc

    async def _finish(
        self,
        command_id: int,
        status: str,
        response: dict[str, Any] | None,
        error_code: str | None,
        error_description: str | None,
        at: datetime,
    ) -> None:
        await self._pool.execute(
            """UPDATE command_log SET status = $2, response = $3, error_code = $4,
                   error_description = $5, answered_at = $6
               WHERE id = $1 AND status = 'pending'""",
            command_id,
            status,
            response,
            error_code,
            error_description,
            at,
        )

    async def get(self, command_id: int) -> dict[str, Any] | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM command_log WHERE id = $1", command_id
        )
        return None if row is None else dict(row)

    async def recent(
        self, station_id: str | None, limit: int, offset: int, scope: Scope | None = None
    ) -> list[dict[str, Any]]:
        """Commands newest first; only those to stations in `scope` (None: all)."""
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM command_log
                WHERE ($1::text IS NULL OR station_id = $1)
                  AND {station_in_scope("command_log.station_id", 4, 5)}
                ORDER BY id DESC LIMIT $2 OFFSET $3""",
            station_id,
            limit,
            offset,
            *scope_args(scope),
        )
        return [dict(r) for r in rows]
