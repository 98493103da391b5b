"""The wheel alone runs the CSMS: installed outside the checkout, `csms serve` boots a station.

This is what the Docker image holds (docker/Dockerfile installs the same wheel): if a data file
the product reads at run time is missing from the wheel, or is looked up in the source tree
instead of the package, these tests fail here rather than in a container.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ocpp_client import open_client
from tests.wheel_venv import REPO, FreshVenv, make_fresh_venv

ADMIN_TOKEN = "wheel-admin-token-0123456789"

# Everything the product reads at run time besides Python modules, as globs over the checkout.
RUNTIME_DATA = (
    "csms/migrations/*.sql",
    "csms/api/static/**/*.*",
    "csms/monitoring/plans/*.json",
    "csms/sharing/*.json",
    "simulators/scenarios/*.toml",
)


@pytest.fixture(scope="module")
def venv() -> Iterator[FreshVenv]:
    # a short path: the embedded PostgreSQL's socket lives under the data directory
    root = Path(tempfile.mkdtemp(prefix="csms-wheel-"))
    try:
        yield make_fresh_venv(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_wheel_carries_every_module_and_runtime_data_file(venv: FreshVenv) -> None:
    with zipfile.ZipFile(venv.wheel) as archive:
        names = set(archive.namelist())
    expected = {
        p.relative_to(REPO).as_posix()
        for pattern in (*RUNTIME_DATA, "csms/**/*.py", "ocppj/**/*.py", "simulators/**/*.py")
        for p in REPO.glob(pattern)
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert len([n for n in expected if n.startswith("csms/migrations/")]) >= 10
    assert expected - names == set()


def test_the_installed_packages_come_from_the_venv_not_the_checkout(venv: FreshVenv) -> None:
    run = venv.root / "empty"
    run.mkdir(exist_ok=True)
    probe = (
        "import json, sys, csms, ocppj, simulators, fastapi; "
        "print(json.dumps({'modules': [m.__file__ for m in (csms, ocppj, simulators)], "
        "'fastapi': fastapi.__file__, 'path': sys.path}))"
    )
    out = subprocess.run(
        [str(venv.bin / "python"), "-c", probe],
        cwd=run,
        env=venv.env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    found = json.loads(out)
    for module in found["modules"]:
        assert Path(module).is_relative_to(venv.site_packages), module
    assert Path(found["fastapi"]).parent.parent == venv.site_packages  # linked dependency
    assert not any(entry and Path(entry).resolve() == REPO for entry in found["path"])
    # the dev tools of the main venv are not part of the closure
    missing = subprocess.run(
        [str(venv.bin / "python"), "-c", "import pytest"],
        cwd=run,
        env=venv.env(),
        capture_output=True,
        timeout=30,
    )
    assert missing.returncode != 0


def test_the_simulator_finds_its_scenarios_in_the_package(venv: FreshVenv) -> None:
    out = subprocess.run(
        [str(venv.bin / "csms-sim"), "scenarios"],
        cwd=venv.root,
        env=venv.env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    for scenario in ("smoke", "boot-storm", "city-day", "offline-replay"):
        assert scenario in out, out


async def test_serve_from_an_empty_folder_boots_a_station(venv: FreshVenv) -> None:
    run = venv.root / "serve"
    run.mkdir()
    proc = await asyncio.create_subprocess_exec(
        str(venv.bin / "csms"),
        "serve",
        "--host",
        "127.0.0.1",
        "--ocpp-port",
        "0",
        "--http-port",
        "0",
        "--data-dir",
        "data",
        "--node-id",
        "wheel",
        "--log-level",
        "warning",
        cwd=run,
        env=venv.env(CSMS_ADMIN_TOKEN=ADMIN_TOKEN),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output: list[str] = []
    try:
        ports: dict[str, int] = {}
        async with asyncio.timeout(60):
            while "http" not in ports:
                line = (await proc.stdout.readline()).decode()
                output.append(line)
                assert line, "csms serve exited early:\n" + "".join(output)
                if match := re.search(r"\b(ws|http)://127\.0\.0\.1:(\d+)/", line):
                    ports[match[1]] = int(match[2])
        assert (run / "data" / "pgdata" / "PG_VERSION").is_file()  # --data-dir, relative to cwd
        assert (run / "data" / "secret.key").is_file()

        base = f"http://127.0.0.1:{ports['http']}"
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            assert (await http.get("/healthz")).status_code == 200
            page = await http.get("/dashboard")  # static files from the package
            assert page.status_code == 200 and "dashboard.js" in page.text
            echarts = await http.get("/dashboard/static/vendor/echarts.min.js")
            assert echarts.status_code == 200 and len(echarts.content) > 100_000
            calendar = await http.get("/api/v1/calendar", headers=auth)  # holiday calendar
            assert calendar.status_code == 200 and calendar.json()["holidays"], calendar.text
            progress = await http.get("/api/v1/monitoring/progress", headers=auth)  # plan JSON
            assert progress.status_code == 200, progress.text
            assert "朔州" in progress.json()["plan"]["name"]

        station = await open_client(ports["ws"], "WHEEL-CP-1")
        try:
            boot = {"chargePointVendor": "Wheel", "chargePointModel": "W-1"}
            assert (await station.call("BootNotification", boot))["status"] == "Accepted"
            # the OCPP JSON schemas (inside the `ocpp` package) are found and enforced
            code, _ = await station.call_error("Heartbeat", {"unexpected": 1})
            assert code in ("FormationViolation", "PropertyConstraintViolation"), code
        finally:
            await station.close()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            rest = (await asyncio.wait_for(proc.stdout.read(), 30)).decode()
            output.append(rest)
            await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0, "".join(output)
    assert "stopped" in output[-1], "".join(output)
