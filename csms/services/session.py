"""The state of one station's connection that handlers of both versions share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from csms.domain.station import BootInfo, RegistrationStatus
from csms.domain.version import OcppVersion
from csms.errors import NotAccepted
from csms.services.container import Services

Payload = dict[str, Any]
Handler = Callable[[Payload], Awaitable[Payload]]

# A station that is not Accepted is told to retry no sooner than this (seconds).
MIN_RETRY_INTERVAL = 60


@dataclass(slots=True)
class StationSession:
    station_id: str
    version: OcppVersion
    services: Services
    # The answer to the last BootNotification on this connection. None: no boot yet (a station
    # reconnecting after a network drop need not boot again). Blocked stations start Rejected.
    registration: RegistrationStatus | None = None

    async def boot(self, info: BootInfo) -> tuple[RegistrationStatus, int]:
        """Decide a BootNotification; return the status and the interval to send with it."""
        stations = self.services.stations
        self.registration = await stations.boot(self.station_id, self.version, info)
        interval = stations.heartbeat_interval
        if self.registration is not RegistrationStatus.ACCEPTED:
            interval = max(interval, MIN_RETRY_INTERVAL)
        return self.registration, interval

    def guard(self, handlers: Mapping[str, Handler], exempt: frozenset[str]) -> dict[str, Handler]:
        """Wrap the handlers so a Rejected station gets SecurityError for all but `exempt`.

        (1.6 §4.2 / 2.0.1 B03.FR.07.) Exempt are boot, how a rejected station asks again, and
        the transaction messages, whose billing data must never be lost.
        """

        def wrap(action: str, handler: Handler) -> Handler:
            async def guarded(payload: Payload) -> Payload:
                if self.registration is RegistrationStatus.REJECTED:
                    raise NotAccepted(f"{action} refused: the station's boot was Rejected")
                return await handler(payload)

            return guarded

        return {
            action: handler if action in exempt else wrap(action, handler)
            for action, handler in handlers.items()
        }
