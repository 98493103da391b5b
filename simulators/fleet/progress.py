"""Live progress of a fleet run: a rich panel on a terminal, a plain line otherwise."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from rich.console import Console
from rich.live import Live
from rich.table import Table

from simulators.fleet.runner import FleetRun


@dataclass(frozen=True, slots=True)
class Snapshot:
    elapsed_s: float
    launched: int
    planned: int
    connected: int
    accepted: int
    active: int
    completed: int
    per_s: float
    errors: int
    reconnects: int
    queued_offline: int


class ProgressView:
    """Callable as the runner's `progress`: shows the run until it has finished."""

    def __init__(self, console: Console, *, live: bool, interval: float) -> None:
        self.console = console
        self.live = live
        self.interval = interval
        self._last = (time.monotonic(), 0)

    def snapshot(self, run: FleetRun) -> Snapshot:
        stats = run.stats
        now = time.monotonic()
        answered = stats.messages_answered()
        then, before = self._last
        self._last = (now, answered)
        return Snapshot(
            elapsed_s=stats.elapsed(),
            launched=run.launched,
            planned=len(run.specs),
            connected=stats.connected,
            accepted=len(stats.accepted_at),
            active=stats.sessions_active,
            completed=stats.sessions_completed,
            per_s=(answered - before) / (now - then) if now > then else 0.0,
            errors=sum(stats.errors.values()),
            reconnects=stats.reconnects,
            queued_offline=stats.queued_offline,
        )

    @staticmethod
    def line(s: Snapshot) -> str:
        return (
            f"[{s.elapsed_s:7.1f}s] stations {s.launched}/{s.planned} connected {s.connected} "
            f"accepted {s.accepted} | sessions active {s.active} done {s.completed} | "
            f"{s.per_s:,.0f} msg/s | errors {s.errors} reconnects {s.reconnects} "
            f"queued-offline {s.queued_offline}"
        )

    @staticmethod
    def table(s: Snapshot, title: str) -> Table:
        table = Table(title=title, show_header=False, min_width=48)
        table.add_column("what")
        table.add_column("value", justify="right")
        table.add_row("elapsed (s)", f"{s.elapsed_s:.1f}")
        table.add_row("stations launched", f"{s.launched} / {s.planned}")
        table.add_row("connected", str(s.connected))
        table.add_row("accepted", str(s.accepted))
        table.add_row("sessions active", str(s.active))
        table.add_row("sessions completed", str(s.completed))
        table.add_row("messages/s", f"{s.per_s:,.0f}")
        table.add_row("errors", str(s.errors))
        table.add_row("reconnects", str(s.reconnects))
        table.add_row("queued offline", str(s.queued_offline))
        return table

    async def __call__(self, run: FleetRun, finished: asyncio.Event) -> None:
        title = f"csms-sim fleet: {run.scenario.name} -> {run.url}"
        if self.live:
            with Live(
                self.table(self.snapshot(run), title), console=self.console, refresh_per_second=4
            ) as live:
                while not finished.is_set():
                    await _wait(finished, self.interval)
                    live.update(self.table(self.snapshot(run), title))
            return
        while not finished.is_set():
            await _wait(finished, self.interval)
            self.console.print(self.line(self.snapshot(run)), highlight=False, soft_wrap=True)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass
