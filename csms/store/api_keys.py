"""Operator API keys: only a SHA-256 of each key is stored (keys are 256-bit random)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csms.domain.scope import Scope, scope_columns
from csms.store.database import Pool

_COLUMNS = "id, name, role, created_at, last_used_at, revoked_at, scope_counties, scope_owner_unit"


@dataclass(frozen=True, slots=True)
class LiveKey:
    """A key that authenticates: who it names and what it may see."""

    id: int
    name: str
    role: str
    scope: Scope | None


def _row(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["scope"] = Scope.of(out.pop("scope_counties"), out.pop("scope_owner_unit"))
    return out


class ApiKeyStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def create(
        self, name: str, role: str, key_hash: str, scope: Scope | None = None
    ) -> dict[str, Any]:
        """A new key; `scope` None: the whole network."""
        counties, owner_unit = scope_columns(scope)
        row = await self._pool.fetchrow(
            f"""INSERT INTO api_keys (name, role, key_hash, scope_counties, scope_owner_unit)
               VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}""",
            name,
            role,
            key_hash,
            counties,
            owner_unit,
        )
        assert row is not None  # INSERT ... RETURNING always returns the row
        return _row(row)

    async def live(self, key_hash: str) -> LiveKey | None:
        """The live key with this hash, marking it used; None for unknown or revoked."""
        row = await self._pool.fetchrow(
            """UPDATE api_keys SET last_used_at = now()
               WHERE key_hash = $1 AND revoked_at IS NULL
               RETURNING id, name, role, scope_counties, scope_owner_unit""",
            key_hash,
        )
        if row is None:
            return None
        scope = Scope.of(row["scope_counties"], row["scope_owner_unit"])
        return LiveKey(row["id"], row["name"], row["role"], scope)

    async def all(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(f"SELECT {_COLUMNS} FROM api_keys ORDER BY id")
        return [_row(r) for r in rows]

    async def revoke(self, key_id: int) -> bool:
        status: str = await self._pool.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", key_id
        )
        return status.endswith(" 1")

    async def has_admin(self) -> bool:
        """Whether a live whole-network admin key exists (a scoped admin cannot manage keys)."""
        return bool(
            await self._pool.fetchval(
                """SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin'
                   AND revoked_at IS NULL AND scope_counties IS NULL
                   AND scope_owner_unit IS NULL)"""
            )
        )
