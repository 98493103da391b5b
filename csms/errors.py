"""One error tree for the whole CSMS; each edge (CALLERROR, HTTP, CLI) maps it once.

CsmsError
├── ConfigError            bad settings; the process refuses to start
│   └── NoDatabase         a command needs a database that was never created
├── StoreError             the database failed or disagreed with us
│   ├── MigrationError     a migration could not be applied
│   └── DatabaseUnavailable  PostgreSQL cannot be reached now (503, CALLERROR); retry later
├── NotFound               a named thing (station, token, transaction) does not exist
├── Conflict               the request contradicts stored state
│   └── StationOffline     no live node holds a socket for the station
├── InvalidInput           a value is well-formed but not acceptable (too long, out of range)
└── ProtocolError          an OCPP peer broke the protocol
    ├── NotAccepted        the station is not Accepted (blocked/pending) and may not do this
    └── CallFailed         a CSMS-initiated CALL got a CALLERROR, timed out or lost its socket
"""

from __future__ import annotations

from collections.abc import Iterator


class CsmsError(Exception):
    """Base of every error the CSMS raises on purpose."""


class ConfigError(CsmsError):
    """Settings are missing or contradictory."""


class NoDatabase(ConfigError):
    """The embedded database a command needs does not exist (only serve and migrate create it)."""


class StoreError(CsmsError):
    """The database failed or returned something we did not expect."""


class MigrationError(StoreError):
    """A schema migration could not be applied."""


class DatabaseUnavailable(StoreError):
    """PostgreSQL is unreachable, shutting down, starting up or out of connections.

    Nothing was decided and nothing is acknowledged: the caller is told to try again later
    (HTTP 503 with Retry-After, a CALLERROR to a station), not that the CSMS is broken.
    """

    def __init__(self, cause: str) -> None:
        # the cause (a driver message with host and port) is for the log, not for callers
        super().__init__("the CSMS database is unavailable; try again later")
        self.cause = cause


class NotFound(CsmsError):
    """A named entity does not exist."""


class Conflict(CsmsError):
    """The request contradicts stored state."""


class StationOffline(Conflict):
    """No live node holds a connection to the station."""


class InvalidInput(CsmsError):
    """A value is well-formed but not acceptable."""


class ProtocolError(CsmsError):
    """An OCPP peer broke the protocol."""


class NotAccepted(ProtocolError):
    """The station's registration is not Accepted, so it may not send this message."""


class CallFailed(ProtocolError):
    """A CSMS-initiated CALL did not get a CALLRESULT."""

    def __init__(self, reason: str, *, code: str | None = None, description: str = "") -> None:
        super().__init__(f"{reason}: {code} {description}".strip(": "))
        self.reason = reason
        self.code = code
        self.description = description


def leaf_exceptions(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions inside `exc`, exception groups (a TaskGroup's) opened all the way down."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from leaf_exceptions(inner)
    else:
        yield exc
