"""The station registry and the plan's reference places as rows: parse, validate, render CSV."""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final

from csms.domain.station import station_id_problem
from csms.errors import InvalidInput
from csms.monitoring.geo import in_china

# A county name as written (Chinese or English) -> the plan's Chinese name, or None if unknown.
CountyOf = Callable[[str], str | None]

COLUMNS: Final = (
    "station_id",
    "county",
    "township",
    "village",
    "site_name",
    "site_category",
    "address",
    "latitude",
    "longitude",
    "parking_spaces",
    "connectors",
    "commissioned_on",
    "access_mode",
    "owner_unit",
    "operator_id",
    "rated_power_kw",
)
# Optional columns: the pile's rated (nameplate) output limits, which T/CEC StationInfo reports
# per connector (VoltageUpperLimits, VoltageLowerLimits, Current). A file may leave them out;
# the export has them when a station does.
LIMIT_COLUMNS: Final = ("rated_voltage_max_v", "rated_voltage_min_v", "rated_current_a")
ALL_COLUMNS: Final = (*COLUMNS, *LIMIT_COLUMNS)
MAX_VOLTS: Final = 2000  # stations CHECK
MAX_AMPS: Final = 2000
# Columns every file has and cells that may not be empty. Any other column may be left out of
# the header: an existing station keeps what is stored for it, a new one has none.
REQUIRED: Final = frozenset(
    {"station_id", "county", "latitude", "longitude", "connectors", "access_mode"}
)
# A site's facts belong to the site a row names: these columns need the site_name column.
_NEEDS: Final = {
    "site_category": "site_name",
    "parking_spaces": "site_name",
    # the voltage range is checked whole: a file gives both ends or neither
    "rated_voltage_max_v": "rated_voltage_min_v",
    "rated_voltage_min_v": "rated_voltage_max_v",
}
SITE_CATEGORIES: Final = (
    "urban_public_parking",
    "commercial",
    "transport_hub",
    "residential_community",
    "government_enterprise_internal",
    "scenic_4a_plus",
    "scenic_a",
    "scenic_below_a",
    "tourist_road_post",
    "rv_camp",
    "trunk_road_parking",
    "highway_service_area",
    "bus_depot",
    "logistics_industrial_park",
    "other",
)
ACCESS_MODES: Final = ("public", "private", "shared")
CURRENTS: Final = ("AC", "DC")

PLACE_COLUMNS: Final = (
    "kind",
    "name",
    "county",
    "township",
    "latitude",
    "longitude",
    "small_car_spaces",
)
PLACE_REQUIRED: Final = frozenset({"kind", "name", "county", "latitude", "longitude"})
PLACE_KINDS: Final = (
    "township_seat",
    "village",
    "trunk_road_parking",
    "highway_service_area",
    "tourist_road_post",
    "rv_camp",
    "urban_core",
    "urban_outer",
)

MAX_ROWS: Final = 100_000
MAX_ERRORS: Final = 1000
MAX_CONNECTORS: Final = 64
MAX_CONNECTOR_KW: Final = Decimal(1000)  # station_equipment CHECK
MAX_RATED_KW: Final = Decimal(10000)
MAX_SPACES: Final = 1_000_000
# Days that date arithmetic and time zones can hold (as the API's, csms.api.bounds).
FIRST_DAY: Final = date(1900, 1, 1)
LAST_DAY: Final = date(9998, 12, 31)
# Lengths the schema (or the station API) allows.
_LENGTHS: Final = {
    "county": 64,
    "township": 100,
    "village": 100,
    "site_name": 200,
    "address": 500,
    "owner_unit": 200,
    "operator_id": 64,
    "name": 200,
}
_KW = re.compile(r"^\d{1,4}(?:\.\d{1,2})?$")
_CONNECTOR = re.compile(r"^(\d{1,4}(?:\.\d{1,2})?)\s*(?:kw)?\s*(ac|dc)$", re.IGNORECASE)
_CONNECTOR_SEPARATOR = re.compile(r"[;；]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COUNT = re.compile(r"^\d{1,9}$")


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell (or row, when `column` is empty) of an input file, by physical line."""

    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = f"line {self.line}, {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.message}"


class RowsInvalid(InvalidInput):
    """Rows of an import were refused; nothing of the import was stored."""

    def __init__(self, problems: Sequence[RowError]) -> None:
        self.rows = tuple(problems)
        summary = f"{counted(len(self.rows), 'problem')} in the input; nothing was stored"
        # the API puts this in the problem body's detail; the CLI prints the message
        self.detail: dict[str, Any] = {
            "message": summary,
            "rows": [e.as_dict() for e in self.rows],
        }
        super().__init__("\n  ".join([summary, *(str(e) for e in self.rows)]))


@dataclass(frozen=True, slots=True)
class Connector:
    """A connector as registered: its power and whether it charges AC or DC."""

    power_kw: Decimal
    current: str  # "AC" | "DC"

    def __str__(self) -> str:
        return f"{kw_text(self.power_kw)}{self.current}"


@dataclass(frozen=True, slots=True)
class RegistryRow:
    """A station's registry record. Parsed rows always have county and coordinates; rows read
    back from the database may lack them (stations registered by connecting)."""

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
    connectors: tuple[Connector, ...]
    commissioned_on: date | None
    access_mode: str
    owner_unit: str | None
    operator_id: str | None
    rated_power_kw: Decimal | None
    rated_voltage_max_v: int | None = None
    rated_voltage_min_v: int | None = None
    rated_current_a: int | None = None
    line: int = 0
    # the columns the row was read from; the others are to be kept as stored (a row made by
    # hand reads as a file of the standard columns). Where a row came from is no fact of it:
    # rows with the same facts are equal.
    given: frozenset[str] = field(default=frozenset(COLUMNS), compare=False)


@dataclass(frozen=True, slots=True)
class Place:
    """A place the plan counts (township seat, village, service area, ...), in WGS-84."""

    kind: str
    name: str
    county: str
    township: str | None
    latitude: float
    longitude: float
    small_car_spaces: int | None
    line: int = 0


# --- text -----------------------------------------------------------------------------------


EXCEL_BOM: Final = "\ufeff"
_SAVE_AS = "save the file as CSV UTF-8 (逗号分隔) or CSV (逗号分隔)"


def decode(data: bytes) -> str:
    """The text of an uploaded file: UTF-8 (a byte-order mark is dropped), else GB18030.

    Excel and WPS on Chinese Windows save "CSV (逗号分隔)" in the ANSI code page, GBK, which
    GB18030 contains. UTF-8 is tried first: GBK text is almost never valid UTF-8, while UTF-8
    text often decodes as (garbled) GB18030. UTF-16 ("Unicode text") is tab-separated, not CSV,
    and is refused with what to do instead. RowsInvalid when it is none of these."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RowsInvalid(
            [RowError(1, "", f"UTF-16 text (Unicode text, tab-separated): {_SAVE_AS}")]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RowsInvalid(
            [RowError(line, "", f"neither UTF-8 nor GBK/GB18030 text: {_SAVE_AS}")]
        ) from None


def counted(number: int, noun: str) -> str:
    """'1 station', '2 stations': messages officials read should not say 'station(s)'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def kw_text(value: Decimal) -> str:
    """Power without trailing zeros or exponent: 60.00 -> '60', 7.50 -> '7.5'."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def connectors_text(connectors: Iterable[Connector]) -> str:
    return ";".join(str(c) for c in connectors)


def _number_text(value: float) -> str:
    return repr(value)  # shortest text that reads back as the same float


# --- parsing --------------------------------------------------------------------------------


class _Cells:
    """The cells of one row by column, collecting the problems found while reading them."""

    def __init__(self, line: int, cells: Mapping[str, str], errors: list[RowError]) -> None:
        self.line = line
        self._cells = cells
        self._errors = errors
        self.bad: set[str] = set()
        self.given = frozenset(cells)

    def fail(self, column: str, message: str) -> None:
        self.bad.add(column)
        self._errors.append(RowError(self.line, column, message))

    def raw(self, column: str) -> str:
        return self._cells.get(column, "").strip()

    def text(self, column: str, *, required: bool = False) -> str | None:
        value = self.raw(column)
        if not value:
            if required:
                self.fail(column, "required")
            return None
        limit = _LENGTHS.get(column)
        if limit is not None and len(value) > limit:
            self.fail(column, f"longer than {limit} characters")
            return None
        if not value.isprintable():
            self.fail(column, "contains control characters")
            return None
        return value

    def choice(self, column: str, choices: Sequence[str], *, required: bool = False) -> str | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        if value.lower() not in choices:
            self.fail(column, f"{value!r} is not one of {', '.join(choices)}")
            return None
        return value.lower()

    def coordinate(self, column: str) -> float | None:
        value = self.text(column, required=True)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            self.fail(column, f"{value!r} is not a number (decimal degrees, WGS-84)")
            return None
        if not math.isfinite(number):
            self.fail(column, f"{value!r} is not a finite number")
            return None
        return number

    def count(self, column: str) -> int | None:
        value = self.text(column)
        if value is None:
            return None
        if not _COUNT.fullmatch(value) or int(value) > MAX_SPACES:
            self.fail(column, f"{value!r} is not a whole number from 0 to {MAX_SPACES}")
            return None
        return int(value)

    def county(self, counties: CountyOf) -> str | None:
        value = self.text("county", required=True)
        if value is None:
            return None
        canonical = counties(value)
        if canonical is None:
            self.fail("county", f"unknown county {value!r}: not one of the plan's counties")
        return canonical

    def coordinates(self) -> tuple[float | None, float | None]:
        lat, lon = self.coordinate("latitude"), self.coordinate("longitude")
        if lat is None or lon is None:
            return lat, lon
        if not in_china(lat, lon):
            hint = " (latitude and longitude swapped?)" if in_china(lon, lat) else ""
            self.fail("latitude", f"{lat}, {lon} is outside China (WGS-84){hint}")
            return None, None
        return lat, lon


def _connectors(cells: _Cells) -> tuple[Connector, ...]:
    value = cells.text("connectors", required=True)
    if value is None:
        return ()
    found: list[Connector] = []
    for part in _CONNECTOR_SEPARATOR.split(value):
        match = _CONNECTOR.fullmatch(part.strip())
        power = Decimal(match[1]) if match else Decimal(0)
        if match is None or not Decimal(0) < power <= MAX_CONNECTOR_KW:
            cells.fail(
                "connectors",
                f"{part.strip()!r} is not a connector: power in kW (up to {MAX_CONNECTOR_KW}) "
                "then AC or DC, ';' between connectors, e.g. '60DC;60DC' or '7AC'",
            )
            return ()
        found.append(Connector(power, match[2].upper()))
    if len(found) > MAX_CONNECTORS:
        cells.fail("connectors", f"more than {MAX_CONNECTORS} connectors")
        return ()
    return tuple(found)


def default_rated_power(connectors: Iterable[Connector]) -> Decimal | None:
    """A station's rated power when none is given: its most powerful connector."""
    return max((c.power_kw for c in connectors), default=None)


def _rated_power(cells: _Cells, connectors: tuple[Connector, ...]) -> Decimal | None:
    if "rated_power_kw" not in cells.given:
        return None  # kept as stored; a new station gets the default (registry_record.complete)
    value = cells.text("rated_power_kw")
    if value is None:
        return default_rated_power(connectors)
    power = Decimal(value) if _KW.fullmatch(value) else Decimal(0)
    if not Decimal(0) < power <= MAX_RATED_KW:
        cells.fail("rated_power_kw", f"{value!r} is not a power in kW (0.01 to {MAX_RATED_KW})")
        return None
    return power


def _date(cells: _Cells, column: str) -> date | None:
    value = cells.text(column)
    if value is None:
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        cells.fail(column, f"{value!r} is not a date (YYYY-MM-DD)")
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        cells.fail(column, f"{value} is not between {FIRST_DAY} and {LAST_DAY}")
        return None
    return day


def _whole(cells: _Cells, column: str, low: int, high: int) -> int | None:
    value = cells.text(column)
    if value is None:
        return None
    if not _COUNT.fullmatch(value) or not low <= int(value) <= high:
        cells.fail(column, f"{value!r} is not a whole number from {low} to {high}")
        return None
    return int(value)


def _limits(cells: _Cells) -> tuple[int | None, int | None, int | None]:
    """The pile's rated voltage range (V) and current (A), as on its nameplate."""
    high = _whole(cells, "rated_voltage_max_v", 1, MAX_VOLTS)
    low = _whole(cells, "rated_voltage_min_v", 0, MAX_VOLTS)
    if high is not None and low is not None and low > high:
        cells.fail("rated_voltage_min_v", f"{low} V is above rated_voltage_max_v ({high} V)")
        low = None
    return high, low, _whole(cells, "rated_current_a", 1, MAX_AMPS)


def _station(cells: _Cells, counties: CountyOf) -> RegistryRow | None:
    station_id = cells.text("station_id", required=True)
    if station_id is not None:
        problem = station_id_problem(station_id)
        if problem:
            cells.fail("station_id", problem)
    county = cells.county(counties)
    site_name = cells.text("site_name")
    category = cells.choice("site_category", SITE_CATEGORIES)
    parking = cells.count("parking_spaces")
    for column, given in (("site_category", category), ("parking_spaces", parking)):
        if given is not None and site_name is None:
            cells.fail(column, "a site's facts need its site_name")
    latitude, longitude = cells.coordinates()
    connectors = _connectors(cells)
    access_mode = cells.choice("access_mode", ACCESS_MODES, required=True)
    owner_unit = cells.text("owner_unit")
    # without the column the stored owner counts: the store checks it (import_rows)
    if access_mode in ("private", "shared") and owner_unit is None and "owner_unit" in cells.given:
        cells.fail("owner_unit", f"a {access_mode} station needs its owner unit")
    voltage_max, voltage_min, current = _limits(cells)
    row = RegistryRow(
        station_id=station_id or "",
        county=county,
        township=cells.text("township"),
        village=cells.text("village"),
        site_name=site_name,
        site_category=category,
        address=cells.text("address"),
        latitude=latitude,
        longitude=longitude,
        parking_spaces=parking,
        connectors=connectors,
        commissioned_on=_date(cells, "commissioned_on"),
        access_mode=access_mode or "public",
        owner_unit=owner_unit,
        operator_id=cells.text("operator_id"),
        rated_power_kw=_rated_power(cells, connectors),
        rated_voltage_max_v=voltage_max,
        rated_voltage_min_v=voltage_min,
        rated_current_a=current,
        line=cells.line,
        given=cells.given,
    )
    return None if cells.bad else row


def parse_record(
    cells: Mapping[str, str], counties: CountyOf
) -> tuple[RegistryRow | None, list[RowError]]:
    """One station's record from cells by column (every column, as text): the row, or None
    and every problem (line 0). The API reads its JSON records through this, so a record
    is held to exactly the rules of a CSV row."""
    errors: list[RowError] = []
    row = _station(_Cells(0, {c: cells.get(c, "") for c in ALL_COLUMNS}, errors), counties)
    return row, errors


def _records(
    text: str,
    columns: Sequence[str],
    required_columns: Iterable[str],
    errors: list[RowError],
    needs: Mapping[str, str] | None = None,
) -> Iterable[tuple[int, dict[str, str]]]:
    """(line, cells by column) of every non-blank data row; header problems end the file."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    end = 0
    header: list[str] | None = None
    try:
        for record in reader:
            line, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [name.strip().lower() for name in record]
                if _header_problems(line, header, columns, required_columns, needs or {}, errors):
                    return
                continue
            if line > MAX_ROWS + 1:
                errors.append(RowError(line, "", f"more than {MAX_ROWS} rows; split the file"))
                return
            if len(record) != len(header):
                errors.append(
                    RowError(line, "", f"{len(record)} fields; the header has {len(header)}")
                )
                continue
            yield line, dict(zip(header, record, strict=True))
    except csv.Error as exc:
        errors.append(RowError(end + 1, "", f"not CSV: {exc}"))
        return
    if header is None:
        errors.append(RowError(1, "", "the file is empty: a header row naming the columns"))


def _header_problems(
    line: int,
    header: list[str],
    columns: Sequence[str],
    required_columns: Iterable[str],
    needs: Mapping[str, str],
    errors: list[RowError],
) -> bool:
    before = len(errors)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(RowError(line, name, "the column appears twice"))
        elif name not in columns:
            errors.append(
                RowError(line, name, f"unknown column; the columns are {', '.join(columns)}")
            )
        seen.add(name)
    for name in columns:  # in the columns' order: the same list every time
        if name in required_columns and name not in seen:
            errors.append(RowError(line, name, "missing column"))
    for name, needed in needs.items():
        if name in seen and needed not in seen:
            errors.append(RowError(line, name, f"this column needs the {needed} column"))
    return len(errors) > before


def _capped(errors: list[RowError]) -> list[RowError]:
    if len(errors) <= MAX_ERRORS:
        return errors
    rest = errors[MAX_ERRORS]
    more = len(errors) - MAX_ERRORS
    return [
        *errors[:MAX_ERRORS],
        RowError(rest.line, "", f"{counted(more, 'more problem')} not listed"),
    ]


def parse(text: str, counties: CountyOf) -> tuple[list[RegistryRow], list[RowError]]:
    """The registry rows of a CSV file and every problem found (rows are usable only when there
    is none). Counties are normalised to the plan's Chinese names."""
    errors: list[RowError] = []
    rows: list[RegistryRow] = []
    first_line: dict[str, int] = {}
    sites: dict[str, RegistryRow] = {}
    for line, record in _records(text, ALL_COLUMNS, REQUIRED, errors, _NEEDS):
        cells = _Cells(line, record, errors)
        row = _station(cells, counties)
        station_id = cells.raw("station_id")
        if station_id in first_line:
            cells.fail(
                "station_id", f"station {station_id} is also on line {first_line[station_id]}"
            )
        elif station_id:
            first_line[station_id] = line
        if row is None or cells.bad:
            continue
        if row.site_name is not None:
            first = sites.setdefault(row.site_name, row)
            if not _site_agrees(cells, first, row):
                continue
        rows.append(row)
    return rows, _capped(errors)


def _site_agrees(cells: _Cells, first: RegistryRow, row: RegistryRow) -> bool:
    """The rows of one site must give it the same category and parking spaces."""
    agrees = True
    for column, mine, theirs in (
        ("site_category", row.site_category, first.site_category),
        ("parking_spaces", row.parking_spaces, first.parking_spaces),
    ):
        if mine != theirs:
            shown = "empty" if theirs is None else repr(theirs)
            cells.fail(column, f"site {row.site_name!r} has {column} {shown} on line {first.line}")
            agrees = False
    return agrees


def cells_of(row: RegistryRow) -> dict[str, str]:
    """The row's cells by column as the CSV writes them (empty for none)."""
    return {
        "station_id": row.station_id,
        "county": row.county or "",
        "township": row.township or "",
        "village": row.village or "",
        "site_name": row.site_name or "",
        "site_category": row.site_category or "",
        "address": row.address or "",
        "latitude": "" if row.latitude is None else _number_text(row.latitude),
        "longitude": "" if row.longitude is None else _number_text(row.longitude),
        "parking_spaces": "" if row.parking_spaces is None else str(row.parking_spaces),
        "connectors": connectors_text(row.connectors),
        "commissioned_on": "" if row.commissioned_on is None else row.commissioned_on.isoformat(),
        "access_mode": row.access_mode,
        "owner_unit": row.owner_unit or "",
        "operator_id": row.operator_id or "",
        "rated_power_kw": "" if row.rated_power_kw is None else kw_text(row.rated_power_kw),
        **{c: "" if getattr(row, c) is None else str(getattr(row, c)) for c in LIMIT_COLUMNS},
    }


def render(rows: Iterable[RegistryRow]) -> str:
    """The rows as registry CSV (header first, by station id); `parse` reads it back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    ordered = sorted(rows, key=lambda r: r.station_id)
    limits = any(getattr(r, c) is not None for r in ordered for c in LIMIT_COLUMNS)
    columns = ALL_COLUMNS if limits else COLUMNS  # the optional ones when a station has them
    writer.writerow(columns)
    for row in ordered:
        cells = cells_of(row)
        writer.writerow([cells[c] for c in columns])
    return out.getvalue()


def render_for_excel(rows: Iterable[RegistryRow]) -> bytes:
    """The registry CSV as UTF-8 with a byte-order mark: without one, Excel on Chinese Windows
    reads a CSV file as GBK and shows its Chinese as mojibake. `decode` drops the mark."""
    return (EXCEL_BOM + render(rows)).encode("utf-8")


# --- places ---------------------------------------------------------------------------------


def _place(cells: _Cells, counties: CountyOf) -> Place | None:
    kind = cells.choice("kind", PLACE_KINDS, required=True)
    name = cells.text("name", required=True)
    county = cells.county(counties)
    township = cells.text("township")
    latitude, longitude = cells.coordinates()
    spaces = cells.count("small_car_spaces")
    if cells.bad or kind is None or name is None or county is None:
        return None
    if latitude is None or longitude is None:
        return None
    return Place(kind, name, county, township, latitude, longitude, spaces, cells.line)


def _places(
    records: Iterable[tuple[int, Mapping[str, str]]], counties: CountyOf, errors: list[RowError]
) -> list[Place]:
    places: list[Place] = []
    first_line: dict[tuple[str, str, str], int] = {}
    for line, record in records:
        cells = _Cells(line, record, errors)
        place = _place(cells, counties)
        if place is None:
            continue
        key = (place.kind, place.county, place.name)
        if key in first_line:
            cells.fail("name", f"{place.kind} {place.name!r} is also on line {first_line[key]}")
            continue
        first_line[key] = line
        places.append(place)
    return places


def parse_places(text: str, counties: CountyOf) -> tuple[list[Place], list[RowError]]:
    """Places from CSV: a header naming kind, name, county, latitude, longitude and optionally
    township and small_car_spaces."""
    errors: list[RowError] = []
    places = _places(_records(text, PLACE_COLUMNS, PLACE_REQUIRED, errors), counties, errors)
    return places, _capped(errors)


def parse_place_items(items: object, counties: CountyOf) -> tuple[list[Place], list[RowError]]:
    """Places from a JSON list of objects with the CSV's columns as keys; `line` is the item's
    position in the list (from 1)."""
    errors: list[RowError] = []
    if not isinstance(items, list):
        return [], [RowError(1, "", "expected a JSON list of places")]
    if len(items) > MAX_ROWS:
        return [], [RowError(MAX_ROWS + 1, "", f"more than {MAX_ROWS} places; split the list")]
    records: list[tuple[int, Mapping[str, str]]] = []
    for number, item in enumerate(items, start=1):
        cells = _json_cells(number, item, errors)
        if cells is not None:
            records.append((number, cells))
    places = _places(records, counties, errors)
    return places, _capped(errors)


def _json_cells(number: int, item: object, errors: list[RowError]) -> dict[str, str] | None:
    if not isinstance(item, dict):
        errors.append(RowError(number, "", "a place is a JSON object"))
        return None
    cells: dict[str, str] = {}
    for key, value in item.items():
        if key not in PLACE_COLUMNS:
            errors.append(RowError(number, str(key), "unknown field"))
        elif isinstance(value, bool) or not isinstance(value, str | int | float | None):
            errors.append(RowError(number, key, "expected text or a number"))
        else:
            cells[key] = "" if value is None else str(value)
    return cells if len(cells) == len(item) else None
