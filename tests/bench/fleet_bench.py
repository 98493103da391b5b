"""Issue 4 figures from `csms-sim fleet` against a real `csms serve`: boot storm, sustained
1.6 MeterValues, memory per idle station. Prints; never fails on a timing.

Simulator and CSMS share this machine's 2 cores (the simulator costs ~0.4 core at 10,000
stations), loopback only. Each part gets a fresh server and data directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from tests.bench.gateway_bench import (
    HOST,
    REPO_ROOT,
    Server,
    log,
    mib,
    raise_fd_limit,
    running_server,
)
from tests.platform_support import create_platform, platform_process

RESULTS = REPO_ROOT / "bench-results" / "fleet.json"
FLEET_LIMIT_SLACK = 120.0  # seconds beyond a part's own duration before the fleet is killed


async def run_fleet(
    server: Server, workdir: Path, name: str, args: list[str], limit: float
) -> dict[str, Any]:
    """Run `csms-sim fleet` to completion (killed after `limit` s); return its JSON report."""
    report = workdir / f"{name}.json"
    command = [
        sys.executable,
        "-m",
        "simulators",
        "fleet",
        "--url",
        f"ws://{HOST}:{server.port}/ocpp",
        "--report",
        str(report),
        "--progress",
        "off",
        *args,
    ]
    log(f"{name}: csms-sim fleet {' '.join(args)}")
    with (workdir / f"{name}.out").open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
        try:
            await asyncio.wait_for(proc.wait(), limit)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            log(f"{name}: the fleet did not finish within {limit:.0f} s and was killed")
    if not report.exists():
        tail = (workdir / f"{name}.out").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{name}: no report; fleet output ends with:\n{tail}")
    result: dict[str, Any] = json.loads(report.read_text())
    result["exit_code"] = proc.returncode
    return result


def errors_text(report: dict[str, Any]) -> str:
    errors = report.get("errors") or {}
    return ", ".join(f"{k} {v}" for k, v in errors.items()) or "none"


async def boot_storm(
    root: Path, servers: list[Server], stations: int, platform: bool = False
) -> dict[str, Any]:
    """The storm; with `platform`, a monitoring platform (the simulator, its own process) is
    configured first, so every StatusNotification also records its code and queues a push."""
    async with contextlib.AsyncExitStack() as stack:
        server = Server(root, "storm")
        stats = None
        if platform:
            sim_port, server.http_port = free_port(), free_port()
            server.env["CSMS_ADMIN_TOKEN"] = BENCH_ADMIN
            stats = await stack.enter_async_context(platform_process(sim_port))
        server = await stack.enter_async_context(running_server(root, "storm", servers, server))
        if platform:
            await create_platform(
                f"http://{HOST}:{server.http_port}",
                BENCH_ADMIN,
                f"http://{HOST}:{sim_port}/evcs/v1",
            )
        started = time.monotonic()
        report = await run_fleet(
            server,
            root,
            "boot-storm",
            ["--scenario", "boot-storm", "--stations", str(stations)],
            600 + FLEET_LIMIT_SLACK,
        )
        pushed = None
        if stats is not None:
            pushed = await platform_drain(server.http_port, stats, started)
    st = report["stations"]
    boot = report["messages"].get("BootNotification", {})
    return {
        "stations": stations,
        "platform": platform,
        "accepted": st["accepted"],
        "time_to_all_accepted_s": st["time_to_all_accepted_s"],
        "connects": st["connects"],
        "reconnects": st["reconnects"],
        "boot_latency_ms": boot.get("latency_ms"),
        "errors": report.get("errors"),
        "errors_text": errors_text(report),
        "pushed": pushed,
    }


BENCH_ADMIN = "bench-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


async def platform_drain(
    http_port: int, stats: Callable[[], Awaitable[dict[str, Any]]], started: float
) -> dict[str, Any]:
    """Wait (at most 10 min) until the platform has everything; when, and how much."""
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{http_port}",
        headers={"Authorization": f"Bearer {BENCH_ADMIN}"},
    ) as http:
        at_storm_end = (await stats())["received"]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            [health] = (await http.get("/api/v1/platforms/health")).json()
            if health["pending"] == 0:
                break
            await asyncio.sleep(1)
        final = await stats()
    return {
        "received_at_storm_end": at_storm_end,
        "received": final["received"],
        "pending": health["pending"],
        "failed": health["failed"],
        "drained_after_s": round(time.monotonic() - started, 1),
    }


async def meter_values(
    root: Path, servers: list[Server], stations: int, seconds: float
) -> dict[str, Any]:
    async with running_server(root, "meter", servers) as server:
        report = await run_fleet(
            server,
            root,
            "meter-values",
            [
                "--scenario",
                "meter-values",
                "--version",
                "1.6",
                "--stations",
                str(stations),
                "--duration",
                str(seconds),
            ],
            seconds + FLEET_LIMIT_SLACK,
        )
        cpu = server.cpu_seconds()
    mv = report["messages"].get("MeterValues", {})
    return {
        "stations": stations,
        "duration_s": report["duration_s"],
        "steady_window_s": report["throughput"]["steady_window_s"],
        "meter_values_per_s_steady": mv.get("per_s_steady"),
        "latency_ms": mv.get("latency_ms"),
        "sent": mv.get("sent"),
        "errors": report.get("errors"),
        "errors_text": errors_text(report),
        "server_cpu_s": cpu,
    }


async def idle_memory(
    root: Path, servers: list[Server], stations: int, hold: float
) -> dict[str, Any]:
    async with running_server(root, "idle", servers) as server:
        await asyncio.sleep(2)
        before = server.rss_kib()
        samples: list[tuple[float, int]] = []

        async def sample() -> None:
            started = time.monotonic()
            while True:
                rss = server.rss_kib()
                if rss is not None:
                    samples.append((time.monotonic() - started, rss))
                await asyncio.sleep(1)

        sampler = asyncio.ensure_future(sample())
        try:
            report = await run_fleet(
                server,
                root,
                "idle",
                ["--scenario", "idle", "--stations", str(stations), "--duration", str(hold)],
                hold + FLEET_LIMIT_SLACK,
            )
        finally:
            sampler.cancel()
    # the plateau: the last third of the hold, when everyone is connected and idle
    held = [rss for t, rss in samples if t >= hold * 2 / 3] or [s[1] for s in samples]
    plateau = sorted(held)[len(held) // 2] if held else None
    connected = report["stations"]["peak_connected"]
    per_station = (plateau - before) / connected if plateau and before and connected else None
    return {
        "stations": stations,
        "accepted": report["stations"]["accepted"],
        "peak_connected": connected,
        "rss_before_kib": before,
        "rss_idle_kib": plateau,
        "kib_per_idle_station": round(per_station, 1) if per_station else None,
        "errors_text": errors_text(report),
    }


def print_report(results: dict[str, Any]) -> None:
    print("\nFleet benchmarks (csms-sim fleet against csms serve, same 2-core host, loopback)")
    if (storm := results.get("boot_storm")) is not None:
        latency = storm["boot_latency_ms"] or {}
        with_platform = " with a monitoring platform" if storm.get("platform") else ""
        print(
            f"\n(a) boot storm: {storm['stations']:,} stations at once (half 1.6, half 2.0.1)"
            f"{with_platform}"
        )
        print(f"  accepted                 {storm['accepted']:,}")
        print(f"  time until all Accepted  {storm['time_to_all_accepted_s']} s")
        print(f"  connects / reconnects    {storm['connects']:,} / {storm['reconnects']:,}")
        print(f"  BootNotification p50/p99 {latency.get('p50')} / {latency.get('p99')} ms")
        print(f"  errors                   {storm['errors_text']}")
        if (pushed := storm.get("pushed")) is not None:
            print(
                f"  platform pushes          {pushed['received']:,} received "
                f"({pushed['received_at_storm_end']:,} by the storm's end), "
                f"{pushed['pending']} pending, {pushed['failed']} failed, "
                f"all in {pushed['drained_after_s']} s from the start"
            )
    if (meter := results.get("meter_values")) is not None:
        latency = meter["latency_ms"] or {}
        print(f"\n(b) sustained 1.6 MeterValues: {meter['stations']:,} charging stations")
        print(f"  steady window            {meter['steady_window_s']} s")
        print(f"  MeterValues/s (steady)   {meter['meter_values_per_s_steady']}")
        print(
            f"  latency p50/p95/p99      {latency.get('p50')} / {latency.get('p95')} / "
            f"{latency.get('p99')} ms"
        )
        print(f"  errors                   {meter['errors_text']}")
    if (idle := results.get("idle")) is not None:
        print(f"\n(c) memory: {idle['stations']:,} idle stations held connected")
        print(f"  accepted / peak connected {idle['accepted']:,} / {idle['peak_connected']:,}")
        before, held = idle["rss_before_kib"], idle["rss_idle_kib"]
        print(f"  CSMS RSS before / held    {mib(before)} / {mib(held)}")
        print(f"  per idle station          {idle['kib_per_idle_station']} KiB")
        print(f"  errors                    {idle['errors_text']}")
    print(f"\nJSON: {RESULTS.relative_to(REPO_ROOT)}")


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    servers: list[Server] = []
    results: dict[str, Any] = {"parts": args.parts}
    with tempfile.TemporaryDirectory(prefix="csms-fleet-bench-") as tmp:
        root = Path(tmp)
        try:
            if "storm" in args.parts:
                results["boot_storm"] = await boot_storm(root, servers, args.storm, args.platform)
            if "meter" in args.parts:
                results["meter_values"] = await meter_values(
                    root, servers, args.meter, args.seconds
                )
            if "idle" in args.parts:
                results["idle"] = await idle_memory(root, servers, args.idle, args.hold)
        finally:
            for server in servers:
                server.kill()
    return results


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storm", type=int, default=10000, help="boot-storm stations")
    parser.add_argument("--meter", type=int, default=2000, help="MeterValues stations")
    parser.add_argument("--seconds", type=float, default=60, help="MeterValues run length")
    parser.add_argument("--idle", type=int, default=10000, help="idle stations")
    parser.add_argument("--hold", type=float, default=60, help="seconds the idle fleet runs")
    parser.add_argument(
        "--platform",
        action="store_true",
        help="boot storm with a monitoring platform configured (pushes to the simulator)",
    )
    parser.add_argument(
        "--parts", nargs="+", default=["storm", "meter", "idle"], choices=["storm", "meter", "idle"]
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    raise_fd_limit()
    results = asyncio.run(main_async(args))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
