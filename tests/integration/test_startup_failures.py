"""`csms serve` that cannot start says why in one line and exits non-zero within seconds."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from csms.startup_errors import explain, redact

_CALENDAR_NOTICE = " WARNING csms.services.sharing: the holiday calendar ("


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


async def serve(*args: str) -> tuple[int, list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CSMS_ADMIN_TOKEN")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        "serve",
        "--host",
        "127.0.0.1",
        "--log-level",
        "warning",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError("csms serve hung instead of exiting") from None
    assert proc.returncode is not None
    # A node that starts in the month before its holiday calendar runs out, or after, says so
    # first: that line follows the real date, not the failure under test.
    lines = [line for line in output.decode().splitlines() if _CALENDAR_NOTICE not in line]
    return proc.returncode, lines


@pytest.mark.parametrize("which", ["--ocpp-port", "--http-port"])
async def test_a_port_in_use_is_one_line(database_url: str, busy_port: int, which: str) -> None:
    other = "--http-port" if which == "--ocpp-port" else "--ocpp-port"
    code, lines = await serve(
        "--database-url", database_url, which, str(busy_port), other, "0", "--node-id", "busy"
    )
    assert code != 0
    assert lines == [
        f"csms serve: cannot listen on 127.0.0.1:{busy_port}: the address is already in use "
        "(another process holds the port; stop it or choose another with --http-port / "
        "--ocpp-port)"
    ], lines


async def test_an_unreachable_database_is_one_line() -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql://csms:secret@127.0.0.1:{port}/csms"
    code, lines = await serve("--database-url", url, "--ocpp-port", "0", "--http-port", "0")
    assert code != 0
    assert len(lines) == 1 and lines[0].startswith(
        f"csms serve: cannot connect to PostgreSQL at postgresql://csms:***@127.0.0.1:{port}/csms"
    ), lines
    assert "secret" not in lines[0]


async def test_a_missing_tls_file_is_one_line(database_url: str, tmp_path: Path) -> None:
    # e.g. a compose stack started before docker/tls/ was filled in
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    code, lines = await serve(
        "--database-url", database_url, "--ocpp-port", "0", "--http-port", "0",
        "--node-id", "tls", "--tls-cert", str(cert), "--tls-key", str(key),
    )  # fmt: skip
    assert code != 0
    assert lines == [
        f"csms serve: cannot load --tls-cert {cert} / --tls-key {key}: No such file or directory"
    ], lines


def test_unknown_failures_keep_their_traceback() -> None:
    assert explain(ValueError("a bug"), "db") is None
    assert explain(ExceptionGroup("g", [KeyError("k")]), "db") is None
    assert redact("postgresql://u:p%40ss@h:5/d") == "postgresql://u:***@h:5/d"
    assert redact("postgresql://u@h/d") == "postgresql://u@h/d"
