"""The end-of-run report: one JSON-ready dict, shown as console tables and written to a file.

Messages are the station-initiated CALLs by action (sent includes retries and replays; ok and
errors are answers); latency is from sending a CALL to its answer; per_s_steady counts answers
per second once every station is up and accepted, until the run's end condition. Sessions count
what the CSMS acknowledged: started = start answered, completed = stop answered, energy = meter
stop - meter start of the completed ones.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from simulators.fleet.runner import FleetRun
from simulators.stats import ActionStats


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def _action(stats: ActionStats, steady: tuple[float, float]) -> dict[str, Any]:
    latency = stats.latency
    return {
        "per_s_steady": _rate(stats.answered_per_second, *steady),
        "sent": stats.sent,
        "ok": stats.ok,
        "errors": stats.errors,
        "timeouts": stats.timeouts,
        "lost": stats.lost,
        "latency_ms": {
            "p50": _ms(latency.quantile(0.50)),
            "p95": _ms(latency.quantile(0.95)),
            "p99": _ms(latency.quantile(0.99)),
            "max": _ms(latency.max_s if latency.total else None),
            "mean": _ms(latency.mean_s),
        },
    }


def _rate(per_second: Counter[int], start: float, end: float) -> float | None:
    """Mean answered CALLs per second over whole seconds in [start, end)."""
    first, last = int(start) + 1, int(end)
    if last <= first:
        return None
    return round(sum(per_second[s] for s in range(first, last)) / (last - first), 1)


def never_connected(run: FleetRun) -> dict[str, tuple[int, str]]:
    """Stations launched that never had a WebSocket open, by the code of their last failure:
    (how many, one of their reasons)."""
    causes: dict[str, tuple[int, str]] = {}
    for station in run.stations:
        if station.ever_connected:
            continue
        failure = station.last_connect_failure
        code, reason = (failure.code, failure.reason) if failure else ("NotTried", "no attempt")
        count, first = causes.get(code, (0, reason))
        causes[code] = (count + 1, first)
    return causes


def build(run: FleetRun) -> dict[str, Any]:
    stats = run.stats
    scenario = run.scenario
    end = run.finished_after_s or stats.elapsed()
    stopped = run.stopped_after_s or end
    answered = stats.messages_answered()
    accepted = sorted(stats.accepted_at.values())
    all_accepted = len(accepted) == len(run.specs)
    # The steady state: every station launched and accepted, until the end condition.
    up = max(run.launched_after_s or 0.0, accepted[-1] if all_accepted and accepted else 0.0)
    steady = (up, stopped)
    busiest = max(stats.answered_per_second.values(), default=0)
    never = never_connected(run)
    return {
        "scenario": scenario.name,
        "url": run.url,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "duration_s": round(end, 2),
        "stopped_after_s": round(stopped, 2),
        "stations": {
            "planned": len(run.specs),
            "launched": run.launched,
            "launched_after_s": None
            if run.launched_after_s is None
            else round(run.launched_after_s, 2),
            "by_version": dict(Counter(s.version for s in run.specs)),
            "by_charger": dict(Counter(s.kind for s in run.specs)),
            "by_county": dict(Counter(s.county for s in run.specs if s.county)),
            "accepted": len(accepted),
            "time_to_all_accepted_s": round(accepted[-1], 3) if all_accepted and accepted else None,
            "accepted_p50_s": round(accepted[len(accepted) // 2], 3) if accepted else None,
            "boots": dict(stats.boots),
            "connects": stats.connects,
            "reconnects": stats.reconnects,
            "peak_connected": stats.peak_connected,
            "crashed": run.crashed,
            "never_connected": sum(n for n, _ in never.values()),
            # why the stations that never got in failed last: {code: {stations, reason}}
            "never_connected_by_cause": {
                code: {"stations": n, "reason": reason}
                for code, (n, reason) in sorted(never.items())
            },
        },
        "messages": {action: _action(s, steady) for action, s in sorted(stats.outbound.items())},
        "commands_received": dict(sorted(stats.inbound.items())),
        "errors": dict(sorted(stats.errors.items())),
        "throughput": {
            "answered": answered,
            "per_s_mean": round(answered / end, 1) if end > 0 else None,
            "steady_window_s": [round(up, 1), round(stopped, 1)],
            "per_s_steady": _rate(stats.answered_per_second, *steady),
            "per_s_peak": busiest,
        },
        "sessions": {
            "started": stats.sessions_started,
            "completed": stats.sessions_completed,
            "refused": stats.sessions_refused,
            "meter_readings": stats.meter_readings,
            "queued_offline": stats.queued_offline,
            "shed": stats.shed,
            "undelivered": run.undelivered(),
        },
        "energy": {
            "delivered_wh": stats.energy_wh,
            "delivered_kwh": round(stats.energy_wh / 1000, 3),
        },
        "billing": {
            "sessions_with_total": stats.billed_sessions,
            "billed_cny": f"{stats.billed_fen / 100:.2f}",
        },
    }


def _fmt(value: Any) -> str:
    return "-" if value is None else str(value)


def render(report: dict[str, Any], console: Console) -> None:
    stations = report["stations"]
    sessions = report["sessions"]
    throughput = report["throughput"]
    summary = Table(title=f"csms-sim fleet: {report['scenario']}", show_header=False)
    summary.add_column("what")
    summary.add_column("value", justify="right")
    rows = [
        ("run (s)", report["duration_s"]),
        ("stations launched / planned", f"{stations['launched']} / {stations['planned']}"),
        ("by version", ", ".join(f"{k}: {v}" for k, v in stations["by_version"].items())),
        ("accepted", stations["accepted"]),
        ("time to all accepted (s)", stations["time_to_all_accepted_s"]),
        ("connects / reconnects", f"{stations['connects']} / {stations['reconnects']}"),
        ("never connected", stations["never_connected"]),
        ("peak connected", stations["peak_connected"]),
        ("messages answered", throughput["answered"]),
        ("messages/s mean / steady / peak",
         f"{throughput['per_s_mean']} / {_fmt(throughput['per_s_steady'])} / "
         f"{throughput['per_s_peak']}"),
        ("sessions started / completed / refused",
         f"{sessions['started']} / {sessions['completed']} / {sessions['refused']}"),
        ("meter readings delivered", sessions["meter_readings"]),
        ("queued offline / shed / undelivered",
         f"{sessions['queued_offline']} / {sessions['shed']} / {sessions['undelivered']}"),
        ("energy delivered (kWh)", report["energy"]["delivered_kwh"]),
    ]  # fmt: skip
    if stations["by_county"]:
        rows.insert(
            3, ("by county", ", ".join(f"{k} {v}" for k, v in stations["by_county"].items()))
        )
    for name, value in rows:
        summary.add_row(name, _fmt(value))
    console.print(summary)

    messages = Table(title="messages by action (latency in ms)")
    columns = ("action", "sent", "ok", "err", "timeout", "lost", "/s", "p50", "p95", "p99", "max")
    for column in columns:
        messages.add_column(column, justify="left" if column == "action" else "right")
    for action, m in report["messages"].items():
        latency = m["latency_ms"]
        messages.add_row(
            action,
            str(m["sent"]),
            str(m["ok"]),
            str(m["errors"]),
            str(m["timeouts"]),
            str(m["lost"]),
            _fmt(m["per_s_steady"]),
            _fmt(latency["p50"]),
            _fmt(latency["p95"]),
            _fmt(latency["p99"]),
            _fmt(latency["max"]),
        )
    console.print(messages)

    if report["errors"] or report["commands_received"]:
        other = Table(title="errors by code / commands received")
        other.add_column("kind")
        other.add_column("name")
        other.add_column("count", justify="right")
        for code, count in report["errors"].items():
            other.add_row("error", code, str(count))
        for action, count in report["commands_received"].items():
            other.add_row("command", action, str(count))
        console.print(other)


def write(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
