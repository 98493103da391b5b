"""The state of one station's connection that handlers of both versions share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from csms.domain.station import AdminState, BootInfo, RegistrationStatus
from csms.domain.version import OcppVersion
from csms.errors import NotAccepted
from csms.services.container import Services

Payload = dict[str, Any]
Handler = Callable[[Payload], Awaitable[Payload]]

# A station that is not Accepted is told to retry no sooner than this (seconds).
MIN_RETRY_INTERVAL = 60

# What a 2.0.1 station in Pending may send because the CSMS asked for it (B02.FR.09): the
# message a CSMS-initiated CALL of this action leads to.
_REQUESTED_BY = {
    "GetBaseReport": "NotifyReport",
    "GetReport": "NotifyReport",
    "GetLog": "LogStatusNotification",
    "UpdateFirmware": "FirmwareStatusNotification",
    "GetMonitoringReport": "NotifyMonitoringReport",
    "CustomerInformation": "NotifyCustomerInformation",
    "GetDisplayMessages": "NotifyDisplayMessages",
    "GetChargingProfiles": "ReportChargingProfiles",
    "PublishFirmware": "PublishFirmwareStatusNotification",
}
# TriggerMessage values whose message has another name (2.0.1 F06: the station answers a
# SignChargingStationCertificate / SignV2GCertificate trigger with SignCertificate)
_TRIGGERED_AS = {
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
}


@dataclass(slots=True)
class StationSession:
    station_id: str
    version: OcppVersion
    services: Services
    # The answer to the last BootNotification on this connection. None: no boot yet (a station
    # reconnecting after a network drop need not boot again). Blocked stations start Rejected,
    # pending ones Pending, and an operator's later decision is applied by the gateway.
    registration: RegistrationStatus | None = None
    # Messages a Pending 2.0.1 station may send because the CSMS requested them.
    requested: set[str] = field(default_factory=set)
    # --unaccepted-transactions keep: store a Pending/Rejected 2.0.1 station's TransactionEvents
    keep_unaccepted_transactions: bool = False

    @property
    def restricted(self) -> bool:
        return self.registration in (RegistrationStatus.REJECTED, RegistrationStatus.PENDING)

    async def boot(self, info: BootInfo) -> tuple[RegistrationStatus, int]:
        """Decide a BootNotification; return the status and the interval to send with it."""
        stations = self.services.stations
        self.registration = await stations.boot(self.station_id, self.version, info)
        interval = stations.heartbeat_interval
        if self.registration is not RegistrationStatus.ACCEPTED:
            interval = max(interval, MIN_RETRY_INTERVAL)
        return self.registration, interval

    def apply_admin_state(self, state: AdminState) -> None:
        """An operator (re)decided about this station while it is connected."""
        if state is AdminState.BLOCKED:
            self.registration = RegistrationStatus.REJECTED
        elif state is AdminState.PENDING:
            self.registration = RegistrationStatus.PENDING
        elif self.restricted:
            self.registration = None  # allowed again; its next boot is answered Accepted

    def note_sent(self, action: str, payload: Payload) -> None:
        """Called for every CSMS-initiated CALL: remember what the station may answer with."""
        if action == "TriggerMessage":
            requested = str(payload.get("requestedMessage"))
            self.requested.add(_TRIGGERED_AS.get(requested, requested))
        elif action in _REQUESTED_BY:
            self.requested.add(_REQUESTED_BY[action])

    def _refusal(self, action: str) -> str | None:
        if self.registration is RegistrationStatus.REJECTED:
            return f"{action} refused: the station's boot was Rejected"
        if (
            self.registration is RegistrationStatus.PENDING
            and self.version is OcppVersion.V201
            and action not in self.requested
        ):
            # 2.0.1 B02.FR.09: while Pending, only messages the CSMS asked for
            return f"{action} refused: the station is Pending and the CSMS did not request it"
        return None

    def refuse_unless_accepted(self, action: str) -> None:
        """Raise NotAccepted when a station that is not Accepted sends `action` (1.6 §4.2;
        2.0.1 B02.FR.09, B03.FR.07); see `HandlerTable` for the messages that are exempt."""
        refusal = self._refusal(action)
        if refusal is not None:
            raise NotAccepted(refusal)


# A handler as its version's class defines it: called with the connection's handler object.
Method = Callable[[Any, Payload], Awaitable[Payload]]


class HandlerTable(Mapping[str, Handler]):
    """One connection's handlers: its version's functions, made once per process, bound to the
    connection's handler object when looked up.

    A table of bound methods and closures per connection cost about a hundred objects per
    station: memory, and garbage-collector work that grows with every station of a boot storm.

    Actions not in `exempt` are refused with SecurityError while the station is not Accepted.
    Exempt are boot, how such a station asks again, and the messages each version's handlers
    name (1.6 transaction messages, whose billing data a CSMS cannot refuse; 2.0.1
    TransactionEvent only when the operator chose to keep it, see ocpp201.handlers).
    """

    __slots__ = ("_exempt", "_functions", "_owner", "_session")

    def __init__(
        self,
        owner: object,
        session: StationSession,
        functions: Mapping[str, Method],
        exempt: frozenset[str],
    ) -> None:
        self._owner = owner
        self._session = session
        self._functions = functions
        self._exempt = exempt

    def __getitem__(self, action: str) -> Handler:
        function = self._functions[action]
        if action in self._exempt:
            return partial(function, self._owner)
        return partial(self._guarded, action, function)

    def __iter__(self) -> Iterator[str]:
        return iter(self._functions)

    def __len__(self) -> int:
        return len(self._functions)

    async def _guarded(self, action: str, function: Method, payload: Payload) -> Payload:
        self._session.refuse_unless_accepted(action)
        return await function(self._owner, payload)
