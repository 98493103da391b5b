"""Answers whether an id token may charge, from the token store."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from csms import metrics
from csms.clock import utcnow
from csms.config import UnknownTokenPolicy
from csms.domain.station import ConnectorRef
from csms.domain.token import AuthDecision, AuthStatus, decide
from csms.errors import Conflict
from csms.services.recent import RecentSet
from csms.services.sharing import AccessService
from csms.store.lockouts import LockoutStore
from csms.store.tokens import TokenStore

LOCKED_MAX_AGE = 2.0  # seconds a new lockout may take to refuse starts on other nodes


class AuthorizationService:
    def __init__(
        self,
        tokens: TokenStore,
        unknown_tokens: UnknownTokenPolicy,
        access: AccessService | None = None,
        lockouts: LockoutStore | None = None,
    ) -> None:
        self._tokens = tokens
        self._accept_unknown = unknown_tokens is UnknownTokenPolicy.ACCEPT
        self._access = access
        self._lockouts = lockouts
        # Stations under a lockout, at most LOCKED_MAX_AGE seconds old: most starts are at
        # stations that are not, and need no query for it.
        self._locked = (
            None if lockouts is None else RecentSet(lockouts.locked_stations, LOCKED_MAX_AGE)
        )

    async def authorize(
        self,
        id_token: str,
        *,
        station_id: str | None = None,
        where: ConnectorRef | None = None,
        context: str | None = None,
        at: datetime | None = None,
        transaction_id: int | None = None,
    ) -> AuthDecision:
        """Decide for a token; a transaction on `where` itself does not count as concurrent.

        With a `context` (a start: Authorize, StartTransaction, TransactionEvent, remote-start)
        an accepted token is Blocked at a station under a safety lockout, and must also pass the
        station's sharing rules at `at` (default now), else NotAtThisTime; refusals are logged.
        """
        decision = await self._token_decision(id_token, station_id, where)
        if (
            context is None
            or station_id is None
            or (self._access is None and self._lockouts is None)
            or decision.status is not AuthStatus.ACCEPTED
        ):
            return decision
        if context == "Authorize" and await self._tokens.open_here(
            id_token, decision.group_id, station_id
        ):
            return decision  # presented to stop a session here: stopping is always allowed
        locked = await self._locked_out(station_id, id_token, context, transaction_id)
        if locked is not None:
            return replace(decision, status=AuthStatus.BLOCKED, reason=locked)
        if self._access is None:
            return decision
        now = utcnow()
        # A station's own time judges an offline start, but never a time still to come: a
        # clock running ahead must not open the window early.
        moment = now if at is None else min(at, now)
        access = await self._access.decide(
            station_id,
            id_token,
            decision.group_id,
            moment,
            context=context,
            transaction_id=transaction_id,
        )
        status = AuthStatus.ACCEPTED if access.allowed else AuthStatus.NOT_AT_THIS_TIME
        if not access.special:
            return decision  # a plain public station: nothing to decide or to record
        return replace(
            decision, status=status, price_class=access.price_class.value, reason=access.reason
        )

    async def check_remote_start(self, station_id: str, id_token: str) -> None:
        """A remote start at a locked-out station, or one the sharing rules would refuse, is not
        sent (Conflict, logged)."""
        locked = await self._locked_out(station_id, id_token, "remote-start", None)
        if locked is not None:
            raise Conflict(locked)
        decision = await self.authorize(id_token, station_id=station_id, context="remote-start")
        if decision.status is AuthStatus.NOT_AT_THIS_TIME:
            raise Conflict(f"NotAtThisTime: {decision.reason}")

    async def _locked_out(
        self, station_id: str, id_token: str, context: str, transaction_id: int | None
    ) -> str | None:
        """Why a start here is refused because of a safety lockout (logged), or None."""
        if self._lockouts is None or self._locked is None:
            return None
        if not await self._locked.contains(station_id):
            return None
        hazard = await self._lockouts.hazard(station_id)
        if hazard is None:
            return None
        reason = f"station locked out: {hazard}"
        metrics.LOCKOUT_REFUSALS.inc()
        await self._lockouts.log_refusal(
            at=utcnow(),
            station_id=station_id,
            id_token=id_token,
            context=context,
            reason=reason,
            transaction_id=transaction_id,
        )
        return reason

    def locked_now(self, station_id: str) -> None:
        """A lockout opened on this node: refuse starts there at once."""
        if self._locked is not None:
            self._locked.add(station_id)

    async def remember_start(self, transaction_id: int, decision: AuthDecision) -> None:
        """Keep on the transaction whether it charges as a member or as the public, and why."""
        if self._access is not None and decision.price_class is not None:
            await self._access.record_start(transaction_id, decision)

    async def _token_decision(
        self, id_token: str, station_id: str | None, where: ConnectorRef | None
    ) -> AuthDecision:
        # Deleted tokens too: decide answers them Invalid, never as unknown (which a network
        # accepting unknown tokens would let charge).
        token = await self._tokens.find(id_token)
        in_other = False
        if token is not None and not token.blocked and token.deleted_at is None:
            in_other = await self._tokens.in_open_transaction(
                id_token,
                except_station=station_id,
                except_evse=where.evse_id if where else None,
            )
        return decide(
            token, utcnow(), in_other_transaction=in_other, accept_unknown=self._accept_unknown
        )
