"""Request and response bodies of the sharing API: units, members, access, schedules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from csms.api.bounds import Day
from csms.api.schemas import Strict

UnitId = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="letters, digits, . _ -")
HHMM = Field(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$", description="HH:MM, 24:00 ends a day")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
UnitKind = Literal["government", "enterprise", "school", "hospital", "public_institution", "other"]


class Member(Strict):
    kind: Literal["token", "group"]
    value: str = Field(min_length=1, max_length=36)


class MemberList(Strict):
    members: list[Member] = Field(max_length=10_000)


class UnitFields(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: UnitKind | None = None
    county: str | None = Field(default=None, max_length=64)
    close_policy: Literal["finish", "stop"] | None = Field(
        default=None,
        description="when a window closes: let public sessions finish, or stop them after "
        "close_grace_minutes",
    )
    close_grace_minutes: int | None = Field(default=None, ge=0, le=1440)
    close_message: str | None = Field(default=None, max_length=256)
    opened_on: Day | None = Field(default=None, description="first day open to the public")


class UnitCreate(UnitFields):
    unit_id: str = UnitId
    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind
    members: list[Member] = Field(default_factory=list, max_length=10_000)


class Unit(BaseModel):
    unit_id: str
    name: str
    kind: str
    county: str | None
    close_policy: str
    close_grace_minutes: int
    close_message: str | None
    opened_on: date | None
    created_at: datetime
    updated_at: datetime


class UnitDetail(Unit):
    members: list[dict[str, str]]
    stations: list[dict[str, Any]]
    schedules: list[dict[str, Any]]


class StationAccessBody(Strict):
    access_mode: Literal["public", "private", "shared"]
    unit_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$", description="the owner unit"
    )


class WindowIn(Strict):
    days: list[Weekday] = Field(min_length=1, max_length=7)
    start: str = HHMM
    end: str = HHMM


class TimeSpan(Strict):
    start: str = HHMM
    end: str = HHMM


class ExceptionIn(Strict):
    date: Day
    kind: Literal["open", "closed", "windows"]
    windows: list[TimeSpan] = Field(default_factory=list, max_length=24)
    note: str = Field(default="", max_length=200)


class ScheduleCreate(Strict):
    station_id: str | None = Field(
        default=None, max_length=48, description="only this station; default: the whole unit"
    )
    time_zone: str | None = Field(default=None, description="IANA zone; default the CSMS's")
    effective_from: Day
    effective_to: Day | None = Field(default=None, description="last day in force")
    windows: list[WindowIn] = Field(max_length=100)
    exceptions: list[ExceptionIn] = Field(default_factory=list, max_length=1000)
    holidays_open: bool = Field(default=True, description="statutory holidays open all day")
    workday_pattern: Weekday = Field(
        default="mon", description="whose windows an adjusted working day (调休) follows"
    )


class ScheduleEnd(Strict):
    last_day: Day = Field(description="the last day the schedule is in force")
