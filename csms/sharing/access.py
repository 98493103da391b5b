"""Who may start charging at a station now: members of its owner unit, and the public when open.

A pure decision over the station's access mode, the token's membership and the schedule's
answer; every refusal carries a reason an operator (and a driver's app) can show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AccessMode(StrEnum):
    PUBLIC = "public"  # anyone, any time
    PRIVATE = "private"  # the owner unit's members only
    SHARED = "shared"  # members always, the public inside opening windows


class PriceClass(StrEnum):
    MEMBER = "member"
    PUBLIC = "public"


@dataclass(frozen=True, slots=True)
class Membership:
    """The unit's members: id tokens by value, or whole token groups."""

    unit_id: str
    unit_name: str
    tokens: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def includes(self, id_token: str | None, group_id: str | None) -> bool:
        return (id_token is not None and id_token in self.tokens) or (
            group_id is not None and group_id in self.groups
        )


@dataclass(frozen=True, slots=True)
class AccessDecision:
    allowed: bool
    price_class: PriceClass
    reason: str
    next_change: datetime | None = None  # when a refused public start would be allowed
    special: bool = True  # False: a public station no unit owns (nothing to record)


def decide(
    mode: AccessMode,
    membership: Membership | None,
    id_token: str | None,
    group_id: str | None,
    *,
    public_open: bool | None,
    next_change: datetime | None = None,
) -> AccessDecision:
    """May this token start now? `public_open` is None when no schedule is in force."""
    if membership is not None and membership.includes(id_token, group_id):
        return AccessDecision(True, PriceClass.MEMBER, f"member of {membership.unit_name}")
    if mode is AccessMode.PUBLIC:
        return AccessDecision(True, PriceClass.PUBLIC, "public station")
    owner = membership.unit_name if membership is not None else "its owner unit"
    if mode is AccessMode.PRIVATE:
        return AccessDecision(False, PriceClass.PUBLIC, f"private station: members of {owner} only")
    if public_open is None:
        return AccessDecision(
            False, PriceClass.PUBLIC, f"shared station of {owner} has no opening schedule in force"
        )
    if public_open:
        return AccessDecision(
            True, PriceClass.PUBLIC, f"shared station of {owner}: open to the public"
        )
    when = "" if next_change is None else f"; opens to the public at {next_change.isoformat()}"
    return AccessDecision(
        False,
        PriceClass.PUBLIC,
        f"shared station of {owner} is reserved for its members now{when}",
        next_change,
    )
