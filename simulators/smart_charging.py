"""Charging profiles and the composite schedule: what limit applies to an EVSE when.

1.6 §3.13 and 2.0.1 K01/K08: within a purpose the valid profile with the highest stack level
wins; TxProfile overrides TxDefaultProfile for the running transaction; the station maximum
(ChargePointMaxProfile / ChargingStationMaxProfile) and 2.0.1 external constraints cap both.
An EVSE-specific TxDefaultProfile overrides one installed on EVSE 0. A profile with the same id,
or with the same stack level and purpose on the same EVSE, replaces the old one (1.6 §3.13.2,
2.0.1 K01). Limits are kept in the unit given and converted with the EVSE's supply (A x V x
phases for AC, A x nominal V for DC). Pure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulators import timestamps

STATION_MAX = "StationMax"  # 1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
EXTERNAL = "ChargingStationExternalConstraints"

_PURPOSES = {
    "ChargePointMaxProfile": STATION_MAX,
    "ChargingStationMaxProfile": STATION_MAX,
    "TxDefaultProfile": TX_DEFAULT,
    "TxProfile": TX,
    "ChargingStationExternalConstraints": EXTERNAL,
}
_RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(weeks=1)}

# Converts a limit in the given unit ("A"/"W") with an optional phase count to watts.
ToWatts = Callable[[float, str, int | None], float]


@dataclass(frozen=True, slots=True)
class Period:
    start_s: int
    limit: float
    phases: int | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    unit: str  # "A" or "W"
    periods: tuple[Period, ...]
    duration_s: int | None = None
    start: datetime | None = None
    min_rate: float | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    stack_level: int
    purpose: str  # one of the constants above
    kind: str  # Absolute, Recurring, Relative
    schedule: Schedule
    evse: int = 0  # 0 = the whole station
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None  # TxProfile: the transaction it belongs to
    installed_at: datetime | None = None  # start of an Absolute/Recurring schedule without one


def _time(text: str | None) -> datetime | None:
    return None if text is None else timestamps.parse(text)


def _schedule(s: dict[str, Any]) -> Schedule:
    periods = tuple(
        Period(p["startPeriod"], float(p["limit"]), p.get("numberPhases"))
        for p in sorted(s["chargingSchedulePeriod"], key=lambda p: p["startPeriod"])
    )
    return Schedule(
        s["chargingRateUnit"],
        periods,
        s.get("duration"),
        _time(s.get("startSchedule")),
        s.get("minChargingRate"),
    )


def profile_from_v16(p: dict[str, Any], evse: int, now: datetime) -> Profile:
    """A 1.6 csChargingProfiles object installed on connector `evse`."""
    tx = p.get("transactionId")
    return Profile(
        id=p["chargingProfileId"],
        stack_level=p["stackLevel"],
        purpose=_PURPOSES[p["chargingProfilePurpose"]],
        kind=p["chargingProfileKind"],
        schedule=_schedule(p["chargingSchedule"]),
        evse=evse,
        recurrency=p.get("recurrencyKind"),
        valid_from=_time(p.get("validFrom")),
        valid_to=_time(p.get("validTo")),
        transaction_id=None if tx is None else str(tx),
        installed_at=now,
    )


def profile_from_v201(p: dict[str, Any], evse: int, now: datetime) -> Profile:
    """A 2.0.1 ChargingProfileType installed on `evse`; its first schedule is used.

    (2.0.1 allows up to three schedules only for ISO 15118 negotiation; the first is the one a
    station without 15118 executes.)
    """
    return Profile(
        id=p["id"],
        stack_level=p["stackLevel"],
        purpose=_PURPOSES[p["chargingProfilePurpose"]],
        kind=p["chargingProfileKind"],
        schedule=_schedule(p["chargingSchedule"][0]),
        evse=evse,
        recurrency=p.get("recurrencyKind"),
        valid_from=_time(p.get("validFrom")),
        valid_to=_time(p.get("validTo")),
        transaction_id=p.get("transactionId"),
        installed_at=now,
    )


def schedule_start(profile: Profile, at: datetime, tx_start: datetime | None) -> datetime | None:
    """When the profile's schedule (the recurrence covering `at`) started; None: not running."""
    if profile.kind == "Relative":
        return tx_start
    anchor = profile.schedule.start or profile.installed_at
    if anchor is None:
        return None
    if profile.kind == "Recurring":
        step = _RECURRENCE.get(profile.recurrency or "Daily", timedelta(days=1))
        if at < anchor:
            return None
        return anchor + step * math.floor((at - anchor) / step)
    return anchor


def limit_at(
    profile: Profile, at: datetime, tx_start: datetime | None, to_watts: ToWatts
) -> float | None:
    """The profile's limit in W at `at`, or None when it does not apply then."""
    if profile.valid_from is not None and at < profile.valid_from:
        return None
    if profile.valid_to is not None and at >= profile.valid_to:
        return None
    start = schedule_start(profile, at, tx_start)
    if start is None or at < start:
        return None
    offset = (at - start).total_seconds()
    schedule = profile.schedule
    if schedule.duration_s is not None and offset >= schedule.duration_s:
        return None
    current = None
    for period in schedule.periods:
        if period.start_s <= offset:
            current = period
        else:
            break
    if current is None:
        return None
    return to_watts(current.limit, schedule.unit, current.phases)


