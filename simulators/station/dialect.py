"""What each OCPP version must provide to the version-neutral station core.

The core (connection, outbox, sessions, EVSEs) never builds a payload itself: it asks the
station's dialect (`ocpp16.Ocpp16`, `ocpp201.Ocpp201`) for messages and settings, and the dialect
answers the CSMS's commands by calling back into the core.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from simulators.auth_lists import AuthEntry
from simulators.rpc import Handler

if TYPE_CHECKING:
    from simulators.station.evse import Evse, Reservation
    from simulators.station.session import Reading, Session, StopCause
    from simulators.station.station import Station


class Dialect(ABC):
    version: str

    def __init__(self, station: Station) -> None:
        self.station = station

    # -- settings (1.6 configuration keys / 2.0.1 device model) --------------------------------

    @abstractmethod
    def heartbeat_interval(self) -> int: ...

    @abstractmethod
    def set_heartbeat_interval(self, seconds: int) -> None: ...

    @abstractmethod
    def meter_interval(self) -> int: ...

    @abstractmethod
    def message_attempts(self) -> int: ...

    @abstractmethod
    def message_retry_interval(self) -> int: ...

    @abstractmethod
    def authorize_offline(self) -> bool: ...

    @abstractmethod
    def offline_unknown_allowed(self) -> bool: ...

    @abstractmethod
    def local_pre_authorize(self) -> bool: ...

    @abstractmethod
    def authorize_remote_start(self) -> bool: ...

    @abstractmethod
    def stop_on_invalid_id(self) -> bool: ...

    @abstractmethod
    def cache_enabled(self) -> bool: ...

    @abstractmethod
    def local_list_enabled(self) -> bool: ...

    # -- messages ------------------------------------------------------------------------------

    @abstractmethod
    def boot_request(self, reason: str) -> dict[str, Any]: ...

    @abstractmethod
    def status_requests(self, evse: Evse) -> list[dict[str, Any]]: ...

    def station_status_requests(self) -> list[dict[str, Any]]:
        """Status of the station as a whole, sent after each accepted boot (1.6 connector 0)."""
        return []

    @abstractmethod
    def authorize_request(self, token: str, token_type: str) -> dict[str, Any]: ...

    @abstractmethod
    def auth_entry(self, response: dict[str, Any]) -> AuthEntry: ...

    @abstractmethod
    def transaction_started(self, session: Session, reading: Reading) -> None: ...

    @abstractmethod
    def transaction_updated(self, session: Session, reading: Reading, trigger: str) -> None: ...

    @abstractmethod
    def charging_state_changed(self, session: Session, reading: Reading) -> None:
        """The car or the station paused or resumed charging."""

    @abstractmethod
    def transaction_ended(self, session: Session, reading: Reading, cause: StopCause) -> None: ...

    @abstractmethod
    def reservation_ended(self, reservation: Reservation, expired: bool) -> None:
        """A reservation expired or was cancelled."""

    @abstractmethod
    def handlers(self) -> dict[str, Handler]: ...
