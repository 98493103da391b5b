"""Local Authorization Lists: check an update before it is sent, learn from the station's answers.

Every SendLocalList (the `send-local-list` command or the raw passthrough) is checked against
the rules of 1.6 §5.15 / 2.0.1 D01 and the version the station is known to hold; an Accepted
update and every GetLocalListVersion answer update what the CSMS knows (csms.domain.local_list).
"""

from __future__ import annotations

from typing import Any

from csms import errors
from csms.clock import utcnow
from csms.domain.local_list import (
    KnownList,
    applied,
    reported,
    update_problem,
    version_conflict,
)
from csms.domain.version import OcppVersion
from csms.services.dialects import Dialects
from csms.store.local_lists import LocalListStore

Params = dict[str, Any]
SEND = "SendLocalList"
GET_VERSION = "GetLocalListVersion"


class LocalLists:
    def __init__(self, store: LocalListStore, dialects: Dialects) -> None:
        self._dialects = dialects
        self._store = store

    async def check(self, station_id: str, version: OcppVersion, payload: Params) -> None:
        """Refuse a SendLocalList that breaks a rule (InvalidInput) or that the station would
        answer VersionMismatch to (Conflict)."""
        update = self._dialects[version].read_list_update(payload)
        problem = update_problem(update)
        if problem is not None:
            raise errors.InvalidInput(problem)
        conflict = version_conflict(update, await self._store.get(station_id))
        if conflict is not None:
            raise errors.Conflict(conflict)

    async def observe(
        self,
        station_id: str,
        version: OcppVersion,
        action: str,
        request: Params,
        response: Params,
        command_id: int,
    ) -> None:
        """Learn from an answered SendLocalList or GetLocalListVersion."""
        if action not in (SEND, GET_VERSION):
            return
        dialect = self._dialects[version]
        known = await self._store.get(station_id)
        if action == GET_VERSION:
            reported_version = dialect.reported_list_version(response)
            if reported_version < 0:
                return  # 1.6 -1: the station has no local list feature; nothing to learn
            after = reported(known, reported_version)
        elif response.get("status") == "Accepted":
            after = applied(known, dialect.read_list_update(request))
        elif response.get("status") == "VersionMismatch" and known is not None:
            # ours is not what the station holds: keep the version, forget the entries
            after = KnownList(known.version, None)
        else:
            return  # Failed / NotSupported: the station's list is unchanged
        await self._store.save(station_id, after, source=action, command_id=command_id, at=utcnow())

    async def known_types(self, station_id: str) -> dict[str, str | None]:
        """The id token types of the station's known entries (a 2.0.1 removal names the type)."""
        known = await self._store.get(station_id)
        if known is None or known.entries is None:
            return {}
        return {token: entry.token_type for token, entry in known.entries.items()}

    async def describe(self, station_id: str) -> dict[str, Any]:
        """What the CSMS knows of the station's list, for the API."""
        details = await self._store.details(station_id)
        known = await self._store.get(station_id)
        if details is None or known is None:
            return {"station_id": station_id, "version": None, "entries": None}
        entries = (
            None
            if known.entries is None
            else [
                {"id_token": e.id_token, "type": e.token_type, "status": e.status}
                for e in known.entries.values()
            ]
        )
        return {
            "station_id": station_id,
            "version": known.version,
            "entries": entries,
            "source": details["source"],
            "command_id": details["command_id"],
            "updated_at": details["updated_at"],
        }
