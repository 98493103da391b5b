"""Connection pool and the migration runner (numbered SQL files, each applied exactly once)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from csms.errors import MigrationError, StoreError
from csms.store.outage import quiet_pool_floor

log = logging.getLogger(__name__)

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_MIGRATION_LOCK = 0x0C5B5_0001  # pg_advisory_lock key: one migrator at a time across nodes

Pool = asyncpg.Pool


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = SCHEMA_DIR) -> list[Migration]:
    """Every NNNN_name.sql in the directory, in order; gaps or duplicates are errors."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migrations are named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migrations must be numbered 1..N without gaps, found {versions}")
    return found


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction; return their names.

    A migration already applied whose file has since changed is an error: schema changes are new
    migrations, never edits.
    """
    todo = load_migrations() if migrations is None else migrations
    applied_names: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
        applied = {r["version"]: r["checksum"] for r in rows}
        for migration in todo:
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} was edited after it "
                        "was applied; add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            applied_names.append(f"{migration.version:04d}_{migration.name}")
            log.info("applied migration %04d_%s", migration.version, migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_names


def _json_default(value: object) -> str:
    """What JSON has no type for, as text: a moment as ISO 8601, a decimal exactly."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _jsonb(value: object) -> str:
    # a command's parameters carry datetimes (an offline station's audit entry had none)
    return json.dumps(value, default=_json_default)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=_jsonb, decoder=json.loads, schema="pg_catalog")


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset on release (UNLISTEN *, RESET ALL, ...): a round trip per query.

    Pooled connections never change session state here: no SET, LISTEN or advisory locks (those
    live on dedicated connections), and transactions are closed by their context; a rollback
    interrupted by cancellation is finished here, so no one gets an aborted transaction.
    """
    if _conn.is_in_transaction():
        await _conn.execute("ROLLBACK")


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 20,
    on_connect: Callable[[], object] | None = None,
) -> Pool:
    """A pool whose connections speak jsonb as Python objects.

    `on_connect` is called for every new connection: after an outage the pool reconnects on
    demand, so the first new connection is the first sign the database is back.
    """

    async def init(conn: asyncpg.Connection) -> None:
        await _init_connection(conn)
        if on_connect is not None:
            on_connect()

    quiet_pool_floor()
    try:
        pool: Pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, init=init, reset=_keep_session
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise StoreError(f"cannot connect to PostgreSQL: {exc}") from exc
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


async def ping(pool: Pool) -> bool:
    """True when the database answers a trivial query."""
    try:
        return bool(await pool.fetchval("SELECT 1", timeout=2))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False


def record(row: Any) -> dict[str, Any]:
    """An asyncpg Record as a plain dict (for callers outside the store)."""
    return dict(row)
