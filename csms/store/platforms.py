"""Monitoring platforms: their settings, sealed secrets, health, and the tokens we issued them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

import asyncpg

from csms.errors import Conflict, NotFound
from csms.store.database import Pool

_SENDER_LOCK = 0x7CEC  # pg_advisory_lock class of platform senders

# What the API may show: never a secret, only whether the inbound one is set.
PUBLIC_COLUMNS = """id, name, enabled, base_url, operator_id, platform_operator_id, spelling,
    methods, kinds, service_tel, live_interval,
    inbound_secret_hash IS NOT NULL AS queries_enabled,
    last_success_at, last_failure_at, last_ret, last_msg, created_at, updated_at"""
SEALED = ("operator_secret_sealed", "data_secret_sealed", "data_iv_sealed", "sig_secret_sealed")
_WRITABLE = (
    "name",
    "enabled",
    "base_url",
    "operator_id",
    "platform_operator_id",
    "spelling",
    "methods",
    "kinds",
    "service_tel",
    "live_interval",
    "inbound_secret_hash",
    *SEALED,
)


class PlatformStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def create(self, platform_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        columns = ["id", *(c for c in _WRITABLE if c in fields)]
        values = [platform_id, *(fields[c] for c in columns[1:])]
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        try:
            row = await self._pool.fetchrow(
                f"INSERT INTO platforms ({', '.join(columns)}) VALUES ({marks}) "
                f"RETURNING {PUBLIC_COLUMNS}",
                *values,
            )
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(_unique_message(exc, platform_id)) from None
        assert row is not None
        return dict(row)

    async def update(self, platform_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        columns = [c for c in _WRITABLE if c in fields]
        if not columns:
            return await self.get(platform_id)
        sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
        try:
            row = await self._pool.fetchrow(
                f"UPDATE platforms SET {sets}, updated_at = now() WHERE id = $1 "
                f"RETURNING {PUBLIC_COLUMNS}",
                platform_id,
                *(fields[c] for c in columns),
            )
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(_unique_message(exc, platform_id)) from None
        if row is None:
            raise NotFound(f"platform {platform_id} does not exist")
        return dict(row)

    async def delete(self, platform_id: str) -> None:
        done: str = await self._pool.execute("DELETE FROM platforms WHERE id = $1", platform_id)
        if done.endswith(" 0"):
            raise NotFound(f"platform {platform_id} does not exist")

    async def get(self, platform_id: str) -> dict[str, Any]:
        row = await self._pool.fetchrow(
            f"SELECT {PUBLIC_COLUMNS} FROM platforms WHERE id = $1", platform_id
        )
        if row is None:
            raise NotFound(f"platform {platform_id} does not exist")
        return dict(row)

    async def all(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(f"SELECT {PUBLIC_COLUMNS} FROM platforms ORDER BY id")
        return [dict(r) for r in rows]

    async def with_secrets(
        self, *, platform_operator_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every platform (or the one with this OperatorID) with its sealed secrets."""
        rows = await self._pool.fetch(
            f"""SELECT {PUBLIC_COLUMNS}, inbound_secret_hash, {", ".join(SEALED)}
                FROM platforms WHERE $1::text IS NULL OR platform_operator_id = $1
                ORDER BY id""",
            platform_operator_id,
        )
        return [dict(r) for r in rows]

    async def any(self) -> bool:
        """Whether any platform is configured (enabled or paused)."""
        return bool(await self._pool.fetchval("SELECT EXISTS (SELECT 1 FROM platforms)"))

    async def record_result(
        self, platform_id: str, *, ok: bool, at: datetime, ret: int | None, msg: str | None
    ) -> None:
        """The platform's latest answer, for the health view (one row, cheap)."""
        if ok:
            await self._pool.execute(
                """UPDATE platforms SET last_success_at = $2, last_ret = 0, last_msg = NULL
                   WHERE id = $1""",
                platform_id,
                at,
            )
        else:
            await self._pool.execute(
                """UPDATE platforms SET last_failure_at = $2, last_ret = $3, last_msg = $4
                   WHERE id = $1""",
                platform_id,
                at,
                ret,
                msg,
            )

    @contextlib.asynccontextmanager
    async def sender_lock(self, platform_id: str) -> AsyncIterator[SenderLock]:
        """Try the platform's advisory lock on a connection held meanwhile: one sender per
        platform across nodes. The lock is released before the connection goes back."""
        async with self._pool.acquire() as conn:
            held = bool(
                await conn.fetchval(
                    "SELECT pg_try_advisory_lock($1, hashtext($2))", _SENDER_LOCK, platform_id
                )
            )
            lock = SenderLock(conn, platform_id, held)
            try:
                yield lock
            finally:
                if held and not await _unlock(conn, platform_id):
                    # a pooled connection must not go back holding the lock: every node would
                    # then wait for it forever
                    conn.terminate()

    async def revoke_tokens(self, platform_id: str) -> None:
        """The inbound secret changed: tokens issued with the old one stop working."""
        await self._pool.execute("DELETE FROM platform_tokens WHERE platform_id = $1", platform_id)

    async def issue_token(
        self, platform_id: str, token_hash: str, issued_at: datetime, expires_at: datetime
    ) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            # expired tokens of every platform go as new ones are issued: the table stays small
            await conn.execute("DELETE FROM platform_tokens WHERE expires_at < $1", issued_at)
            await conn.execute(
                """INSERT INTO platform_tokens (token_hash, platform_id, issued_at, expires_at)
                   VALUES ($1, $2, $3, $4)""",
                token_hash,
                platform_id,
                issued_at,
                expires_at,
            )

    async def token_platform(self, token_hash: str, at: datetime) -> str | None:
        """The platform a live token belongs to; None when unknown or expired."""
        found: str | None = await self._pool.fetchval(
            "SELECT platform_id FROM platform_tokens WHERE token_hash = $1 AND expires_at > $2",
            token_hash,
            at,
        )
        return found


def _unique_message(exc: asyncpg.UniqueViolationError, platform_id: str) -> str:
    if "platform_operator_id" in str(exc.constraint_name or ""):
        return "another platform has this platform_operator_id already"
    return f"platform {platform_id} exists already"


async def _unlock(conn: Any, platform_id: str) -> bool:
    try:
        return bool(
            await conn.fetchval(
                "SELECT pg_advisory_unlock($1, hashtext($2))", _SENDER_LOCK, platform_id, timeout=5
            )
        )
    except Exception:
        return False


class LockLost(Exception):
    """The connection holding a sender lock is gone: another node may be sending now."""


class SenderLock:
    """A held (or not) sender lock and the connection it lives on."""

    def __init__(self, conn: Any, platform_id: str, held: bool) -> None:
        self._conn = conn
        self._platform_id = platform_id
        self.held = held

    async def alive(self) -> bool:
        """Whether this connection still holds the lock (false once the connection died)."""
        try:
            return bool(
                await self._conn.fetchval(
                    """SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
                           AND pid = pg_backend_pid() AND classid = $1
                           AND objid = hashtext($2)::oid AND granted)""",
                    _SENDER_LOCK,
                    self._platform_id,
                    timeout=5,
                )
            )
        except Exception:
            return False
