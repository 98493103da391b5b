"""The command line finds the server's database from any folder, creates none by accident, writes
reports where it says, and the demo keeps to its own data and its own ports.

Every command here runs as a real `python -m csms` process in a working directory of its own,
which must stay empty: nothing a command writes by default lands where it was started.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.integration.test_registry_api import ROWS, registry_csv
from tests.processes import csms_process, run_cli

CSMS = [sys.executable, "-m", "csms"]


def no_database(data_dir: Path) -> str:
    return (
        f"csms: no CSMS database at {data_dir / 'pgdata'}: start it with `csms serve` (or "
        "`csms migrate`), or set DATABASE_URL / --data-dir"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def last_month() -> str:
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder for data directories. Not pytest's tmp_path: run as root, the embedded
    PostgreSQL runs as another user that must traverse the path, and every pytest session
    takes that right away from its pytest-of-root (as conftest's cluster does, use /tmp)."""
    with tempfile.TemporaryDirectory(prefix="csms-test-cli-") as folder:
        yield Path(folder)


@pytest.fixture
def cwd(scratch: Path) -> Iterator[Path]:
    """An empty working directory for the commands; it must stay empty."""
    folder = scratch / "cwd"
    folder.mkdir()
    yield folder
    assert sorted(p.name for p in folder.iterdir()) == []


async def test_a_command_from_another_folder_reaches_the_running_servers_database(
    scratch: Path, cwd: Path
) -> None:
    server_cwd = scratch / "server"
    server_cwd.mkdir()
    registry = scratch / "registry.csv"
    registry.write_text(registry_csv(*ROWS), encoding="utf-8")
    http_port = free_port()
    # a relative --data-dir is the server's working directory's, made absolute once
    async with csms_process(
        None, "data-dir", "--data-dir", "var", "--http-port", str(http_port), cwd=server_cwd
    ):
        code, out = await run_cli(
            [*CSMS, "registry", "import", str(registry), "--data-dir", "../server/var"], cwd=cwd
        )
        assert code == 0 and "3 created" in out, out
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(
                f"http://127.0.0.1:{http_port}/api/v1/stations",
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
        assert answer.status_code == 200, answer.text
        assert {"SC-1", "SC-2", "YX-1"} <= {s["id"] for s in answer.json()}
    assert (server_cwd / "var" / "pgdata" / "PG_VERSION").is_file()
    assert sorted(p.name for p in server_cwd.iterdir()) == ["var"]


async def test_only_serve_and_migrate_create_a_database(scratch: Path, cwd: Path) -> None:
    empty = scratch / "empty"
    empty.mkdir()
    missing = scratch / "missing"
    places = scratch / "places.csv"
    places.write_text("id\n", encoding="utf-8")
    refusals = await asyncio.gather(
        run_cli([*CSMS, "keys", "list", "--data-dir", str(empty)], cwd=cwd),
        run_cli([*CSMS, "registry", "import", str(places), "--data-dir", str(empty)], cwd=cwd),
        run_cli([*CSMS, "report", "month", last_month(), "--data-dir", str(missing)], cwd=cwd),
    )
    assert [(code, out.splitlines()) for code, out in refusals] == [
        (1, [no_database(empty)]),
        (1, [no_database(empty)]),
        (1, [no_database(missing)]),
    ]
    assert list(empty.iterdir()) == [] and not missing.exists()

    code, out = await run_cli([*CSMS, "migrate", "--data-dir", str(empty)], cwd=cwd)
    assert code == 0 and "database schema at migration" in out, out
    assert (empty / "pgdata" / "PG_VERSION").is_file()


async def test_report_month_writes_under_the_data_dir_and_says_where(
    database_url: str, scratch: Path, cwd: Path
) -> None:
    month = last_month()
    code, out = await run_cli(
        [*CSMS, "report", "month", month, "--database-url", database_url, "--data-dir", "../data"],
        cwd=cwd,
    )
    assert code == 0, out
    base = scratch / "data" / "reports" / f"report-{month}"
    assert f"written to {base}.html, .json, .csv" in out, out
    assert sorted(p.name for p in base.parent.iterdir()) == [
        f"report-{month}.csv",
        f"report-{month}.html",
        f"report-{month}.json",
    ]
    assert base.with_suffix(".html").read_text("utf-8").startswith("<!doctype html>")


@pytest.mark.parametrize("flag", ["--ocpp-port", "--platform-port"])  # two hosts probed
async def test_the_demo_on_a_taken_port_is_one_line(scratch: Path, cwd: Path, flag: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        code, out = await run_cli(
            [*CSMS, "demo", "city", "--data-dir", str(scratch / "demo"), flag, str(busy)],
            timeout=30,
            cwd=cwd,
        )
    host = "127.0.0.1" if flag == "--platform-port" else os.environ.get("CSMS_HOST", "0.0.0.0")
    assert code == 1
    assert out.splitlines() == [
        f"csms demo: cannot listen on {host}:{busy} ({flag}): the address is already in use "
        f"(stop what holds it, choose another {flag}, or leave {flag} out to take a free one)"
    ]
    assert not (scratch / "demo").exists()


async def test_the_demo_keeps_its_own_data_and_shows_the_dashboard_before_the_fleet(
    scratch: Path, cwd: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CSMS_ADMIN_TOKEN")}
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/not-the-demos"  # must not be used
    env["CSMS_ADMIN_TOKEN"] = ADMIN_TOKEN  # production's: never printed nor used by the demo
    demo = await asyncio.create_subprocess_exec(
        *CSMS,
        "demo",
        "city",
        "--data-dir",
        "../demo",
        "--stations",
        "2",
        "--duration",
        "2",
        "--exit",
        "--ocpp-port",
        "0",
        "--http-port",
        "0",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(demo.communicate(), 90)
    except TimeoutError:
        demo.kill()
        await demo.wait()
        raise AssertionError("the short demo did not end") from None
    lines = output.decode().splitlines()
    assert demo.returncode == 0, lines
    assert lines[:2] == [
        f"Demo data: {scratch / 'demo'} (its own embedded PostgreSQL; to remove the demo, stop "
        "it and delete that folder)",
        "DATABASE_URL is not used by the demo (--database-url chooses a server)",
    ], lines
    dashboard = next(i for i, line in enumerate(lines) if line.startswith("Dashboard: http"))
    key = lines[dashboard].rsplit("#key=", 1)[1]
    assert lines[dashboard + 1] == f"API key:   {key} (admin; valid while the demo runs)"
    assert key != ADMIN_TOKEN and not any(ADMIN_TOKEN in line for line in lines), lines
    registered = next(i for i, line in enumerate(lines) if line.startswith("registered 2 "))
    assert dashboard < registered, lines
    assert any(line.startswith("Pushing to the platform simulator at http://") for line in lines)
    assert any(line.startswith("Report:    http://") for line in lines[registered:])
    assert (scratch / "demo" / "pgdata" / "PG_VERSION").is_file()
