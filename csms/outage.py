"""Says a database outage once per interval and once when it is over, not a traceback per request.

During an outage every API request, handshake, OCPP message and background round fails the same
way for the same reason; one line every `interval` seconds with counts tells an operator more
than hundreds of tracebacks. Which exceptions are an outage is decided by the injected
`classify` (the store's, which knows the driver); the clock is injected for tests.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from csms import metrics
from csms.clock import monotonic

log = logging.getLogger(__name__)

Classify = Callable[[BaseException], str | None]
Clock = Callable[[], float]

DEFAULT_INTERVAL = 10.0


class OutageLog:
    """Counts work refused because the database is unavailable; logs at most once per interval.

    `refused()` (or `absorb()` with an exception) during an outage; `available()` whenever a
    database operation succeeded again: the first one after an outage says it is over.
    """

    def __init__(
        self,
        classify: Classify,
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Clock = monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self._classify = classify
        self._interval = interval
        self._clock = clock
        self._log = logger
        self._since: float | None = None  # start of the outage
        self._said = 0.0  # when the last line went out
        self._cause = ""
        self._unsaid: Counter[str] = Counter()  # refusals since the last line
        self._total: Counter[str] = Counter()  # refusals in this outage

    @property
    def down(self) -> bool:
        """Whether the last word on the database was a refusal."""
        return self._since is not None

    def cause(self, exc: BaseException) -> str | None:
        """Why the database is unavailable, when `exc` says so; None for any other error."""
        return self._classify(exc)

    def absorb(self, exc: BaseException, edge: str) -> str | None:
        """Count `exc` as a refusal at `edge` when it is an outage and return its cause; None
        (nothing counted) when it is another error, which deserves its own traceback."""
        found = self._classify(exc)
        if found is not None:
            self.refused(edge, found)
        return found

    def failed(
        self, exc: BaseException, logger: logging.Logger, message: str, *args: object
    ) -> None:
        """A background round failed: an outage is counted (said once per interval); anything
        else is logged as `message` with its traceback."""
        if self.absorb(exc, "background") is None:
            logger.error(message, *args, exc_info=exc)

    def refused(self, edge: str, cause: str) -> None:
        """One piece of work at `edge` was refused; say so if the last line is old enough."""
        metrics.DATABASE_UNAVAILABLE.labels(edge).inc()
        now = self._clock()
        self._cause = cause
        self._unsaid[edge] += 1
        self._total[edge] += 1
        if self._since is None:
            self._since = now
            self._said = now
            self._unsaid.clear()
            self._log.warning(
                "database unavailable: %s; answering 503 (API, handshakes) and CALLERROR "
                "(OCPP) until it is back (first refused: %s)",
                cause,
                edge,
            )
            return
        if now - self._said >= self._interval:
            count = sum(self._unsaid.values())
            self._log.warning(
                "database unavailable: %s; answering 503 (%d more in the last %.0f s: %s)",
                cause,
                count,
                now - self._said,
                _breakdown(self._unsaid),
            )
            self._said = now
            self._unsaid.clear()

    def available(self) -> None:
        """A database operation succeeded: the first call after an outage says it is over."""
        if self._since is None:
            return
        lasted = self._clock() - self._since
        self._log.warning(
            "database available again after %.1f s (%d refused during the outage: %s)",
            lasted,
            sum(self._total.values()),
            _breakdown(self._total),
        )
        self._since = None
        self._unsaid.clear()
        self._total.clear()


def _breakdown(counts: Counter[str]) -> str:
    return ", ".join(f"{edge} {n}" for edge, n in sorted(counts.items())) or "none"
