"""Who is alive: last-seen and last-heartbeat times, kept in memory and flushed in batches.

Writing a row per message would cost a database round trip per frame; instead the sweeper
flushes what changed every few seconds and decides which silent stations are offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from csms.clock import utcnow


@dataclass(slots=True)
class _Seen:
    seen: datetime
    heartbeat: datetime | None = None
    dirty: bool = True


class Presence:
    """Liveness of the stations connected to this node."""

    def __init__(self) -> None:
        self._by_station: dict[str, _Seen] = {}

    def seen(self, station_id: str, *, heartbeat: bool = False) -> datetime:
        now = utcnow()
        entry = self._by_station.get(station_id)
        if entry is None:
            entry = self._by_station[station_id] = _Seen(now)
        entry.seen = now
        entry.dirty = True
        if heartbeat:
            entry.heartbeat = now
        return now

    def forget(self, station_id: str) -> None:
        self._by_station.pop(station_id, None)

    def take_dirty(self) -> list[tuple[str, datetime, datetime | None]]:
        """What changed since the last call, for one batched write."""
        out = []
        for station_id, entry in self._by_station.items():
            if entry.dirty:
                out.append((station_id, entry.seen, entry.heartbeat))
                entry.dirty = False
        return out

    def restore(self, entries: list[tuple[str, datetime, datetime | None]]) -> None:
        """Mark entries dirty again after a failed flush, so the next one writes them."""
        for station_id, _seen, _heartbeat in entries:
            entry = self._by_station.get(station_id)
            if entry is not None:
                entry.dirty = True

    def silent(self, now: datetime, after: float) -> list[str]:
        """Stations that have said nothing for longer than `after` seconds."""
        limit = now - timedelta(seconds=after)
        return [sid for sid, entry in self._by_station.items() if entry.seen < limit]
