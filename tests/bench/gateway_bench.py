"""Gateway benchmark: 1.6 MeterValues rate and latency, and server memory per idle connection.

Run with `make bench` or `python -m tests.bench.gateway_bench [--stations N --idle N ...]`.
Each part gets a fresh `csms serve` subprocess (own data directory, embedded PostgreSQL) on
127.0.0.1; the simulated stations run in this process on a websockets asyncio client. Figures
are printed and written as JSON; a slow or failing run is reported, never a test failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
BOOT = {"chargePointVendor": "Bench", "chargePointModel": "B1"}
ID_TAG = "BENCH"
# Simulated station clocks start a day back and advance 1 s per message, so every sample has
# its own timestamp (the server dedupes by station/connector/timestamp/measurand) and none
# lies in the future.
CLOCK_START = int(time.time()) - 86_400
SERVER_START_TIMEOUT = 120.0
SERVER_STOP_TIMEOUT = 20.0
CLOSE_TIMEOUT = 10.0
MAX_EXAMPLES = 5
_OCPP_LINE = re.compile(rf"OCPP\s+ws://{re.escape(HOST)}:(\d+)/")
_CLOCK_TICK = os.sysconf("SC_CLK_TCK")


class CallError(Exception):
    """The server answered a CALL with a CALLERROR."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code


class BadFrame(Exception):
    """The server sent a frame that is not the answer we wait for."""


# Everything a station exchange can raise that the benchmark reports instead of crashing on.
# (TimeoutError is an OSError; ConnectionClosed and handshake failures are WebSocketExceptions.)
EXCHANGE_ERRORS = (OSError, WebSocketException, CallError, BadFrame)


def describe(exc: BaseException) -> str:
    """A short error label: the CALLERROR code, else the exception type."""
    if isinstance(exc, CallError):
        return f"CALLERROR {exc.code}"
    return type(exc).__name__


@dataclass(slots=True)
class ErrorLog:
    """Counts errors by kind and keeps the first few in full."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def add(self, kind: str, detail: str) -> None:
        self.counts[kind] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{kind}: {detail}"[:300])

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {"total": self.total, "by_kind": dict(self.counts), "first": self.examples}


class Station:
    """One simulated 1.6J charge point: a socket, a message counter and a simulated clock."""

    def __init__(
        self,
        ws: ClientConnection,
        station_id: str,
        call_timeout: float,
        server_calls: Counter[str],
    ) -> None:
        self.ws = ws
        self.id = station_id
        self.call_timeout = call_timeout
        self.clock = CLOCK_START
        self._next_id = 0
        self._server_calls = server_calls

    def now(self) -> str:
        """The station's clock as ISO 8601 UTC text."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock))

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one CALL and return the CALLRESULT payload; raise CallError on a CALLERROR.

        The answer must come within `call_timeout` (TimeoutError otherwise).
        """
        self._next_id += 1
        unique_id = str(self._next_id)
        async with asyncio.timeout(self.call_timeout):
            await self.ws.send(json.dumps([2, unique_id, action, payload]))
            while True:
                frame = await self.ws.recv()
                try:
                    message = json.loads(frame)
                    kind = message[0]
                except (ValueError, TypeError, IndexError, KeyError):
                    raise BadFrame(f"unparsable frame {frame!r:.100}") from None
                if kind == 2 and len(message) == 4:
                    # A CSMS-initiated CALL: the benchmark station supports none of them.
                    self._server_calls[str(message[2])] += 1
                    error = [4, message[1], "NotSupported", "benchmark station", {}]
                    await self.ws.send(json.dumps(error))
                    continue
                if len(message) < 3 or message[1] != unique_id:
                    raise BadFrame(f"unexpected frame {frame!r:.100}")
                if kind == 3 and isinstance(message[2], dict):
                    result: dict[str, Any] = message[2]
                    return result
                if kind == 4 and len(message) >= 4:
                    raise CallError(str(message[2]), str(message[3]))
                raise BadFrame(f"unexpected frame {frame!r:.100}")

    async def close(self) -> None:
        """Close the socket; errors and slowness are ignored (bounded by CLOSE_TIMEOUT)."""
        with contextlib.suppress(OSError, WebSocketException):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.ws.close()


class Server:
    """A `csms serve` subprocess on 127.0.0.1 with its own data directory."""

    def __init__(self, root: Path, name: str) -> None:
        self.dir = root / name
        self.name = name
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.http_port = 0  # 0: any free port (the benches that use the API set one)
        self.env: dict[str, str] = {}  # extra environment, e.g. CSMS_ADMIN_TOKEN

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "csms",
            "serve",
            "--host",
            HOST,
            "--ocpp-port",
            "0",
            "--http-port",
            str(self.http_port),
            "--data-dir",
            str(self.dir / "data"),
            "--log-level",
            "warning",
            "--ping-interval",
            "0",
            "--heartbeat-interval",
            "3600",
            "--unknown-tokens",
            "accept",
            "--node-id",
            "bench",
        ]

    async def start(self) -> None:
        """Spawn the server and wait until it prints its OCPP URL."""
        runtime = self.dir / "run"
        runtime.mkdir(parents=True)
        runtime.chmod(0o700)  # platformdirs ignores a runtime dir other users can read
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)  # unset: the embedded PostgreSQL under --data-dir
        env["XDG_RUNTIME_DIR"] = str(runtime)  # pgserver's lock file, kept private
        env.update(self.env)
        # Output goes to files, which never fill up and which PostgreSQL may inherit harmlessly.
        with (self.dir / "stdout").open("wb") as out, (self.dir / "stderr").open("wb") as err:
            # Own session: a Ctrl-C reaches only us, and we stop the server in order.
            self.proc = await asyncio.create_subprocess_exec(
                *self.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=REPO_ROOT,
                start_new_session=True,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            match = _OCPP_LINE.search((self.dir / "stdout").read_text(errors="replace"))
            if match:
                self.port = int(match.group(1))
                return
            if self.proc.returncode is not None:
                raise RuntimeError(
                    f"server exited with code {self.proc.returncode}:\n" + self.stderr_tail()
                )
            await asyncio.sleep(0.1)
        raise RuntimeError(f"server not ready after {SERVER_START_TIMEOUT:.0f} s")

    async def stop(self) -> int | None:
        """SIGTERM, wait up to SERVER_STOP_TIMEOUT, then SIGKILL; return the exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), SERVER_STOP_TIMEOUT)
        if proc.returncode is None:
            log(f"server {self.name} ignored SIGTERM for {SERVER_STOP_TIMEOUT:.0f} s: SIGKILL")
            proc.kill()
            await proc.wait()
        self.stop_orphaned_postgres()
        return proc.returncode

    def kill(self) -> None:
        """Last resort from a synchronous finally, when the event loop is already gone."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.stop_orphaned_postgres()

    def stop_orphaned_postgres(self) -> None:
        """Fast-shutdown the PostgreSQL a dead server left behind, if any (normally none)."""
        postmaster = self.postmaster_pid()
        if postmaster is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGINT)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def rss_kib(self) -> int | None:
        """VmRSS of the server's Python process alone (not PostgreSQL); None once it is gone."""
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None  # a zombie has no VmRSS

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server's Python process."""
        return proc_cpu_seconds(self.pid)

    def postmaster_pid(self) -> int | None:
        """The live postmaster of this server's data directory (checked by its command line)."""
        pgdata = self.dir / "data" / "pgdata"
        try:
            pid = int((pgdata / "postmaster.pid").read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            return None
        return pid if str(pgdata.resolve()).encode() in cmdline else None

    def postgres_pids(self) -> list[int]:
        """The postmaster and its children (the embedded PostgreSQL)."""
        postmaster = self.postmaster_pid()
        if postmaster is None:
            return []
        pids = [postmaster]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and parent_pid(int(entry.name)) == postmaster:
                pids.append(int(entry.name))
        return pids

    def postgres_cpu_seconds(self) -> float:
        return sum(proc_cpu_seconds(pid) or 0.0 for pid in self.postgres_pids())

    def postgres_pss_kib(self) -> int | None:
        """Proportional set size summed over PostgreSQL processes (shared memory counted once)."""
        total = 0
        for pid in self.postgres_pids():
            try:
                text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                return None
            total += next(
                (int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0
            )
        return total or None

    def stderr_lines(self) -> list[str]:
        path = self.dir / "stderr"
        if not path.exists():
            return []
        return [line for line in path.read_text(errors="replace").splitlines() if line.strip()]

    def stderr_tail(self, lines: int = 20) -> str:
        return "\n".join(self.stderr_lines()[-lines:])


def proc_stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (index 0 is field 3, the state)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text[text.rfind(")") + 2 :].split()


def parent_pid(pid: int) -> int | None:
    fields = proc_stat_fields(pid)
    return int(fields[1]) if fields else None


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process; None once it is gone."""
    fields = proc_stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICK if fields else None


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextlib.asynccontextmanager
async def running_server(
    root: Path, name: str, servers: list[Server], server: Server | None = None
) -> AsyncIterator[Server]:
    """A started server, always stopped on exit; `servers` lets a sync finally kill leftovers."""
    server = server or Server(root, name)
    servers.append(server)
    log(f"starting server {name} ...")
    try:
        await server.start()
        log(f"server {name} ready on port {server.port} (pid {server.pid})")
        yield server
    finally:
        code = await server.stop()
        log(f"server {name} stopped (exit code {code})")


def log(text: str) -> None:
    """Progress for the person watching; figures go to stdout at the end."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def open_station(
    port: int,
    station_id: str,
    *,
    deflate: bool,
    call_timeout: float,
    errors: ErrorLog,
    server_calls: Counter[str],
) -> Station | None:
    """Connect and boot one station; None (and an error logged) if that fails."""
    try:
        ws = await connect(
            f"ws://{HOST}:{port}/ocpp/{station_id}",
            subprotocols=[Subprotocol("ocpp1.6")],
            compression="deflate" if deflate else None,
            open_timeout=call_timeout,
            ping_interval=None,
            close_timeout=5,
        )
    except EXCHANGE_ERRORS as exc:
        errors.add(f"connect {describe(exc)}", f"{station_id}: {exc}")
        return None
    station = Station(ws, station_id, call_timeout, server_calls)
    if ws.subprotocol != "ocpp1.6":
        errors.add("connect no subprotocol", f"{station_id}: got {ws.subprotocol!r}")
        await station.close()
        return None
    try:
        result = await station.call("BootNotification", BOOT)
    except EXCHANGE_ERRORS as exc:
        errors.add(f"BootNotification {describe(exc)}", f"{station_id}: {exc}")
        await station.close()
        return None
    if result.get("status") != "Accepted":
        errors.add("BootNotification not Accepted", f"{station_id}: {result}")
        await station.close()
        return None
    return station


async def open_in_batches(
    count: int, batch: int, opener: Callable[[int], Awaitable[Station | None]]
) -> list[Station]:
    """Open `count` stations, `batch` at a time; failed ones are left out."""
    stations: list[Station] = []
    for first in range(0, count, batch):
        opened = await asyncio.gather(*(opener(i) for i in range(first, min(first + batch, count))))
        stations.extend(s for s in opened if s is not None)
    return stations


async def close_all(stations: Sequence[Station]) -> None:
    await asyncio.gather(*(s.close() for s in stations))


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0 when empty)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


