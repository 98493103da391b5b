"""Operator API keys: only a SHA-256 of each key is stored (keys are 256-bit random)."""

from __future__ import annotations

from typing import Any

from csms.store.database import Pool


class ApiKeyStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def create(self, name: str, role: str, key_hash: str) -> dict[str, Any]:
        row = await self._pool.fetchrow(
            """INSERT INTO api_keys (name, role, key_hash) VALUES ($1, $2, $3)
               RETURNING id, name, role, created_at""",
            name,
            role,
            key_hash,
        )
        assert row is not None  # INSERT ... RETURNING always returns the row
        return dict(row)

    async def role_for(self, key_hash: str) -> tuple[int, str, str] | None:
        """(id, name, role) of a live key, marking it used; None for unknown or revoked."""
        row = await self._pool.fetchrow(
            """UPDATE api_keys SET last_used_at = now()
               WHERE key_hash = $1 AND revoked_at IS NULL RETURNING id, name, role""",
            key_hash,
        )
        return None if row is None else (row["id"], row["name"], row["role"])

    async def all(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT id, name, role, created_at, last_used_at, revoked_at
               FROM api_keys ORDER BY id"""
        )
        return [dict(r) for r in rows]

    async def revoke(self, key_id: int) -> bool:
        status: str = await self._pool.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", key_id
        )
        return status.endswith(" 1")

    async def has_admin(self) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL)"
            )
        )
