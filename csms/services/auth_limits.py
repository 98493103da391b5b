"""Limits on failed station passwords and API keys (issue 14): who is refused unchecked, and the
metric and the one log line of each lockout.

Station passwords (security profiles 1/2) are limited in two scopes:

- per station id *and* source address: `failures` wrong credentials for one station from one
  address lock that pair out. An attacker hammering a station's id locks out only itself: the
  real charger, connecting from its own address, is still checked and let in with the right
  password. From the locked address even the right password is refused unchecked until the
  lockout ends (checking it would let the guessing go on); then it works again at once.
- per source address across station ids (credential stuffing): `source_failures` lock the
  address out for every station. Chargers behind one carrier NAT share an address, which is
  why this limit is higher (and can be turned off with 0).

API keys are limited per source address only (a key names no one until it is found): a correct
key from another address is not blocked, one from the locked address is until the lockout ends.

Operator sign-ins (passwords people choose) are limited per source address and per account
(the login, whatever its case, from any address): guessing one account's password from many
addresses is bounded too, at the price that such guessing locks the account's owner out of
signing in until the lockout ends (sessions already open go on).

An unknown source (None: behind a trusted proxy that named no client, like the compose nginx
passing OCPP's TLS through) has no per-source limit, and its station failures count per station
alone: guessing stays bounded, but then an attacker hammering a station's id through the same
proxy keeps the real charger from reconnecting until it stops (a connected charger stays
connected). `--auth-failures 0` prefers availability; per-address limits need the proxy to
forward the client's address (X-Forwarded-For on an HTTP proxy).

Refused attempts during a lockout answer HTTP 429 with Retry-After, cost no password hash and
no database query, and count in `csms_auth_lockout_refusals_total`; one WARNING is logged when a
key becomes locked, none per refused attempt. Counts live in this process: with several nodes
each node limits on its own (the compose nginx keeps a station on one node while it is up; API
requests alternate, so N nodes allow up to N times the API limit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from csms import metrics
from csms.client_address import source_key
from csms.clock import monotonic
from csms.config import Settings
from csms.services.failure_limiter import DEFAULT_CAPACITY, FailureLimiter, Limit

log = logging.getLogger(__name__)


class Kind(StrEnum):
    STATION_PASSWORD = "station_password"
    API_KEY = "api_key"
    SIGN_IN = "sign_in"


_FAILURES = {
    Kind.STATION_PASSWORD: "failed station passwords",
    Kind.API_KEY: "wrong API keys",
    Kind.SIGN_IN: "failed sign-ins",
}
_REFUSED = {
    Kind.STATION_PASSWORD: "handshakes",
    Kind.API_KEY: "API requests",
    Kind.SIGN_IN: "sign-ins",
}


class AuthLimits:
    """Failed-credential limits of one kind, per source and (for stations) per station+source
    or (for sign-ins) per account."""

    def __init__(
        self,
        kind: Kind,
        *,
        per_source: Limit,
        per_station: Limit | None = None,
        per_account: Limit | None = None,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.kind = kind
        self._sources = FailureLimiter(per_source, capacity=capacity, clock=clock)
        self._stations = (
            FailureLimiter(per_station, capacity=capacity, clock=clock)
            if per_station is not None
            else None
        )
        self._accounts = (
            FailureLimiter(per_account, capacity=capacity, clock=clock)
            if per_account is not None
            else None
        )

    def retry_after(
        self, source: str | None, station: str | None = None, account: str | None = None
    ) -> float:
        """Seconds until an attempt from `source` (for `station`, or `account`) may be checked;
        0.0: check it now. A positive answer counts as a refusal: the caller refuses it
        unchecked."""
        wait = self._sources.locked_for(source_key(source)) if source is not None else 0.0
        if self._stations is not None and station is not None:
            wait = max(wait, self._stations.locked_for(_pair(station, source)))
        if self._accounts is not None and account is not None:
            wait = max(wait, self._accounts.locked_for(account))
        if wait > 0:
            metrics.AUTH_LOCKOUT_REFUSALS.labels(self.kind.value).inc()
        return wait

    def failed(
        self, source: str | None, station: str | None = None, account: str | None = None
    ) -> None:
        """Count a checked attempt that failed; log and count the lockouts it starts."""
        metrics.AUTH_FAILURES.labels(self.kind.value).inc()
        accounts = self._accounts
        if accounts is not None and account is not None and accounts.failed(account):
            limit = accounts.limit
            log.warning(
                "account %s locked out for %gs: %d %s within %gs, the last from %s; "
                "its sign-ins are refused from every address",
                account,
                limit.lockout,
                limit.failures,
                _FAILURES[self.kind],
                limit.window,
                source or "an unknown address (a proxy named none)",
            )
            metrics.AUTH_LOCKOUTS.labels(self.kind.value, "account").inc()
        stations = self._stations
        if stations is not None and station is not None and stations.failed(_pair(station, source)):
            limit = stations.limit
            log.warning(
                "station %s from %s locked out for %gs: %d %s within %gs; "
                "other addresses are still checked",
                station,
                source or "an unknown address (a proxy named none)",
                limit.lockout,
                limit.failures,
                _FAILURES[self.kind],
                limit.window,
            )
            metrics.AUTH_LOCKOUTS.labels(self.kind.value, "station").inc()
        if source is None:
            return
        key = source_key(source)
        if self._sources.failed(key):
            limit = self._sources.limit
            log.warning(
                "source %s locked out for %gs: %d %s within %gs%s; all its %s are refused",
                key,
                limit.lockout,
                limit.failures,
                _FAILURES[self.kind],
                limit.window,
                f" (the last for station {station})" if station is not None else "",
                _REFUSED[self.kind],
            )
            metrics.AUTH_LOCKOUTS.labels(self.kind.value, "source").inc()

    def succeeded(
        self, source: str | None, station: str | None = None, account: str | None = None
    ) -> None:
        """The right credentials: forget this station's failures from this source, or this
        account's failures.

        The source's count stays: a valid credential of its own must not let an address reset
        its count between guesses at other stations', keys or accounts.
        """
        if self._stations is not None and station is not None:
            self._stations.succeeded(_pair(station, source))
        if self._accounts is not None and account is not None:
            self._accounts.succeeded(account)

    def __len__(self) -> int:
        """Keys remembered (all scopes); bounded by the capacity per scope."""
        return (
            len(self._sources)
            + (len(self._stations) if self._stations is not None else 0)
            + (len(self._accounts) if self._accounts is not None else 0)
        )


def station_password_limits(settings: Settings) -> AuthLimits:
    """The limits the OCPP handshake applies, from --auth-* settings."""
    return AuthLimits(
        Kind.STATION_PASSWORD,
        per_source=Limit(
            settings.auth_source_failures, settings.auth_window, settings.auth_lockout
        ),
        per_station=Limit(settings.auth_failures, settings.auth_window, settings.auth_lockout),
    )


def api_key_limits(settings: Settings) -> AuthLimits:
    """The limits the operator API applies to Bearer keys, from --auth-* settings."""
    return AuthLimits(
        Kind.API_KEY,
        per_source=Limit(settings.auth_failures, settings.auth_window, settings.auth_lockout),
    )


def sign_in_limits(settings: Settings) -> AuthLimits:
    """The limits on operator sign-ins (and password changes), from --auth-* settings: the
    API key's limit per address (--auth-failures) and per account."""
    return AuthLimits(
        Kind.SIGN_IN,
        per_source=Limit(settings.auth_failures, settings.auth_window, settings.auth_lockout),
        per_account=Limit(settings.auth_failures, settings.auth_window, settings.auth_lockout),
    )


def _pair(station: str, source: str | None) -> str:
    # A source key is an address or a network: it never holds a newline, so no two pairs meet.
    return f"{station}\n{source_key(source) if source is not None else '?'}"
