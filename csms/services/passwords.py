"""Station password rotation (issue 16; 1.6J §6.2.2, 1.6 security whitepaper; 2.0.1 A01).

The CSMS generates the new password, keeps its hash next to the current one, and sends it
(ChangeConfiguration AuthorizationKey / SetVariables SecurityCtrlr.BasicAuthPassword). Both stay
valid until the station connects with the new one, which retires the old one. A refusal drops
the new one; an unanswered CALL keeps both until the station's next connect shows which one it
uses. The password is never logged, never stored, and never returned: only the station and the
CSMS's hash know it (a station that loses it gets a new one from an admin, PATCH /stations/{id}).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from csms import errors
from csms.clock import utcnow
from csms.domain.password import (
    ROTATED_LENGTH_16,
    ROTATED_LENGTH_201,
    SENT_ABANDONED_AFTER,
    Outcome,
    PendingState,
    generate_password,
    handshake_outcome,
    hash_password,
)
from csms.domain.station import StationAuth
from csms.domain.version import OcppVersion
from csms.services.commands import CommandService
from csms.store.passwords import ACTOR_STATION, PasswordStore
from csms.store.stations import StationStore

log = logging.getLogger(__name__)
COMMAND = "rotate-password"
LENGTH = {OcppVersion.V16: ROTATED_LENGTH_16, OcppVersion.V201: ROTATED_LENGTH_201}


@dataclass(frozen=True, slots=True)
class Rotation:
    """The outcome of one rotate-password command (never the password)."""

    command_id: int
    station_id: str
    action: str
    status: str  # the station's answer: Accepted, RebootRequired, Rejected, ...
    pending: bool  # both passwords valid until the station connects with the new one
    request: dict[str, Any]  # as logged: the password replaced by a placeholder
    response: dict[str, Any]


def rotation_problem(station: StationAuth) -> str | None:
    """Why this station's password cannot be rotated, or None."""
    if station.security_profile == 3:
        return (
            f"station {station.station_id} uses security profile 3: it authenticates with its "
            f"client certificate, not a password"
        )
    if station.password_hash is None:
        return (
            f"station {station.station_id} has no password to rotate; an admin sets its first "
            f"one with PATCH /api/v1/stations/{station.station_id}"
        )
    return None


class PasswordRotation:
    def __init__(
        self, store: PasswordStore, stations: StationStore, commands: CommandService
    ) -> None:
        self._store = store
        self._stations = stations
        self._commands = commands

    async def rotate(self, station_id: str, *, requested_by: str, timeout: float) -> Rotation:
        """Generate, keep (hashed) and send a new password; the station's answer decides."""
        station = await self._stations.get_auth(station_id)
        if station is None:
            raise errors.NotFound(f"station {station_id} does not exist")
        problem = rotation_problem(station)
        if problem is not None:
            raise errors.Conflict(problem)
        version = await self._commands.local_version(station_id)
        password = generate_password(LENGTH[version])
        new_hash = await asyncio.to_thread(hash_password, password)
        wire = self._commands.dialect(version)
        action, payload, logged = wire.password_call(password)
        # Kept before it is sent: a station may switch and reconnect before its answer arrives.
        await self._store.begin(
            station_id, new_hash, actor=requested_by, command=COMMAND, at=utcnow()
        )
        try:
            result = await self._commands.send_credentials(
                station_id,
                action,
                payload,
                logged=logged,
                requested_by=requested_by,
                timeout=timeout,
            )
        except errors.CallFailed as failed:
            # A CALLERROR: the station did not take it. Anything else (no answer in time, the
            # connection lost meanwhile): it may have; both stay valid until it reconnects.
            taken = None if failed.reason == "CALLERROR" else PendingState.UNCONFIRMED
            await self._settle(station_id, new_hash, taken, requested_by, f"{failed}")
            raise
        except errors.CsmsError as refused:  # refused before anything was sent
            await self._settle(station_id, new_hash, None, requested_by, str(refused))
            raise
        except asyncio.CancelledError:  # the request went away: whether it was sent is unknown
            await asyncio.shield(
                self._settle(station_id, new_hash, PendingState.UNCONFIRMED, requested_by, "")
            )
            raise
        status = wire.password_answer(result.response)
        taken = PendingState.ACCEPTED if status in wire.password_taken else None
        pending = await self._settle(station_id, new_hash, taken, requested_by, status)
        return Rotation(
            command_id=result.command_id,
            station_id=station_id,
            action=action,
            status=status,
            pending=pending and taken is not None,
            request=result.request,
            response=result.response,
        )

    async def _settle(
        self,
        station_id: str,
        new_hash: str,
        state: PendingState | None,
        actor: str,
        answer: str,
    ) -> bool:
        action = {
            PendingState.ACCEPTED: "password_rotation_accepted",
            PendingState.UNCONFIRMED: "password_rotation_unanswered",
            None: "password_rotation_refused",
        }[state]
        return await self._store.settle(
            station_id,
            new_hash,
            state,
            actor=actor,
            action=action,
            detail={"answer": answer},
            at=utcnow(),
        )


class PasswordSwitch:
    """The handshake's side of a rotation: what a station's successful connect settles."""

    def __init__(self, store: PasswordStore) -> None:
        self._store = store

    async def connected(self, station: StationAuth, used_new: bool) -> None:
        """A station passed the handshake with its current (used_new False) or pending password:
        retire the old one, drop an unanswered new one, or keep both (see handshake_outcome)."""
        state = station.pending_password_state
        pending = station.pending_password_hash
        if pending is None or state is None:
            return
        since = station.pending_password_since
        abandoned = since is not None and utcnow() - since > SENT_ABANDONED_AFTER
        outcome = handshake_outcome(used_new, PendingState(state), abandoned=abandoned)
        if outcome is Outcome.RETIRE_OLD:
            if await self._store.retire_old(station.station_id, pending, utcnow()):
                log.info(
                    "%s connected with its new password; the old one is retired", station.station_id
                )
        elif outcome is Outcome.DROP_NEW:
            await self._store.settle(
                station.station_id,
                pending,
                None,
                actor=ACTOR_STATION,
                action="password_rotation_dropped",
                detail={"reason": "the station reconnected with its old password"},
                at=utcnow(),
            )
