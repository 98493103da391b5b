"""One station's registry record: completed from what is stored, as JSON, and what changed (pure).

The CSV import and the API's PUT/PATCH of one station share these steps, so a fact set either
way is checked by the same rules (`registry_csv.parse_record`) and audited the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final

from csms.errors import InvalidInput
from csms.monitoring.registry_csv import (
    COLUMNS,
    LIMIT_COLUMNS,
    Connector,
    CountyOf,
    RegistryRow,
    RowError,
    cells_of,
    connectors_text,
    counted,
    default_rated_power,
    kw_text,
    parse_record,
)

# The facts the API takes (everything of a CSV row but the station id, which is in the path).
FIELDS: Final = (*COLUMNS[1:], *LIMIT_COLUMNS)
# Facts of the site a station names, kept once per site (the sites table), not per station.
SITE_FIELDS: Final = frozenset({"site_category", "parking_spaces"})


class RecordInvalid(InvalidInput):
    """A station's record was refused; nothing was stored. The problem body lists each field."""

    def __init__(self, problems: list[RowError]) -> None:
        self.problems = tuple(problems)
        summary = f"{counted(len(problems), 'problem')} in the record; nothing was stored"
        self.detail: dict[str, Any] = {
            "message": summary,
            "fields": [{"field": p.column, "message": p.message} for p in problems],
        }
        super().__init__("; ".join([summary, *(f"{p.column}: {p.message}" for p in problems)]))


def complete(row: RegistryRow, stored: RegistryRow | None) -> RegistryRow:
    """The row with every column its file left out taken from the stored record; a new
    station gets none for those, and its most powerful connector as its rated power."""
    missing = set(FIELDS) - row.given
    if not missing:
        return row
    kept: dict[str, Any] = {}
    for name in missing:
        kept[name] = None if stored is None else getattr(stored, name)
    if "access_mode" in missing:  # a required column, so only ever for a hand-made row
        kept["access_mode"] = "public" if stored is None else stored.access_mode
    if kept.get("rated_power_kw", row.rated_power_kw) is None:
        connectors = kept.get("connectors", row.connectors)
        kept["rated_power_kw"] = default_rated_power(connectors)
    return dataclasses.replace(row, **kept)


# --- JSON -----------------------------------------------------------------------------------


def as_json(row: RegistryRow) -> dict[str, Any]:
    """The record as the API shows it (decimals exact, as the station API spells them)."""
    return {
        "station_id": row.station_id,
        "county": row.county,
        "township": row.township,
        "village": row.village,
        "site_name": row.site_name,
        "site_category": row.site_category,
        "address": row.address,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "parking_spaces": row.parking_spaces,
        "connectors": [{"power_kw": c.power_kw, "current": c.current} for c in row.connectors],
        "commissioned_on": row.commissioned_on,
        "access_mode": row.access_mode,
        "owner_unit": row.owner_unit,
        "operator_id": row.operator_id,
        "rated_power_kw": row.rated_power_kw,
        "rated_voltage_max_v": row.rated_voltage_max_v,
        "rated_voltage_min_v": row.rated_voltage_min_v,
        "rated_current_a": row.rated_current_a,
    }


def merged(stored: RegistryRow, patch: Mapping[str, Any]) -> dict[str, Any]:
    """The stored record's facts with the fields a PATCH names replaced (None clears one)."""
    unknown = set(patch) - set(FIELDS)
    if unknown:
        raise RecordInvalid([RowError(0, name, "not a registry fact") for name in sorted(unknown)])
    facts = as_json(stored)
    del facts["station_id"]
    return {**facts, **patch}


def from_json(station_id: str, facts: Mapping[str, Any], counties: CountyOf) -> RegistryRow:
    """A station's record from JSON facts (types already checked by the API's schema), held to
    the CSV's rules: county of the plan, coordinates in China, owner unit of a non-public
    station, site facts with a site. RecordInvalid lists every problem."""
    problems: list[RowError] = []
    cells = {"station_id": station_id}
    for name in FIELDS:
        text = _cell(facts.get(name))
        if text is None:
            problems.append(RowError(0, name, "expected text, a number or a list of connectors"))
        else:
            cells[name] = text
    row, errors = parse_record(cells, counties)
    problems += errors
    if row is None or problems:
        raise RecordInvalid(problems)
    return row


def _cell(value: Any) -> str | None:
    """A JSON value as the CSV cell that says the same, or None when none can."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)  # reads back as the same float
    if isinstance(value, int | Decimal):
        return kw_text(Decimal(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        connectors = [_connector(item) for item in value]
        if any(c is None for c in connectors):
            return None
        return connectors_text(c for c in connectors if c is not None)
    return None


def _connector(item: Any) -> Connector | None:
    if not isinstance(item, Mapping):
        return None
    power, current = item.get("power_kw"), item.get("current")
    if isinstance(power, bool) or not isinstance(power, int | Decimal | float | str):
        return None
    if not isinstance(current, str):
        return None
    try:
        return Connector(Decimal(str(power)), current)
    except ArithmeticError:
        return None


# --- what changed ---------------------------------------------------------------------------


def changes(before: RegistryRow | None, after: RegistryRow) -> dict[str, dict[str, str | None]]:
    """Each fact that differs, {"from": ..., "to": ...} as CSV cells (None for empty): what
    the audit keeps of a change. A new station's facts all come from None."""
    old = {} if before is None else cells_of(before)
    new = cells_of(after)
    return {
        name: {"from": old.get(name) or None, "to": new[name] or None}
        for name in FIELDS
        if (old.get(name) or None) != (new[name] or None)
    }