@dataclass(slots=True)
class Window:
    """The measured interval, on the time.perf_counter() clock."""

    start: float
    end: float


@dataclass(slots=True)
class MeterStats:
    """What the MeterValues loops of all stations observed."""

    latencies: list[float] = field(default_factory=list)
    answered_total: int = 0
    errors: ErrorLog = field(default_factory=ErrorLog)


async def meter_loop(
    station: Station, transaction_id: int, window: Window, stats: MeterStats
) -> None:
    """Send MeterValues back to back until the window ends; stop early on a broken socket."""
    energy = 0
    while time.perf_counter() < window.end:
        station.clock += 1
        energy += 2  # ~7 kW for one second
        payload = {
            "connectorId": 1,
            "transactionId": transaction_id,
            "meterValue": [
                {
                    "timestamp": station.now(),
                    "sampledValue": [
                        {
                            "value": str(energy),
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                        {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"},
                    ],
                }
            ],
        }
        sent = time.perf_counter()
        try:
            await station.call("MeterValues", payload)
        except CallError as exc:
            stats.errors.add(f"MeterValues {describe(exc)}", f"{station.id}: {exc}")
            continue
        except EXCHANGE_ERRORS as exc:
            stats.errors.add(f"MeterValues {describe(exc)}", f"{station.id}: {exc}")
            return
        answered = time.perf_counter()
        stats.answered_total += 1
        if sent >= window.start and answered <= window.end:
            stats.latencies.append(answered - sent)


@dataclass(slots=True)
class CpuSample:
    """CPU seconds used so far by the server, PostgreSQL and this process, at a moment."""

    at: float
    server: float | None
    postgres: float
    client: float

    @staticmethod
    def take(server: Server) -> CpuSample:
        return CpuSample(
            time.perf_counter(),
            server.cpu_seconds(),
            server.postgres_cpu_seconds(),
            self_cpu_seconds(),
        )


async def sample_cpu(server: Server, window: Window) -> tuple[CpuSample, CpuSample]:
    await asyncio.sleep(max(0.0, window.start - time.perf_counter()))
    first = CpuSample.take(server)
    await asyncio.sleep(max(0.0, window.end - time.perf_counter()))
    return first, CpuSample.take(server)


async def meter_values_part(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    """Part (a): N stations in a transaction send MeterValues back to back."""
    stats = MeterStats()
    setup_errors = ErrorLog()
    server_calls: Counter[str] = Counter()
    id_tag_status: Counter[str] = Counter()
    transactions: dict[str, int] = {}

    async def opener(i: int) -> Station | None:
        station = await open_station(
            server.port,
            f"bench-mv-{i:05d}",
            deflate=args.deflate,
            call_timeout=args.call_timeout,
            errors=setup_errors,
            server_calls=server_calls,
        )
        if station is None:
            return None
        start = {"connectorId": 1, "idTag": ID_TAG, "meterStart": 0, "timestamp": station.now()}
        try:
            result = await station.call("StartTransaction", start)
            transactions[station.id] = int(result["transactionId"])
        except (*EXCHANGE_ERRORS, KeyError, TypeError, ValueError) as exc:
            setup_errors.add(f"StartTransaction {describe(exc)}", f"{station.id}: {exc}")
            await station.close()
            return None
        id_tag_status[str(result.get("idTagInfo", {}).get("status"))] += 1
        return station

    log(f"connecting {args.stations} stations (BootNotification + StartTransaction) ...")
    began = time.perf_counter()
    stations = await open_in_batches(args.stations, args.batch, opener)
    connect_seconds = time.perf_counter() - began
    log(f"{len(stations)} stations ready in {connect_seconds:.1f} s; warm-up {args.warmup} s")

    now = time.perf_counter()
    window = Window(now + args.warmup, now + args.warmup + args.seconds)
    cpu_task = asyncio.create_task(sample_cpu(server, window))
    loops = [meter_loop(s, transactions[s.id], window, stats) for s in stations]
    try:
        async with asyncio.timeout(args.warmup + args.seconds + args.call_timeout + 10):
            await asyncio.gather(*loops)
    except TimeoutError:
        stats.errors.add("run overran", "station loops cancelled at the hard deadline")
    cpu_first, cpu_last = await cpu_task
    log(f"measured; closing {len(stations)} stations ...")
    await close_all(stations)

    ordered = sorted(stats.latencies)
    elapsed = cpu_last.at - cpu_first.at

    def share(before: float | None, after: float | None) -> float | None:
        """Percent of one core; None when a process went away (its CPU time is lost)."""
        if before is None or after is None or after < before or elapsed <= 0:
            return None
        return round(100 * (after - before) / elapsed, 1)

    return {
        "stations": args.stations,
        "stations_ready": len(stations),
        "connect_batch": args.batch,
        "connect_seconds": round(connect_seconds, 2),
        "setup_errors": setup_errors.as_json(),
        "start_transaction_id_tag_status": dict(id_tag_status),
        "warmup_seconds": args.warmup,
        "measured_seconds": args.seconds,
        "messages_answered": len(ordered),
        "messages_answered_incl_warmup": stats.answered_total,
        "messages_per_second": round(len(ordered) / args.seconds, 1),
        "latency_ms": {
            name: round(1000 * value, 2)
            for name, value in (
                ("p50", percentile(ordered, 0.50)),
                ("p95", percentile(ordered, 0.95)),
                ("p99", percentile(ordered, 0.99)),
                ("max", ordered[-1] if ordered else 0.0),
            )
        },
        "errors": stats.errors.as_json(),
        "cpu_percent_of_one_core": {
            "server": share(cpu_first.server, cpu_last.server),
            "postgresql": share(cpu_first.postgres, cpu_last.postgres),
            "load_generator": share(cpu_first.client, cpu_last.client),
        },
        "server_initiated_calls": dict(server_calls),
    }


async def memory_part(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    """Part (b): server RSS before and after N booted, idle stations."""
    errors = ErrorLog()
    server_calls: Counter[str] = Counter()

    def opener(prefix: str) -> Callable[[int], Awaitable[Station | None]]:
        def open_one(i: int) -> Awaitable[Station | None]:
            return open_station(
                server.port,
                f"{prefix}-{i:05d}",
                deflate=args.deflate,
                call_timeout=args.call_timeout,
                errors=errors,
                server_calls=server_calls,
            )

        return open_one

    # One-off costs (lazy imports, pool connections, caches) are paid before the baseline.
    warm = await open_in_batches(args.warm_stations, args.warm_stations, opener("bench-warm"))
    await close_all(warm)
    await asyncio.sleep(1.0)
    before = server.rss_kib()
    pg_before = server.postgres_pss_kib()

    log(f"connecting {args.idle} stations (BootNotification), {args.idle_batch} at a time ...")
    began = time.perf_counter()
    stations = await open_in_batches(args.idle, args.idle_batch, opener("bench-idle"))
    connect_seconds = time.perf_counter() - began
    after_boot = server.rss_kib()
    log(f"{len(stations)} stations booted in {connect_seconds:.1f} s; idle {args.idle_wait} s")
    await asyncio.sleep(args.idle_wait)
    after_idle = server.rss_kib()
    pg_after = server.postgres_pss_kib()
    log(f"closing {len(stations)} stations ...")
    await close_all(stations)

    delta = None if after_idle is None or before is None else after_idle - before
    return {
        "stations": args.idle,
        "stations_connected": len(stations),
        "stations_failed": args.idle - len(stations),
        "connect_batch": args.idle_batch,
        "connect_and_boot_seconds": round(connect_seconds, 2),
        "warm_up_stations": args.warm_stations,
        "idle_seconds": args.idle_wait,
        "server_rss_kib": {"before": before, "after_boot": after_boot, "after_idle": after_idle},
        "delta_kib": delta,
        "kib_per_idle_connection": (
            round(delta / len(stations), 1) if stations and delta is not None else None
        ),
        "postgresql_pss_kib": {"before": pg_before, "after_idle": pg_after},
        "errors": errors.as_json(),
        "server_initiated_calls": dict(server_calls),
    }


def raise_fd_limit() -> int:
    """Raise RLIMIT_NOFILE to the hard limit (the server inherits it); return the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def setup_text(args: argparse.Namespace, uvloop: bool) -> str:
    client_loop = "uvloop" if uvloop else "asyncio"
    deflate = "offered" if args.deflate else "off"
    return (
        f"server: `csms serve` in its own process (embedded PostgreSQL, ping off, "
        f"unknown id tags accepted), fresh data dir per part; "
        f"load: stations in the benchmark process (websockets asyncio client on {client_loop}), "
        f"one outstanding CALL per station; permessage-deflate {deflate}; loopback {HOST}"
    )


async def run(args: argparse.Namespace, servers: list[Server], uvloop: bool) -> dict[str, Any]:
    fd_limit = raise_fd_limit()
    needed = max(args.stations, args.idle + args.warm_stations) + 100
    if fd_limit < needed:
        log(f"warning: RLIMIT_NOFILE hard limit {fd_limit} < {needed} sockets needed")
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "fd_limit": fd_limit,
        },
        "setup": setup_text(args, uvloop),
    }
    root = Path(tempfile.mkdtemp(prefix="csms-bench-"))
    try:
        for key, part, count in (
            ("meter_values", meter_values_part, args.stations),
            ("memory", memory_part, args.idle),
        ):
            if count <= 0:
                continue
            try:
                async with running_server(root, key, servers) as server:
                    results[key] = await part(args, server)
                    results[key]["server_alive_after"] = server.running
                results[key]["server_exit_code"] = server.proc.returncode if server.proc else None
                results[key]["server_stderr"] = server.stderr_lines()[:20]
            except (RuntimeError, OSError) as exc:  # the server did not start: report, go on
                results[key] = {"failed": str(exc)}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results


def fmt_errors(errors: dict[str, Any]) -> list[str]:
    lines = [f"{errors['total']:,}"]
    if errors["total"]:
        lines[0] += "  (" + ", ".join(f"{k}: {v}" for k, v in errors["by_kind"].items()) + ")"
        lines += [f"  first: {example}" for example in errors["first"]]
    return lines


def report(results: dict[str, Any]) -> str:
    """The figures as a readable table."""
    out: list[str] = []

    def row(label: str, value: object) -> None:
        out.append(f"  {label:<34} {value}")

    def rows(label: str, lines: list[str]) -> None:
        row(label, lines[0])
        out.extend(f"  {'':<34} {line}" for line in lines[1:])

    host = results["host"]
    out.append(
        f"OCPP gateway benchmark, {results['when']}: {host['cpus']} CPUs, Python "
        f"{host['python']}, RLIMIT_NOFILE {host['fd_limit']}"
    )
    out.append(f"setup: {results['setup']}")
    mv = results.get("meter_values")
    if mv is not None:
        out.append("")
        out.append("(a) OCPP 1.6 MeterValues, back to back (2 sampled values per message)")
        if "failed" in mv:
            rows("FAILED", mv["failed"].splitlines())
        else:
            lat = mv["latency_ms"]
            cpu = mv["cpu_percent_of_one_core"]
            row("stations", f"{mv['stations_ready']:,} ready of {mv['stations']:,}")
            row(
                "connect + boot + start",
                f"{mv['connect_seconds']} s in batches of {mv['connect_batch']}",
            )
            rows("setup errors", fmt_errors(mv["setup_errors"]))
            row("idTagInfo on StartTransaction", mv["start_transaction_id_tag_status"])
            row("warm-up / measured", f"{mv['warmup_seconds']} s / {mv['measured_seconds']} s")
            row("messages answered (measured)", f"{mv['messages_answered']:,}")
            row("messages/s", f"{mv['messages_per_second']:,.0f}")
            row(
                "latency p50 / p95 / p99 / max",
                f"{lat['p50']} / {lat['p95']} / {lat['p99']} / {lat['max']} ms",
            )
            rows("errors (warm-up + measured)", fmt_errors(mv["errors"]))
            row(
                "CPU while measured (% of 1 core)",
                "  ".join(
                    f"{name} {'n/a' if cpu[key] is None else cpu[key]}"
                    for name, key in (
                        ("server", "server"),
                        ("PostgreSQL", "postgresql"),
                        ("load generator", "load_generator"),
                    )
                ),
            )
            row("CSMS-initiated CALLs", mv["server_initiated_calls"] or "none")
            rows("server", part_server_state(mv))
    mem = results.get("memory")
    if mem is not None:
        out.append("")
        out.append("(b) Memory per idle connection (VmRSS of the server's Python process only)")
        if "failed" in mem:
            rows("FAILED", mem["failed"].splitlines())
        else:
            rss = mem["server_rss_kib"]
            pg = mem["postgresql_pss_kib"]
            row(
                "stations connected + booted",
                f"{mem['stations_connected']:,} of {mem['stations']:,}",
            )
            row(
                "connect + boot time",
                f"{mem['connect_and_boot_seconds']} s in batches of {mem['connect_batch']}",
            )
            rows("failed / errors", fmt_errors(mem["errors"]))
            row(
                "RSS before",
                f"{mib(rss['before'])} (after {mem['warm_up_stations']} warm-up stations came "
                "and went)",
            )
            row("RSS right after the boot storm", mib(rss["after_boot"]))
            row(f"RSS after {mem['idle_seconds']} s idle", mib(rss["after_idle"]))
            row("delta", mib(mem["delta_kib"]))
            per = mem["kib_per_idle_connection"]
            row("per idle connection", f"{per} KiB" if per is not None else "n/a")
            row(
                "PostgreSQL (not included; PSS)",
                f"{mib(pg['before'])} before, {mib(pg['after_idle'])} after",
            )
            row("CSMS-initiated CALLs", mem["server_initiated_calls"] or "none")
            rows("server", part_server_state(mem))
    return "\n".join(out)


def part_server_state(part: dict[str, Any]) -> list[str]:
    state = "alive to the end" if part.get("server_alive_after") else "DIED during the run"
    state += f", exit code {part.get('server_exit_code')} after SIGTERM"
    stderr: list[str] = part.get("server_stderr") or []
    if not stderr:
        return [state + "; nothing on stderr (log level warning)"]
    return [state + f"; stderr (first {len(stderr)} lines):"] + [
        f"  {line[:150]}" for line in stderr[:MAX_EXAMPLES]
    ]


def mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:,.1f} MiB"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.gateway_bench",
        description="OCPP gateway benchmark (loopback). Defaults are the issue's numbers.",
    )
    parser.add_argument("--stations", type=int, default=1000, help="MeterValues stations (0: skip)")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--batch", type=int, default=100, help="stations connected at a time")
    parser.add_argument("--idle", type=int, default=5000, help="idle stations (0: skip)")
    parser.add_argument("--idle-batch", type=int, default=250, help="idle stations at a time")
    parser.add_argument("--idle-wait", type=float, default=3.0, help="idle seconds before RSS")
    parser.add_argument("--warm-stations", type=int, default=20, help="before the RSS baseline")
    parser.add_argument("--call-timeout", type=float, default=30.0, help="per connect/CALL")
    parser.add_argument("--deflate", action="store_true", help="offer permessage-deflate")
    parser.add_argument("--output", type=Path, default=Path("bench-results/gateway.json"))
    args = parser.parse_args(argv)
    if min(args.batch, args.idle_batch, args.warm_stations) < 1 or args.seconds <= 0:
        parser.error("batches and warm stations must be >= 1, --seconds > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    servers: list[Server] = []
    try:
        import uvloop

        runner: Callable[[Any], Any] = uvloop.run
        has_uvloop = True
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
        runner, has_uvloop = asyncio.run, False
    try:
        results: dict[str, Any] = runner(run(args, servers, has_uvloop))
    except KeyboardInterrupt:
        return 130
    finally:
        for server in servers:  # normally already stopped; this only catches an abort
            server.kill()
    print(report(results), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nJSON: {args.output}", flush=True)
    # Slow figures never fail the run; a part that could not run at all (no server) does.
    return 1 if any("failed" in results.get(key, {}) for key in ("meter_values", "memory")) else 0


if __name__ == "__main__":
    sys.exit(main())
