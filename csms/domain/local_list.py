"""A station's Local Authorization List as the CSMS knows it, and the rules for updating it.

1.6 §3.5/§5.15 and 2.0.1 D01/D02: the CSMS owns the list and numbers its versions; a Full update
replaces it, a Differential one adds or updates the entries that carry a status and removes
those that carry none. Pure: the command service reads and stores, this decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One id token of an update; `status` None removes it from the list (Differential only)."""

    id_token: str
    token_type: str | None = None
    status: str | None = None

    @property
    def removal(self) -> bool:
        return self.status is None


@dataclass(frozen=True, slots=True)
class ListUpdate:
    """One SendLocalList, version-neutral."""

    version: int
    full: bool
    entries: tuple[ListEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class KnownList:
    """What the CSMS last learnt of a station's list: the version the station holds, and its
    entries by id token when every change to it went through the CSMS (else None: unknown)."""

    version: int
    entries: Mapping[str, ListEntry] | None = field(default=None)


def update_problem(update: ListUpdate) -> str | None:
    """Why `update` can never be right (whatever the station holds), or None."""
    if update.version <= 0:
        # 2.0.1 D01.FR.18 (versionNumber > 0); 1.6 §5.10 uses 0 for "no list installed"
        return f"the list version must be greater than 0, got {update.version}"
    counts = Counter(entry.id_token for entry in update.entries)
    duplicates = sorted(token for token, n in counts.items() if n > 1)
    if duplicates:
        # 2.0.1 D01.FR.06: every idToken of the list is unique
        return f"id tokens appear more than once in the list: {', '.join(duplicates)}"
    if update.full and any(entry.removal for entry in update.entries):
        return "a full list replaces the station's list: it has no removals (use differential)"
    return None


def version_conflict(update: ListUpdate, known: KnownList | None) -> str | None:
    """A differential update must carry a newer version than the station holds (1.6 §5.15
    VersionMismatch; 2.0.1 D01): say so before the station does."""
    if update.full or known is None or update.version > known.version:
        return None
    return (
        f"the station holds list version {known.version}; a differential update needs a "
        f"higher version (or send a full list)"
    )


def applied(known: KnownList | None, update: ListUpdate) -> KnownList:
    """The station's list after it Accepted `update`."""
    if update.full:
        return KnownList(update.version, {e.id_token: e for e in update.entries})
    if known is None or known.entries is None:
        return KnownList(update.version, None)  # changes to a list we never saw whole
    entries = dict(known.entries)
    for entry in update.entries:
        if entry.removal:
            entries.pop(entry.id_token, None)
        else:
            entries[entry.id_token] = entry
    return KnownList(update.version, entries)


def reported(known: KnownList | None, version: int) -> KnownList:
    """The station answered GetLocalListVersion with `version`: its word wins. 0 is no list
    (1.6 §5.10, 2.0.1 D02.FR.02); another version than ours means changes we did not make."""
    if version <= 0:
        return KnownList(0, {})
    if known is not None and known.version == version:
        return known
    return KnownList(version, None)
