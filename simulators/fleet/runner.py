"""Runs a fleet: builds its stations, brings them up at the ramp rate, drives and stops them.

Each station runs in the fleet's TaskGroup; its drivers (one per EVSE) and its network churn
run in the station's own TaskGroup. When the scenario's end comes (its duration, or every
station Accepted), all stations shut down together: sessions are stopped and every queued
message is delivered before the sockets close, so the report counts what the CSMS holds.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from simulators import timestamps
from simulators.backoff import BackoffPolicy
from simulators.fleet.load_profile import DailyProfile
from simulators.fleet.population import StationSpec, plan_stations
from simulators.fleet.scenario import Scenario
from simulators.meter import KINDS
from simulators.rpc import FrameLog
from simulators.station.config import StationConfig, TlsSettings
from simulators.station.session import SessionPlan, StopCause
from simulators.station.station import Behaviour, EvseBusy, Station
from simulators.stats import Recorder
from simulators.vehicles import random_id_tag, random_vehicle

log = logging.getLogger(__name__)


@dataclass(slots=True)
class FleetRun:
    """A run in progress and, once it returns, its outcome."""

    scenario: Scenario
    url: str
    specs: list[StationSpec]
    stats: Recorder
    started_at: datetime = field(default_factory=timestamps.utcnow)
    stations: list[Station] = field(default_factory=list)
    launched_after_s: float | None = None  # every station started (end of the ramp)
    stopped_after_s: float | None = None  # the end condition was met
    finished_after_s: float | None = None  # every station shut down
    crashed: int = 0

    @property
    def launched(self) -> int:
        return len(self.stations)

    def undelivered(self) -> int:
        return sum(len(s.outbox.queue) for s in self.stations)


def station_config(
    spec: StationSpec, scenario: Scenario, url: str, tls: TlsSettings | None = None
) -> StationConfig:
    kind = KINDS[spec.kind]
    return StationConfig(
        station_id=spec.station_id,
        url=url,
        version=spec.version,
        evses=spec.evses,
        kind=kind,
        vendor="CSMS-Sim",
        model=f"SIM-{kind.name.upper()}",
        serial_number=f"SN{spec.index + 1:07d}",
        password=scenario.password,
        tls=tls,
        meter_interval=scenario.meter_interval_s,
        heartbeat_interval=scenario.heartbeat_s,
        backoff=BackoffPolicy(
            scenario.backoff_minimum_s, scenario.backoff_range_s, scenario.backoff_repeat
        ),
        connect_timeout=scenario.connect_timeout_s,
        call_timeout=scenario.call_timeout_s,
        compression=scenario.compression,
    )


def session_plan(scenario: Scenario, spec: StationSpec, rng: random.Random) -> SessionPlan:
    leave = rng.choices(list(scenario.leave), weights=list(scenario.leave.values()))[0]
    plan = SessionPlan(
        id_tag=rng.choice(scenario.tokens) if scenario.tokens else random_id_tag(rng),
        duration_s=rng.uniform(*scenario.session_length_s),
        vehicle=random_vehicle(KINDS[spec.kind], rng),
        leave=StopCause(leave),
        unplug_delay_s=min(1.0, scenario.session_gap_s[0] or 1.0),
    )
    pnc = scenario.plug_and_charge
    if pnc is not None and spec.version == "2.0.1" and rng.random() < pnc.share:
        contract = pnc.contract
        return replace(plan, id_tag=contract.emaid, token_type="eMAID", contract=contract)
    return plan


Fraction = Callable[[], float]  # how much of the run has passed, 0..1


def behaviour_for(
    scenario: Scenario, spec: StationSpec, rng: random.Random, fraction: Fraction
) -> Behaviour:
    """What the station's drivers and network do during the run."""

    def behave(station: Station) -> Coroutine[Any, Any, None]:
        return _behave(station, scenario, spec, rng, fraction)

    return behave


async def _behave(
    station: Station, scenario: Scenario, spec: StationSpec, rng: random.Random, fraction: Fraction
) -> None:
    async with asyncio.TaskGroup() as tasks:
        if scenario.churn_interval_s > 0:
            tasks.create_task(_churn(station, scenario, rng))
        if scenario.session_mode != "none":
            for evse_id in sorted(station.evses):
                evse_rng = random.Random(rng.getrandbits(64))
                tasks.create_task(_drive(station, evse_id, scenario, spec, evse_rng, fraction))
        await asyncio.Event().wait()  # until the station cancels its behaviour at shutdown


