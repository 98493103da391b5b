"""The operator audit: who decommissioned, re-commissioned or deleted which station or token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from csms.store.database import Pool

if TYPE_CHECKING:
    from typing import TypeAlias

    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]

_COLUMNS = "id, at, actor, action, subject_kind, subject_id, detail"


async def record(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject_kind: str,
    subject_id: str,
    detail: dict[str, Any],
) -> None:
    """Append one action, inside the caller's transaction: the change and its record commit
    together or not at all."""
    await conn.execute(
        """INSERT INTO operator_actions (at, actor, action, subject_kind, subject_id, detail)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        at,
        actor,
        action,
        subject_kind,
        subject_id,
        detail,
    )


@dataclass(frozen=True, slots=True)
class Action:
    """One entry of `record_many`, with `record`'s fields."""

    at: datetime
    actor: str
    action: str
    subject_kind: str
    subject_id: str
    detail: dict[str, Any]


async def record_many(conn: Connection, actions: Sequence[Action]) -> None:
    """Append many actions in one statement (a registry import changes thousands of stations),
    inside the caller's transaction like `record`."""
    if not actions:
        return
    await conn.execute(
        """INSERT INTO operator_actions (at, actor, action, subject_kind, subject_id, detail)
           SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[],
               $5::text[], $6::jsonb[])""",
        [a.at for a in actions],
        [a.actor for a in actions],
        [a.action for a in actions],
        [a.subject_kind for a in actions],
        [a.subject_id for a in actions],
        [a.detail for a in actions],
    )


class AuditStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def search(
        self,
        *,
        subject_kind: str | None,
        subject_id: str | None,
        limit: int,
        offset: int,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Actions, newest first. `actor` matches the actor as recorded (`user:3:alice`,
        `key:2:ci`, `system`) or the login or key name in it (`alice`); `since` is inclusive,
        `until` exclusive."""
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM operator_actions
                WHERE ($1::text IS NULL OR subject_kind = $1)
                  AND ($2::text IS NULL OR subject_id = $2)
                  AND ($5::text IS NULL OR actor = $5
                       OR (actor ~ '^(user|key):[0-9]+:'
                           AND substr(actor, length(split_part(actor, ':', 1))
                                             + length(split_part(actor, ':', 2)) + 3) = $5))
                  AND ($6::timestamptz IS NULL OR at >= $6)
                  AND ($7::timestamptz IS NULL OR at < $7)
                ORDER BY at DESC, id DESC LIMIT $3 OFFSET $4""",
            subject_kind,
            subject_id,
            limit,
            offset,
            actor,
            since,
            until,
        )
        return [dict(r) for r in rows]
