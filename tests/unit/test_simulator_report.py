"""The fleet report built from a run's counters: figures, steady-state rates, rendering."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from simulators.fleet import report
from simulators.fleet.population import plan_stations
from simulators.fleet.runner import FleetRun
from simulators.fleet.scenario import from_toml
from simulators.stats import Recorder


def finished_run() -> FleetRun:
    now = [0.0]
    stats = Recorder(clock=lambda: now[0])
    scenario = from_toml('name = "t"\nstations = 2\nduration = 10\n')
    run = FleetRun(scenario, "ws://x/ocpp", plan_stations(scenario), stats)
    for station_id in ("A", "B"):
        stats.call_sent("BootNotification")
        stats.call_answered("BootNotification", 0.004)
        now[0] += 1.0
        stats.accepted(station_id)
    run.launched_after_s = 1.5
    for second in range(2, 10):  # steady: 10 MeterValues a second, 20 ms each
        now[0] = second + 0.5
        for _ in range(10):
            stats.call_sent("MeterValues")
            stats.call_answered("MeterValues", 0.020)
    stats.call_sent("MeterValues")
    stats.call_timed_out("MeterValues")
    stats.sessions_started = stats.sessions_completed = 3
    stats.energy_wh = 4321
    run.stopped_after_s = 10.0
    run.finished_after_s = 11.0
    return run


def test_figures() -> None:
    built = report.build(finished_run())
    assert built["stations"]["time_to_all_accepted_s"] == 2.0
    assert built["stations"]["by_version"] == {"1.6": 1, "2.0.1": 1}
    meter = built["messages"]["MeterValues"]
    assert (meter["sent"], meter["ok"], meter["timeouts"]) == (81, 80, 1)
    assert meter["latency_ms"]["p50"] == 20.0 and meter["latency_ms"]["p99"] == 20.0
    assert meter["per_s_steady"] == 10.0  # seconds 3..9, after everyone was accepted
    assert built["throughput"]["steady_window_s"] == [2.0, 10.0]
    assert built["errors"] == {"Timeout": 1}
    assert built["energy"] == {"delivered_wh": 4321, "delivered_kwh": 4.321}
    assert built["sessions"]["completed"] == 3


def test_render_and_write(tmp_path: Path) -> None:
    built = report.build(finished_run())
    out = io.StringIO()
    report.render(built, Console(file=out, width=132))
    text = out.getvalue()
    assert "MeterValues" in text and "time to all accepted" in text and "Timeout" in text
    path = tmp_path / "deep" / "report.json"
    report.write(built, path)
    assert json.loads(path.read_text(encoding="utf-8")) == built