class ProfileStore:
    def __init__(self, max_profiles: int = 20) -> None:
        self.max_profiles = max_profiles
        self._profiles: list[Profile] = []

    def __len__(self) -> int:
        return len(self._profiles)

    def profiles(self) -> list[Profile]:
        return list(self._profiles)

    def install(self, profile: Profile) -> bool:
        """Add `profile`, replacing any with its id or its (stack level, purpose, EVSE)."""
        kept = [
            p
            for p in self._profiles
            if p.id != profile.id
            and not (
                p.stack_level == profile.stack_level
                and p.purpose == profile.purpose
                and p.evse == profile.evse
            )
        ]
        if len(kept) >= self.max_profiles:
            return False
        kept.append(profile)
        self._profiles = kept
        return True

    def clear(
        self,
        *,
        profile_id: int | None = None,
        evse: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> int:
        """ClearChargingProfile: remove by id, or by every criterion given; return how many."""

        def matches(p: Profile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return (
                (evse is None or p.evse == evse)
                and (purpose is None or p.purpose == _PURPOSES.get(purpose, purpose))
                and (stack_level is None or p.stack_level == stack_level)
            )

        before = len(self._profiles)
        self._profiles = [p for p in self._profiles if not matches(p)]
        return before - len(self._profiles)

    def end_transaction(self, evse: int) -> None:
        """A TxProfile lives as long as its transaction (1.6 §3.13.1, 2.0.1 K01)."""
        self._profiles = [p for p in self._profiles if not (p.purpose == TX and p.evse == evse)]

    def _winner(
        self, candidates: list[Profile], at: datetime, tx_start: datetime | None, to_watts: ToWatts
    ) -> float | None:
        best: tuple[int, float] | None = None
        for p in candidates:
            limit = limit_at(p, at, tx_start, to_watts)
            if limit is not None and (best is None or p.stack_level > best[0]):
                best = (p.stack_level, limit)
        return None if best is None else best[1]

    def limit_w(
        self,
        evse: int,
        at: datetime,
        *,
        tx_id: str | None,
        tx_start: datetime | None,
        to_watts: ToWatts,
        rated_w: float,
    ) -> float:
        """The power an EVSE may draw at `at`: the composite of all profiles and its rating."""
        by = self._profiles
        limits = [rated_w]
        for purpose in (STATION_MAX, EXTERNAL):
            value = self._winner([p for p in by if p.purpose == purpose], at, tx_start, to_watts)
            if value is not None:
                limits.append(value)
        if evse > 0:
            tx_limit = None
            if tx_id is not None:
                own = [
                    p
                    for p in by
                    if p.purpose == TX
                    and p.evse == evse
                    and (p.transaction_id is None or p.transaction_id == tx_id)
                ]
                tx_limit = self._winner(own, at, tx_start, to_watts)
            if tx_limit is None:
                for scope in (evse, 0):
                    scoped = [p for p in by if p.purpose == TX_DEFAULT and p.evse == scope]
                    tx_limit = self._winner(scoped, at, tx_start, to_watts)
                    if tx_limit is not None:
                        break
            if tx_limit is not None:
                limits.append(tx_limit)
        return max(0.0, min(limits))

    def _breakpoints(
        self, begin: datetime, end: datetime, tx_start: datetime | None
    ) -> list[datetime]:
        points = {begin}
        for p in self._profiles:
            for moment in (p.valid_from, p.valid_to):
                if moment is not None:
                    points.add(moment)
            starts: list[datetime] = []
            if p.kind == "Recurring":
                step = _RECURRENCE.get(p.recurrency or "Daily", timedelta(days=1))
                first = schedule_start(p, begin, tx_start) or p.schedule.start or p.installed_at
                cursor = first
                while cursor is not None and cursor < end:
                    starts.append(cursor)
                    cursor += step
            else:
                start = schedule_start(p, begin, tx_start)
                if start is not None:
                    starts.append(start)
            for start in starts:
                for period in p.schedule.periods:
                    points.add(start + timedelta(seconds=period.start_s))
                if p.schedule.duration_s is not None:
                    points.add(start + timedelta(seconds=p.schedule.duration_s))
        return sorted(t for t in points if begin <= t < end)

    def composite(
        self,
        evse: int,
        begin: datetime,
        duration_s: int,
        *,
        tx_id: str | None,
        tx_start: datetime | None,
        to_watts: ToWatts,
        rated_w: float,
    ) -> list[tuple[int, float]]:
        """(offset seconds, limit W) periods over [begin, begin + duration), merged."""
        end = begin + timedelta(seconds=max(0, duration_s))
        periods: list[tuple[int, float]] = []
        for moment in self._breakpoints(begin, end, tx_start):
            limit = self.limit_w(
                evse, moment, tx_id=tx_id, tx_start=tx_start, to_watts=to_watts, rated_w=rated_w
            )
            offset = int((moment - begin).total_seconds())
            if periods and math.isclose(periods[-1][1], limit):
                continue
            if periods and periods[-1][0] == offset:
                periods[-1] = (offset, limit)
            else:
                periods.append((offset, limit))
        return periods or [(0, rated_w)]