async def _drive(
    station: Station,
    evse_id: int,
    scenario: Scenario,
    spec: StationSpec,
    rng: random.Random,
    fraction: Fraction,
) -> None:
    """Cars arriving at one EVSE, one after another."""
    profile = (
        DailyProfile(scenario.profile, scenario.profile_start_hour)
        if scenario.session_mode == "profile"
        else None
    )
    mean_gap = sum(scenario.session_gap_s) / 2

    def next_gap() -> float:
        if profile is not None:
            return profile.next_gap(fraction(), mean_gap, rng)
        return rng.uniform(*scenario.session_gap_s)

    await station.wait_online()
    delay = rng.uniform(0, scenario.session_gap_s[1])  # spread first arrivals
    while True:
        await asyncio.sleep(delay)
        try:
            await station.charge(evse_id, session_plan(scenario, spec, rng))
        except EvseBusy:
            delay = 1.0  # taken by a remote start, inoperative, or a cable still in
            continue
        delay = next_gap()


async def _churn(station: Station, scenario: Scenario, rng: random.Random) -> None:
    """The station's network drops now and then, for a while."""
    await station.wait_online()
    while True:
        await asyncio.sleep(rng.expovariate(1.0 / scenario.churn_interval_s))
        station.simulate_outage(rng.uniform(*scenario.churn_offline_s))


Progress = Callable[[FleetRun, asyncio.Event], Coroutine[Any, Any, None]]


async def run_fleet(
    scenario: Scenario,
    url: str,
    *,
    stats: Recorder | None = None,
    progress: Progress | None = None,
    tls: TlsSettings | None = None,
    frame_log: FrameLog | None = None,
    stop_early: asyncio.Event | None = None,
) -> FleetRun:
    """Run the scenario against the CSMS at `url` and return what happened.

    Setting `stop_early` (Ctrl-C) ends the run as its end condition would: gracefully.
    """
    stats = stats if stats is not None else Recorder()
    run = FleetRun(scenario, url, plan_stations(scenario), stats)
    loop = asyncio.get_running_loop()
    begin = loop.time()

    def fraction() -> float:
        return min(1.0, (loop.time() - begin) / scenario.duration_s)

    stop = asyncio.Event()
    finished = asyncio.Event()
    async with asyncio.TaskGroup() as outer:
        if progress is not None:
            outer.create_task(progress(run, finished))
        try:
            async with asyncio.TaskGroup() as fleet:
                launcher = fleet.create_task(_launch(fleet, run, stop, fraction, tls, frame_log))
                await _until_end(run, begin + scenario.duration_s, stop_early or asyncio.Event())
                run.stopped_after_s = stats.elapsed()
                stop.set()
                launcher.cancel()
        finally:
            run.finished_after_s = stats.elapsed()
            finished.set()
    return run


async def _launch(
    fleet: asyncio.TaskGroup,
    run: FleetRun,
    stop: asyncio.Event,
    fraction: Fraction,
    tls: TlsSettings | None,
    frame_log: FrameLog | None,
) -> None:
    scenario = run.scenario
    loop = asyncio.get_running_loop()
    begin = loop.time()
    for spec in run.specs:
        if scenario.ramp_rate > 0:
            due = begin + spec.index / scenario.ramp_rate
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
        rng = random.Random(f"{scenario.seed}/{spec.station_id}")
        station = Station(
            station_config(spec, scenario, run.url, tls),
            stats=run.stats,
            rng=rng,
            frame_log=frame_log,
        )
        run.stations.append(station)
        behaviour = behaviour_for(scenario, spec, rng, fraction)
        fleet.create_task(_run_station(run, station, behaviour, stop), name=spec.station_id)
    run.launched_after_s = run.stats.elapsed()


async def _run_station(
    run: FleetRun, station: Station, behaviour: Behaviour, stop: asyncio.Event
) -> None:
    try:
        await station.run(behaviour, stop=stop, drain_timeout=run.scenario.drain_timeout_s)
    except asyncio.CancelledError:
        raise
    except Exception:
        # One broken station must not end everyone's run; it is counted and logged.
        log.exception("station %s crashed", station.id)
        run.crashed += 1
        run.stats.error("StationCrashed")


async def _until_end(run: FleetRun, deadline: float, ended: asyncio.Event) -> None:
    """Until the duration is over, or every station is Accepted (`until = "accepted"`), or
    `ended` is set from outside."""
    loop = asyncio.get_running_loop()
    total = len(run.specs)

    def check(_station_id: str) -> None:
        if len(run.stats.accepted_at) >= total:
            ended.set()

    if run.scenario.until == "accepted":
        run.stats.on_accepted = check
        check("")
    try:
        async with asyncio.timeout(max(0.0, deadline - loop.time())):
            await ended.wait()
    except TimeoutError:
        pass
    finally:
        run.stats.on_accepted = None
