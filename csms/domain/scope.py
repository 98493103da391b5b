"""What part of the network an account may see: some counties, or one owner unit.

An account without a scope (None) sees the whole network. Counties are named as the registry
names them (stations.county), an owner unit as stations.owner_unit; a station with no county
or no owner unit is in no scope but the whole network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from csms.errors import InvalidInput

MAX_COUNTIES = 100
MAX_COUNTY_LENGTH = 64  # as StationMetadata.county
MAX_OWNER_UNIT_LENGTH = 200  # as the stations.owner_unit CHECK


@dataclass(frozen=True, slots=True)
class Scope:
    """Either `counties` (one or more) or `owner_unit`, never both, never neither."""

    counties: tuple[str, ...] = ()
    owner_unit: str | None = None

    def __post_init__(self) -> None:
        if bool(self.counties) == (self.owner_unit is not None):
            raise InvalidInput("a scope is either counties or one owner unit")
        if len(self.counties) > MAX_COUNTIES:
            raise InvalidInput(f"a scope names at most {MAX_COUNTIES} counties")
        for county in self.counties:
            if not 1 <= len(county) <= MAX_COUNTY_LENGTH or "\x00" in county:
                raise InvalidInput(f"a county name has 1..{MAX_COUNTY_LENGTH} characters")
        unit = self.owner_unit
        if unit is not None and (not 1 <= len(unit) <= MAX_OWNER_UNIT_LENGTH or "\x00" in unit):
            raise InvalidInput(f"an owner unit has 1..{MAX_OWNER_UNIT_LENGTH} characters")

    @classmethod
    def of(
        cls, counties: list[str] | tuple[str, ...] | None, owner_unit: str | None
    ) -> Scope | None:
        """The scope of stored columns or of a request; both empty: None (whole network)."""
        if not counties and owner_unit is None:
            return None
        # sorted and without repeats, so equal scopes compare (and are stored) equal
        return cls(tuple(sorted(set(counties or ()))), owner_unit)

    def covers(self, station: Mapping[str, Any]) -> bool:
        """Whether a station row (with `county` and `owner_unit`) is in this scope."""
        if self.owner_unit is not None:
            return bool(station.get("owner_unit") == self.owner_unit)
        return station.get("county") in self.counties

    def as_json(self) -> dict[str, Any]:
        if self.owner_unit is not None:
            return {"counties": None, "owner_unit": self.owner_unit}
        return {"counties": list(self.counties), "owner_unit": None}

    def describe(self) -> str:
        """For the CLI and log lines."""
        if self.owner_unit is not None:
            return f"owner unit {self.owner_unit}"
        return "counties " + ", ".join(self.counties)


def scope_json(scope: Scope | None) -> dict[str, Any] | None:
    """The API's form: null for the whole network."""
    return None if scope is None else scope.as_json()


def scope_columns(scope: Scope | None) -> tuple[list[str] | None, str | None]:
    """(scope_counties, scope_owner_unit) as stored; both None for the whole network."""
    if scope is None:
        return None, None
    return (list(scope.counties) or None), scope.owner_unit
