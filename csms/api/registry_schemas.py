"""Bodies of the registry API: one station's planning facts, as the plan counts them.

The schema checks types and ranges (so the OpenAPI document says them); the rules a fact
must keep against the plan and the database (county of the plan, coordinates in China, the
owner unit of a non-public station) are the CSV import's, applied after it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from csms.api.bounds import Day
from csms.api.schemas import Strict
from csms.monitoring.registry_csv import (
    MAX_CONNECTOR_KW,
    MAX_CONNECTORS,
    MAX_RATED_KW,
    MAX_SPACES,
    SITE_CATEGORIES,
)


def _site_category(value: str) -> str:
    if value not in SITE_CATEGORIES:
        raise ValueError(f"{value!r} is not a site category: one of {', '.join(SITE_CATEGORIES)}")
    return value


SiteCategory = Annotated[
    str,
    AfterValidator(_site_category),
    Field(
        json_schema_extra={"enum": list(SITE_CATEGORIES)},
        description="the plan's site category (its charger-to-parking-space ratios differ)",
    ),
]
AccessMode = Literal["public", "private", "shared"]
County = Annotated[
    str, Field(min_length=1, max_length=64, description="the plan's county, Chinese or English")
]
Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS-84 (GNSS), inside China")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS-84 (GNSS), inside China")]
RatedPower = Annotated[Decimal, Field(gt=0, le=MAX_RATED_KW, decimal_places=2)]
Spaces = Annotated[int, Field(ge=0, le=MAX_SPACES)]


Name = Annotated[str, Field(min_length=1, max_length=100)]  # a township, a village
SiteName = Annotated[str, Field(min_length=1, max_length=200)]
Address = Annotated[str, Field(min_length=1, max_length=500)]
OperatorId = Annotated[str, Field(min_length=1, max_length=64)]
UnitId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="a registered unit (POST /api/v1/units); required unless public",
    ),
]


# a pile's rated (nameplate) output limits, reported to monitoring platforms
Volts = Annotated[int, Field(ge=0, le=2000, description="V, the pile's rated output")]
Amps = Annotated[int, Field(ge=1, le=2000, description="A, the pile's rated output current")]


class ConnectorFacts(Strict):
    power_kw: Decimal = Field(gt=0, le=MAX_CONNECTOR_KW, decimal_places=2)
    current: Literal["AC", "DC"]


Connectors = Annotated[
    list[ConnectorFacts],
    Field(min_length=1, max_length=MAX_CONNECTORS, description="in connector order (1, 2, ...)"),
]


class RegistryFacts(Strict):
    """Every fact of one station (PUT): an optional fact left out is cleared."""

    county: County
    township: Name | None = None
    village: Name | None = None
    site_name: SiteName | None = None
    site_category: SiteCategory | None = Field(
        default=None, description="a fact of the site (every station there): needs site_name"
    )
    address: Address | None = None
    latitude: Latitude
    longitude: Longitude
    parking_spaces: Spaces | None = Field(
        default=None, description="a fact of the site (every station there): needs site_name"
    )
    connectors: Connectors
    commissioned_on: Day | None = None
    access_mode: AccessMode
    owner_unit: UnitId | None = None
    operator_id: OperatorId | None = None
    rated_power_kw: RatedPower | None = Field(
        default=None, description="default: the most powerful connector"
    )
    rated_voltage_max_v: Volts | None = None
    rated_voltage_min_v: Volts | None = None
    rated_current_a: Amps | None = None


class RegistryPatch(Strict):
    """The facts to change (PATCH); null clears an optional one. The record they make with
    the stored facts must be complete (county, coordinates, connectors, access mode)."""

    county: County | None = None
    township: Name | None = None
    village: Name | None = None
    site_name: SiteName | None = None
    site_category: SiteCategory | None = None
    address: Address | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    parking_spaces: Spaces | None = None
    connectors: Connectors | None = None
    commissioned_on: Day | None = None
    access_mode: AccessMode | None = None
    owner_unit: UnitId | None = None
    operator_id: OperatorId | None = None
    rated_power_kw: RatedPower | None = None
    rated_voltage_max_v: Volts | None = None
    rated_voltage_min_v: Volts | None = None
    rated_current_a: Amps | None = None


class ConnectorOut(BaseModel):
    power_kw: Decimal
    current: str


class RegistryRecord(BaseModel):
    """A station's registry record, as the CSV export has it."""

    station_id: str
    county: str | None
    township: str | None
    village: str | None
    site_name: str | None
    site_category: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    parking_spaces: int | None
    connectors: list[ConnectorOut]
    commissioned_on: date | None
    access_mode: str
    owner_unit: str | None
    operator_id: str | None
    rated_power_kw: Decimal | None
    rated_voltage_max_v: int | None
    rated_voltage_min_v: int | None
    rated_current_a: int | None


class LeftOut(BaseModel):
    """A site the monitoring platforms' station query leaves out, and why."""

    station_code: str = Field(description="the T/CEC StationID the platforms know it by")
    station_ids: list[str] = Field(description="its charging stations (piles)")
    reason: str
