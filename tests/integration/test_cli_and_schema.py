"""The command line (tokens, stations, keys, migrate) and the migration runner's guarantees."""

from __future__ import annotations

import sys
from pathlib import Path

import asyncpg
import pytest

from csms.errors import MigrationError
from csms.store import database
from tests.processes import run_cli


async def cli(database_url: str, *args: str) -> tuple[int, str]:
    return await run_cli([sys.executable, "-m", "csms", *args, "--database-url", database_url])


async def test_tokens_stations_and_keys_from_the_command_line(database_url: str) -> None:
    code, out = await cli(
        database_url,
        "tokens",
        "add",
        "CARD-9",
        "--group",
        "FLEET",
        "--expires",
        "2030-01-01T00:00:00+08:00",
    )
    assert code == 0 and "CARD-9 saved" in out
    assert (await cli(database_url, "tokens", "block", "CARD-9"))[0] == 0
    code, out = await cli(database_url, "tokens", "list")
    assert "CARD-9" in out and "FLEET" in out and out.rstrip().endswith("yes")
    code, out = await cli(database_url, "tokens", "add", "x" * 37)
    assert code == 1 and "1..36" in out
    code, out = await cli(database_url, "tokens", "add", "C", "--expires", "2030-01-01")
    assert code == 1 and "offset" in out

    code, out = await cli(database_url, "stations", "add", "CP-CLI", "--password", "short")
    assert code == 1 and "16 to 40" in out
    code, _ = await cli(
        database_url,
        "stations",
        "add",
        "CP-CLI",
        "--password",
        "sixteen-chars-or-more",
        "--security-profile",
        "1",
    )
    assert code == 0
    assert (await cli(database_url, "stations", "block", "CP-CLI"))[0] == 0
    code, out = await cli(database_url, "stations", "list")
    assert "CP-CLI" in out and "blocked" in out and "password" in out
    code, out = await cli(database_url, "stations", "add", "A:B")
    assert code == 1 and "':'" in out

    code, out = await cli(database_url, "keys", "create", "--role", "operator", "--name", "ops")
    assert code == 0 and "csms_" in out
    key = next(word for word in out.split() if word.startswith("csms_"))
    code, out = await cli(database_url, "keys", "list")
    assert "operator" in out and key not in out
    assert (await cli(database_url, "keys", "revoke", "1"))[0] == 0
    assert (await cli(database_url, "keys", "revoke", "1"))[0] == 1
    code, out = await cli(database_url, "migrate")
    latest = database.load_migrations()[-1].version
    assert code == 0 and f"migration {latest:04d}" in out


async def test_migrations_apply_once_and_refuse_edits(database_url: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        assert await database.migrate(conn) == []  # the template already has them all
        first = tmp_path / "0001_first.sql"
        first.write_text("CREATE TABLE scratch (x int);")
        migrations = database.load_migrations(tmp_path)
        await conn.execute("DROP TABLE IF EXISTS schema_migrations")
        assert await database.migrate(conn, migrations) == ["0001_first"]
        assert await database.migrate(conn, migrations) == []
        first.write_text("CREATE TABLE scratch (x bigint);")
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await database.migrate(conn, database.load_migrations(tmp_path))
        (tmp_path / "0003_gap.sql").write_text("SELECT 1;")
        with pytest.raises(MigrationError, match="without gaps"):
            database.load_migrations(tmp_path)
    finally:
        await conn.close()
