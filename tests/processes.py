"""`csms serve` as a real separate process, for restart and multi-node tests."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ADMIN_TOKEN


@dataclass
class ServerProcess:
    proc: asyncio.subprocess.Process
    ocpp_port: int
    output: list[str]

    def kill(self) -> None:
        self.proc.kill()


@asynccontextmanager
async def csms_process(
    database_url: str | None, node_id: str, *args: str, cwd: Path | None = None
) -> AsyncIterator[ServerProcess]:
    """Start `csms serve` on free ports; on exit SIGTERM it and require a clean stop
    (unless the test killed it). `database_url=None`: the embedded PostgreSQL (give
    --data-dir)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CSMS_ADMIN_TOKEN"] = ADMIN_TOKEN
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        "serve",
        "--host",
        "127.0.0.1",
        "--ocpp-port",
        "0",
        "--http-port",
        "0",
        "--node-id",
        node_id,
        "--log-level",
        "warning",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output: list[str] = []
    async with asyncio.timeout(30):
        while True:
            line = (await proc.stdout.readline()).decode()
            output.append(line)
            assert line, "csms serve exited early:\n" + "".join(output)
            if match := re.search(r"ws://[^:]+:(\d+)/", line):
                break
    server = ServerProcess(proc, int(match[1]), output)
    try:
        yield server
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            rest = (await asyncio.wait_for(proc.stdout.read(), 30)).decode()
            output.append(rest)
            assert await proc.wait() == 0, "".join(output)
            assert "stopped" in rest


async def run_cli(argv: list[str], timeout: float = 60, cwd: Path | None = None) -> tuple[int, str]:
    """Run a command (e.g. `python -m csms ...`) to the end; its exit code and output."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        cwd=cwd,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode()
