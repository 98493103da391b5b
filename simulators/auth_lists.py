"""Local authorization: the Local Authorization List and the Authorization Cache.

1.6 §3.5 and 2.0.1 C12-C14/D01-D02: the list is managed by the CSMS (SendLocalList, versioned),
the cache is filled from Authorize/transaction answers. Offline, a station may start charging for
a token the list or cache accepts (LocalAuthorizeOffline), or for any token when
AllowOfflineTxForUnknownId / OfflineTxForUnknownIdEnabled is set. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

ACCEPTED = "Accepted"


@dataclass(frozen=True, slots=True)
class AuthEntry:
    """What the CSMS said about a token (1.6 IdTagInfo / 2.0.1 IdTokenInfo)."""

    status: str
    expires_at: datetime | None = None
    group: str | None = None

    def valid_at(self, now: datetime) -> AuthEntry:
        """This entry as seen at `now`: an Accepted entry past its expiry is Expired."""
        if self.status == ACCEPTED and self.expires_at is not None and self.expires_at <= now:
            return AuthEntry("Expired", self.expires_at, self.group)
        return self


class LocalAuthList:
    def __init__(self, max_length: int = 1000) -> None:
        self.max_length = max_length
        self.version = 0
        self._entries: dict[str, AuthEntry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, token: str, now: datetime) -> AuthEntry | None:
        entry = self._entries.get(token)
        return None if entry is None else entry.valid_at(now)

    def update(
        self, version: int, update_type: str, items: Iterable[tuple[str, AuthEntry | None]]
    ) -> str:
        """Apply a SendLocalList: Accepted, Failed or VersionMismatch (1.6 §5.15, 2.0.1 D01).

        Full replaces the list; Differential adds or updates entries with info and removes those
        without. A differential update must carry a newer version than the one held (D01). A
        version of 0 or less (D01.FR.18) and a token listed twice (D01.FR.06) fail the update.
        """
        items = list(items)
        tokens = [token for token, _ in items]
        if version <= 0 or len(set(tokens)) != len(tokens):
            return "Failed"
        if update_type == "Differential" and version <= self.version:
            return "VersionMismatch"
        if update_type == "Full":
            entries = {token: entry for token, entry in items if entry is not None}
        else:
            entries = dict(self._entries)
            for token, entry in items:
                if entry is None:
                    entries.pop(token, None)
                else:
                    entries[token] = entry
        if len(entries) > self.max_length:
            return "Failed"
        self._entries = entries
        self.version = version
        return "Accepted"


class AuthCache:
    def __init__(self, lifetime: timedelta | None = None, capacity: int = 1000) -> None:
        self.lifetime = lifetime
        self.capacity = capacity
        self._entries: dict[str, tuple[AuthEntry, datetime]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, token: str, entry: AuthEntry, now: datetime) -> None:
        self._entries.pop(token, None)
        if len(self._entries) >= self.capacity:
            # evict the least recently recorded entry
            del self._entries[next(iter(self._entries))]
        self._entries[token] = (entry, now)

    def lookup(self, token: str, now: datetime) -> AuthEntry | None:
        found = self._entries.get(token)
        if found is None:
            return None
        entry, recorded = found
        if self.lifetime is not None and now - recorded > self.lifetime:
            del self._entries[token]
            return None
        return entry.valid_at(now)

    def clear(self) -> None:
        self._entries.clear()

    def forget(self, token: str) -> None:
        """Drop one token's entry (2.0.1 N10: clear a customer's data)."""
        self._entries.pop(token, None)


def local_decision(
    token: str,
    now: datetime,
    *,
    local_list: LocalAuthList | None,
    cache: AuthCache | None,
) -> AuthEntry | None:
    """What the list (first) or the cache says about `token`, if either knows it."""
    if local_list is not None:
        entry = local_list.lookup(token, now)
        if entry is not None:
            return entry
    if cache is not None:
        return cache.lookup(token, now)
    return None


def offline_decision(
    token: str,
    now: datetime,
    *,
    local_list: LocalAuthList | None,
    cache: AuthCache | None,
    authorize_offline: bool,
    unknown_allowed: bool,
) -> str:
    """The status a disconnected station acts on (1.6 §3.5.1-3.5.3, 2.0.1 C12/C14)."""
    if authorize_offline:
        entry = local_decision(token, now, local_list=local_list, cache=cache)
        if entry is not None:
            return entry.status
    return ACCEPTED if unknown_allowed else "Invalid"
