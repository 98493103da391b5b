"""What a station is told while the database is unavailable: 503 at the handshake, a CALLERROR
for a message, a 1013 close when it was admitted just before the outage."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Response

from csms.errors import DatabaseUnavailable
from csms.outage import OutageLog
from csms.services.session import Handler, Payload

# RFC 6455 §7.4.1 as registered by IANA: 1013 Try Again Later.
CLOSE_TRY_AGAIN_LATER = 1013
RETRY_AFTER_SECONDS = 30  # stations back off on their own; this only suggests a first pause


def retry_later(
    connection: ServerConnection, status: HTTPStatus, text: str, seconds: int
) -> Response:
    """A handshake refused for now, with when to come back (Retry-After)."""
    response = connection.respond(status, text + "\n")
    response.headers["Retry-After"] = str(seconds)
    return response


def refuse_handshake(connection: ServerConnection) -> Response:
    """HTTP 503 with Retry-After: the station may connect again, nothing is wrong with it."""
    return retry_later(
        connection,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "the CSMS database is unavailable; try again later",
        RETRY_AFTER_SECONDS,
    )


class Translating(Mapping[str, Handler]):
    """The handlers, each turning a database outage into DatabaseUnavailable (answered with a
    CALLERROR InternalError, nothing acknowledged) counted in `outage` instead of a traceback.

    Wrapped when looked up, not up front: a dict of closures per connection is the per-station
    garbage that `HandlerTable` exists to avoid."""

    __slots__ = ("_handlers", "_outage")

    def __init__(self, handlers: Mapping[str, Handler], outage: OutageLog) -> None:
        self._handlers = handlers
        self._outage = outage

    def __getitem__(self, action: str) -> Handler:
        return partial(self._translated, self._handlers[action])

    def __iter__(self) -> Iterator[str]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)

    async def _translated(self, handler: Handler, payload: Payload) -> Payload:
        try:
            return await handler(payload)
        except Exception as exc:
            cause = self._outage.absorb(exc, "ocpp")
            if cause is None:
                raise
            raise DatabaseUnavailable(cause) from exc
