"""The stations connected to this node, one live connection per station."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from csms import metrics
from csms.domain.version import OcppVersion
from csms.rpc.endpoint import RpcEndpoint
from csms.services.session import StationSession


@dataclass(eq=False, slots=True)
class Connection:
    station_id: str
    version: OcppVersion
    websocket: Any
    endpoint: RpcEndpoint
    session: StationSession
    connection_id: int = 0
    # Why we closed it ourselves (replaced, silent), recorded instead of the bare close code.
    close_reason: str | None = field(default=None)

    async def close(self, code: int, reason: str) -> None:
        self.close_reason = reason
        await self.websocket.close(code, reason)


class Registry:
    def __init__(self) -> None:
        self._by_station: dict[str, Connection] = {}

    def add(self, connection: Connection) -> Connection | None:
        """Make `connection` the station's current one; return the one it replaces."""
        previous = self._by_station.get(connection.station_id)
        self._by_station[connection.station_id] = connection
        if previous is not None:
            metrics.CONNECTED_STATIONS.labels(previous.version.value).dec()
        metrics.CONNECTED_STATIONS.labels(connection.version.value).inc()
        return previous

    def remove(self, connection: Connection) -> bool:
        """Forget the connection; True when it was the station's current one."""
        if self._by_station.get(connection.station_id) is connection:
            del self._by_station[connection.station_id]
            metrics.CONNECTED_STATIONS.labels(connection.version.value).dec()
            return True
        return False

    def get(self, station_id: str) -> Connection | None:
        return self._by_station.get(station_id)

    def __iter__(self) -> Iterator[Connection]:
        return iter(tuple(self._by_station.values()))

    def __len__(self) -> int:
        return len(self._by_station)

    def by_version(self) -> Counter[OcppVersion]:
        return Counter(c.version for c in self._by_station.values())
