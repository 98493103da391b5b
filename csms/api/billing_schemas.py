"""Request and response bodies of the billing API: tariffs, assignments, sites, CDRs, reviews."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from csms.api.bounds import MAX_INT4, Instant
from csms.api.schemas import Strict
from csms.billing.tariff import Band, DayType

TariffId = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="letters, digits, . _ -")
HHMM = Field(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$", description="HH:MM, 24:00 ends a day")


class PriceIn(Strict):
    energy: Decimal = Field(description="electricity price, CNY per kWh, up to 4 decimals")
    service: Decimal = Field(description="service price, CNY per kWh, up to 4 decimals")


class PeriodIn(Strict):
    start: str = HHMM
    end: str = HHMM
    band: Band


class PlanIn(Strict):
    months: list[int] = Field(default_factory=list, max_length=12, description="empty: all")
    day_types: list[DayType] = Field(default_factory=list, max_length=3, description="empty: all")
    periods: list[PeriodIn] = Field(min_length=1, max_length=96)


class IdleFeeIn(Strict):
    per_minute: Decimal = Field(description="CNY per whole minute after the grace period")
    grace_minutes: int = Field(default=0, ge=0, le=24 * 60)
    cap: Decimal | None = Field(default=None, description="most one session pays, CNY")


class TariffBody(Strict):
    """One version of a tariff: prices per band, the day plans that place the bands, fees."""

    name: str = Field(min_length=1, max_length=200)
    currency: Literal["CNY"] = "CNY"
    time_zone: str | None = Field(default=None, description="IANA zone; default the CSMS's")
    effective_from: Instant
    effective_to: Instant | None = None
    prices: dict[Band, PriceIn] = Field(min_length=1)
    plans: list[PlanIn] = Field(min_length=1, max_length=50)
    idle_fee: IdleFeeIn | None = None
    session_fee: Decimal = Decimal("0.00")


class TariffCreate(TariffBody):
    tariff_id: str = TariffId


class TariffFromPolicy(Strict):
    """A new tariff from a T/CEC business policy: PolicyInfos (StartTime HHmmss, ElecPrice,
    SevicePrice or ServicePrice) for every day; distinct prices become bands, dearest first."""

    tariff_id: str = TariffId
    name: str = Field(min_length=1, max_length=200)
    time_zone: str | None = Field(default=None, description="IANA zone; default the CSMS's")
    effective_from: Instant
    effective_to: Instant | None = None
    policy: dict[str, Any] = Field(description='{"SumPeriod"?, "PolicyInfos": [...]}')
    idle_fee: IdleFeeIn | None = None
    session_fee: Decimal = Decimal("0.00")


class QuoteBody(Strict):
    """A session to price: energy charged evenly from start to end, idle until occupied_until."""

    start: Instant
    end: Instant
    energy_kwh: Decimal = Field(ge=0, le=10_000, decimal_places=3)
    occupied_until: Instant | None = Field(
        default=None, description="when the bay was freed, if after `end` (idle fee)"
    )
    version: int | None = Field(
        default=None, ge=1, lt=2**31, description="default: the version in force at `start`"
    )


class TariffOut(BaseModel):
    tariff_id: str
    version: int
    name: str
    currency: str
    time_zone: str
    effective_from: datetime
    effective_to: datetime | None
    prices: dict[str, dict[str, str]]
    plans: list[dict[str, Any]]
    idle_fee: dict[str, Any] | None
    session_fee: str
    created_by: str | None
    created_at: datetime


class AssignmentCreate(Strict):
    tariff_id: str = TariffId
    scope: Literal["station", "site", "owner", "network"]
    target: str = Field(
        default="",
        max_length=200,
        description="station id, site or owner unit; empty for network",
    )
    effective_from: Instant
    effective_to: Instant | None = None
    audience: Literal["all", "member", "public"] = Field(
        default="all", description="whom it prices: members of the owner unit, the public, all"
    )


class Assignment(BaseModel):
    id: int
    tariff_id: str
    scope: str
    target: str
    audience: str
    effective_from: datetime
    effective_to: datetime | None
    created_by: str | None


class SiteBody(Strict):
    two_part_tariff: bool = Field(
        default=False, description="supplied on a two-part (energy + demand) electricity tariff"
    )
    notes: str | None = Field(default=None, max_length=2000)


class Site(BaseModel):
    site_name: str
    two_part_tariff: bool
    notes: str | None
    stations: int


class Note(Strict):
    note: str = Field(min_length=1, max_length=2000)


class Rebill(Note):
    tariff_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$")
    replaces: int | None = Field(
        default=None,
        ge=1,
        description="the standing bill this corrects: a retried or racing request that no "
        "longer matches gets 409 instead of correcting twice",
    )
    tariff_version: int | None = Field(default=None, ge=1, le=MAX_INT4)


class Review(BaseModel):
    transaction_id: int
    station_id: str
    cause: str
    detail: str
    status: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None
