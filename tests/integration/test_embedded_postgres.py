"""The embedded PostgreSQL stops with the CSMS, also after a predecessor was killed (-9)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from csms.errors import NoDatabase
from csms.store.embedded import EmbeddedPostgres, forget_dead_handles


def dead_pid() -> int:
    """The pid of a process that has ended (as one killed with -9 would have)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


HOLDER = """
import asyncio, sys, time
from pathlib import Path
from csms.store.embedded import EmbeddedPostgres
embedded = EmbeddedPostgres(Path(sys.argv[1]))
print(asyncio.run(embedded.start()), flush=True)
if sys.argv[2] == "hold":
    time.sleep(60)
embedded.stop()
"""


def holder(data_dir: Path, mode: str) -> tuple[subprocess.Popen[str], str]:
    """A process holding the embedded PostgreSQL (like `csms serve`), and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir), mode], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


async def test_a_killed_processes_handle_does_not_keep_postgres_running(tmp_path: Path) -> None:
    killed, url = holder(tmp_path, "hold")
    killed.kill()  # -9: its handle stays in pgserver's list, PostgreSQL keeps running
    killed.wait()
    conn = await asyncpg.connect(url)
    await conn.close()
    try:
        clean, url = holder(tmp_path, "stop")  # starts, forgets the dead handle, stops
        assert clean.wait(timeout=60) == 0
        with pytest.raises(OSError):  # the last handle is gone: PostgreSQL stopped
            await asyncpg.connect(url, timeout=5)
    finally:
        survivor = EmbeddedPostgres(tmp_path)  # whatever happened, leave nothing running
        await survivor.start()
        survivor.stop()


def test_unreadable_or_dead_handle_lists_are_cleaned(tmp_path: Path) -> None:
    handles = tmp_path / ".handle_pids.json"
    assert forget_dead_handles(tmp_path) == []  # no list: nothing to do
    gone = dead_pid()
    handles.write_text(json.dumps([gone, 1]))  # pid 1 is alive
    assert forget_dead_handles(tmp_path) == [gone]
    assert json.loads(handles.read_text()) == [1]
    handles.write_text("{not json")
    assert forget_dead_handles(tmp_path) == []
    assert json.loads(handles.read_text()) == []


async def test_join_only_never_initialises_a_cluster(tmp_path: Path) -> None:
    joiner = EmbeddedPostgres(tmp_path / "data", create=False)
    missing = re.escape(f"no CSMS database at {tmp_path / 'data' / 'pgdata'}")
    with pytest.raises(NoDatabase, match=f"^{missing}$"):
        await joiner.start()
    (tmp_path / "data" / "pgdata").mkdir(parents=True)  # a folder, but never initdb'd
    with pytest.raises(NoDatabase):
        await joiner.start()
    assert [p.name for p in (tmp_path / "data").rglob("*")] == ["pgdata"]
    joiner.stop()  # nothing was started: nothing to release
