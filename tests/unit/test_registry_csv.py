"""Registry and places CSV: every kind of bad cell is named by line and column; rows round-trip."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from csms.monitoring import registry_csv
from csms.monitoring.registry_csv import (
    COLUMNS,
    Connector,
    RegistryRow,
    RowError,
    RowsInvalid,
    decode,
    parse,
    parse_place_items,
    parse_places,
    render,
    render_for_excel,
)

COUNTIES = {
    "朔城区": "朔城区",
    "shuocheng district": "朔城区",
    "应县": "应县",
    "ying county": "应县",
}


def county_of(name: str) -> str | None:
    return COUNTIES.get(name.casefold())


HEADER = ",".join(COLUMNS)
GOOD = {
    "station_id": "SZ-1",
    "county": "朔城区",
    "township": "北旺庄街道",
    "village": "",
    "site_name": "开发区公交场站",
    "site_category": "bus_depot",
    "address": "开发区 1 号",
    "latitude": "39.331",
    "longitude": "112.432",
    "parking_spaces": "40",
    "connectors": "60DC;60DC",
    "commissioned_on": "2024-09-01",
    "access_mode": "public",
    "owner_unit": "",
    "operator_id": "sz-bus",
    "rated_power_kw": "120",
}


def line(**changes: str) -> str:
    cells = {**GOOD, **changes}
    return ",".join(_quoted(cells[c]) for c in COLUMNS)


def _quoted(cell: str) -> str:
    if any(c in cell for c in ',"\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def csv_of(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def one_error(text: str) -> RowError:
    rows, errors = parse(text, county_of)
    assert len(errors) == 1, (errors, rows)
    return errors[0]


def test_a_good_row() -> None:
    rows, errors = parse(csv_of(line()), county_of)
    assert errors == []
    assert rows == [
        RegistryRow(
            station_id="SZ-1",
            county="朔城区",
            township="北旺庄街道",
            village=None,
            site_name="开发区公交场站",
            site_category="bus_depot",
            address="开发区 1 号",
            latitude=39.331,
            longitude=112.432,
            parking_spaces=40,
            connectors=(Connector(Decimal(60), "DC"), Connector(Decimal(60), "DC")),
            commissioned_on=date(2024, 9, 1),
            access_mode="public",
            owner_unit=None,
            operator_id="sz-bus",
            rated_power_kw=Decimal(120),
            line=2,
        )
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # English county names become the plan's Chinese ones
        ({"county": "Ying County"}, {"county": "应县"}),
        ({"county": " shuocheng district "}, {"county": "朔城区"}),
        # connectors: spaces, kW, case, decimals, full-width separator
        (
            {"connectors": "7 kW ac；11.5dc"},
            {"connectors": (Connector(Decimal(7), "AC"), Connector(Decimal("11.5"), "DC"))},
        ),
        # rated power defaults to the most powerful connector
        ({"connectors": "7AC;30DC", "rated_power_kw": ""}, {"rated_power_kw": Decimal(30)}),
        ({"access_mode": "Shared", "owner_unit": "szs-gov"}, {"access_mode": "shared"}),
        ({"site_category": "Scenic_4A_Plus"}, {"site_category": "scenic_4a_plus"}),
        (
            {"site_name": "", "site_category": "", "parking_spaces": ""},
            {"site_name": None, "site_category": None, "parking_spaces": None},
        ),
        ({"commissioned_on": ""}, {"commissioned_on": None}),
        ({"latitude": "54", "longitude": "73"}, {"latitude": 54.0, "longitude": 73.0}),
    ],
)
def test_accepted_variants(changes: dict[str, str], expected: dict[str, object]) -> None:
    rows, errors = parse(csv_of(line(**changes)), county_of)
    assert errors == []
    for name, value in expected.items():
        assert getattr(rows[0], name) == value, name


BAD_CELLS = [
    ({"station_id": ""}, "station_id", "required"),
    ({"station_id": "A:B"}, "station_id", "':'"),
    ({"station_id": "X" * 49}, "station_id", "longer than 48"),
    ({"county": ""}, "county", "required"),
    ({"county": "Datong"}, "county", "unknown county 'Datong'"),
    ({"latitude": ""}, "latitude", "required"),
    ({"latitude": "north"}, "latitude", "not a number"),
    ({"longitude": "nan"}, "longitude", "not a finite number"),
    ({"latitude": "51.5", "longitude": "-0.12"}, "latitude", "outside China"),
    ({"latitude": "2.9"}, "latitude", "outside China"),
    ({"latitude": "112.43", "longitude": "39.33"}, "latitude", "swapped"),
    ({"site_category": "parking"}, "site_category", "is not one of"),
    ({"site_name": "", "site_category": "", "parking_spaces": "3"}, "parking_spaces", "site_name"),
    ({"site_name": "", "parking_spaces": ""}, "site_category", "site_name"),
    ({"parking_spaces": "-1"}, "parking_spaces", "whole number"),
    ({"parking_spaces": "1.5"}, "parking_spaces", "whole number"),
    ({"connectors": ""}, "connectors", "required"),
    ({"connectors": "60"}, "connectors", "AC or DC"),
    ({"connectors": "60DC;"}, "connectors", "is not a connector"),
    ({"connectors": "DC60"}, "connectors", "is not a connector"),
    ({"connectors": "0AC"}, "connectors", "is not a connector"),
    ({"connectors": "1001DC"}, "connectors", "is not a connector"),
    ({"connectors": "60HV"}, "connectors", "is not a connector"),
    ({"connectors": ";".join(["7AC"] * 65)}, "connectors", "more than 64"),
    ({"commissioned_on": "2024-02-30"}, "commissioned_on", "not a date"),
    ({"commissioned_on": "20240901"}, "commissioned_on", "YYYY-MM-DD"),
    ({"commissioned_on": "01/09/2024"}, "commissioned_on", "not a date"),
    ({"commissioned_on": "0001-01-01"}, "commissioned_on", "not between 1900-01-01 and 9998"),
    ({"commissioned_on": "9999-12-31"}, "commissioned_on", "not between 1900-01-01 and 9998"),
    ({"access_mode": ""}, "access_mode", "required"),
    ({"access_mode": "yes"}, "access_mode", "is not one of public, private, shared"),
    ({"access_mode": "private"}, "owner_unit", "needs its owner unit"),
    ({"rated_power_kw": "0"}, "rated_power_kw", "not a power"),
    ({"rated_power_kw": "12.345"}, "rated_power_kw", "not a power"),
    ({"rated_power_kw": "lots"}, "rated_power_kw", "not a power"),
    ({"township": "镇" * 101}, "township", "longer than 100"),
    ({"address": "a\tb"}, "address", "control characters"),
]


@pytest.mark.parametrize(("changes", "column", "message"), BAD_CELLS)
def test_each_bad_cell_is_named(changes: dict[str, str], column: str, message: str) -> None:
    rows, errors = parse(csv_of(line(station_id="OK-1"), line(**changes)), county_of)
    assert [(e.line, e.column) for e in errors] == [(3, column)], errors
    assert message in errors[0].message
    assert [r.station_id for r in rows] == ["OK-1"]  # the good row is read; the caller stores none


def test_every_bad_cell_of_a_row_is_listed() -> None:
    _, errors = parse(csv_of(line(county="Nowhere", latitude="x", connectors="fast")), county_of)
    assert [(e.line, e.column) for e in errors] == [
        (2, "county"),
        (2, "latitude"),
        (2, "connectors"),
    ]


def test_duplicate_station_ids() -> None:
    text = csv_of(line(), line(station_id="SZ-2"), line())
    rows, errors = parse(text, county_of)
    assert errors == [RowError(4, "station_id", "station SZ-1 is also on line 2")]
    assert [r.station_id for r in rows] == ["SZ-1", "SZ-2"]


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"site_category": "commercial"}, "site_category"),
        ({"parking_spaces": "41"}, "parking_spaces"),
        ({"parking_spaces": ""}, "parking_spaces"),
    ],
)
def test_rows_of_one_site_must_agree(changes: dict[str, str], column: str) -> None:
    text = csv_of(line(), line(station_id="SZ-2", **changes))
    _, errors = parse(text, county_of)
    assert [(e.line, e.column) for e in errors] == [(3, column)]
    assert "on line 2" in errors[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", RowError(1, "", "the file is empty: a header row naming the columns")),
        ("\n\n", RowError(1, "", "the file is empty: a header row naming the columns")),
        (
            csv_of(header=HEADER.replace(",connectors", "")),
            RowError(1, "connectors", "missing column"),
        ),
        (
            csv_of(header=HEADER.replace(",site_name", "").replace(",parking_spaces", "")),
            RowError(1, "site_category", "this column needs the site_name column"),
        ),
        (csv_of(header=HEADER + ",colour"), None),
        (csv_of(header=HEADER + ",county"), RowError(1, "county", "the column appears twice")),
        (csv_of(line() + ",extra"), RowError(2, "", "17 fields; the header has 16")),
        (csv_of(line(), "SZ-9,朔城区"), RowError(3, "", "2 fields; the header has 16")),
        (csv_of('"SZ-1,' + line()[5:]), None),  # an unterminated quote
    ],
)
def test_file_level_problems(text: str, expected: RowError | None) -> None:
    error = one_error(text)
    if expected is not None:
        assert error == expected
    else:
        assert error.line in (1, 2) and error.message


def test_missing_columns_are_each_listed() -> None:
    _, errors = parse("station_id,county\nSZ-1,朔城区\n", county_of)
    assert [e.column for e in errors] == ["latitude", "longitude", "connectors", "access_mode"]
    assert all(e.line == 1 and e.message == "missing column" for e in errors)


MINIMAL = "station_id,county,latitude,longitude,connectors,access_mode"


@pytest.mark.parametrize(
    ("header", "cells", "expected"),
    [
        # only the required columns: every other fact is None, to be kept as stored
        (
            MINIMAL,
            "SZ-1,朔城区,39.3,112.4,60DC;7AC,public",
            {"township": None, "site_name": None, "rated_power_kw": None, "owner_unit": None},
        ),
        # an empty rated_power_kw cell is the most powerful connector; a missing column is not
        (
            MINIMAL + ",rated_power_kw",
            "SZ-1,朔城区,39.3,112.4,60DC;7AC,public,",
            {"rated_power_kw": Decimal(60)},
        ),
        # a private station without the owner_unit column: the store checks the stored owner
        (
            MINIMAL,
            "SZ-1,朔城区,39.3,112.4,7AC,private",
            {"access_mode": "private", "owner_unit": None},
        ),
        (
            MINIMAL + ",site_name,parking_spaces",
            "SZ-1,朔城区,39.3,112.4,7AC,public,站,12",
            {"site_name": "站", "parking_spaces": 12, "site_category": None},
        ),
    ],
)
def test_optional_columns_may_be_left_out(
    header: str, cells: str, expected: dict[str, object]
) -> None:
    rows, errors = parse(f"{header}\n{cells}\n", county_of)
    assert errors == []
    assert rows[0].given == frozenset(header.split(","))
    for name, value in expected.items():
        assert getattr(rows[0], name) == value, name


def test_a_private_station_with_the_owner_column_needs_an_owner() -> None:
    _, errors = parse(f"{MINIMAL},owner_unit\nSZ-1,朔城区,39.3,112.4,7AC,private,\n", county_of)
    assert errors == [RowError(2, "owner_unit", "a private station needs its owner unit")]


def test_header_order_case_bom_blank_lines_and_crlf() -> None:
    columns = list(reversed(COLUMNS))
    cells = [GOOD[c] for c in columns]
    text = "\ufeff" + ",".join(c.upper() for c in columns) + "\r\n\r\n" + ",".join(cells) + "\r\n"
    rows, errors = parse(text, county_of)
    assert errors == [] and rows[0].station_id == "SZ-1" and rows[0].line == 3


def test_line_numbers_follow_quoted_newlines() -> None:
    text = csv_of(line(address="two\nlines"), line(station_id="SZ-2", county="Atlantis"))
    _, errors = parse(text, county_of)
    assert errors == [
        RowError(2, "address", "contains control characters"),
        RowError(4, "county", "unknown county 'Atlantis': not one of the plan's counties"),
    ]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"station_id\n\xe6\x9c\x94\xe5\x9f\x8e\xe5\x8c\xba", "station_id\n朔城区"),  # UTF-8
        (b"\xef\xbb\xbfstation_id", "station_id"),  # UTF-8 with a byte-order mark
        # what Excel on Chinese Windows saves: GBK, 朔 = CB B7, 城 = B3 C7, 区 = C7 F8
        (b"station_id\n\xcb\xb7\xb3\xc7\xc7\xf8", "station_id\n朔城区"),
        # GB18030 beyond GBK: a rare character of a village name (U+20000), four bytes
        (b"\x95\x32\x82\x36\xb4\xe5", "\U00020000村"),
        (b"station_id", "station_id"),  # ASCII is both
    ],
)
def test_decode_reads_utf8_and_gbk(data: bytes, text: str) -> None:
    assert decode(data) == text


SAVE_AS = "save the file as CSV UTF-8 (逗号分隔) or CSV (逗号分隔)"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # FF is no lead byte in GB18030 (nor valid UTF-8): on the file's third line
        (b"a\nb\n\xff\n", RowError(3, "", f"neither UTF-8 nor GBK/GB18030 text: {SAVE_AS}")),
        # Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated
        (
            "station_id\tcounty".encode("utf-16"),
            RowError(1, "", f"UTF-16 text (Unicode text, tab-separated): {SAVE_AS}"),
        ),
    ],
)
def test_decode_refusals(data: bytes, expected: RowError) -> None:
    with pytest.raises(RowsInvalid) as refused:
        decode(data)
    assert refused.value.rows == (expected,)
    assert refused.value.detail["rows"] == [expected.as_dict()]
    assert refused.value.detail["message"] == "1 problem in the input; nothing was stored"


def test_a_gbk_file_parses_like_its_utf8_twin() -> None:
    text = csv_of(line(), line(station_id="YX-1", county="应县", address="金城镇 西关村"))
    assert parse(decode(text.encode("gbk")), county_of) == parse(text, county_of)


def test_errors_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_csv, "MAX_ERRORS", 3)
    text = csv_of(*(line(station_id=f"S-{i}", county="Mars") for i in range(5)))
    _, errors = parse(text, county_of)
    assert len(errors) == 4 and errors[-1] == RowError(5, "", "2 more problems not listed")


# --- round trip -----------------------------------------------------------------------------


def test_render_round_trips() -> None:
    text = csv_of(
        line(station_id="SZ-3", latitude="39.3", longitude="112.43000001"),
        line(),
        line(
            station_id="YX-1",
            county="Ying County",
            township="",
            site_name="木塔景区",
            site_category="scenic_4a_plus",
            address='木塔 "东" 门, 停车场',
            latitude="39.565",
            longitude="113.18",
            parking_spaces="",
            connectors="7AC",
            commissioned_on="",
            access_mode="shared",
            owner_unit="yx-gov",
            operator_id="",
            rated_power_kw="7.5",
        ),
    )
    rows, errors = parse(text, county_of)
    assert errors == []
    rendered = render(rows)
    assert rendered.splitlines()[0] == HEADER
    assert [r.station_id for r in parse(rendered, county_of)[0]] == ["SZ-1", "SZ-3", "YX-1"]
    again, errors = parse(rendered, county_of)
    assert errors == []
    strip = {r.station_id: r.__class__(**{**_fields(r), "line": 0}) for r in rows}
    assert {r.station_id: r.__class__(**{**_fields(r), "line": 0}) for r in again} == strip
    assert render(again) == rendered
    assert "YX-1,应县," in rendered and ",7AC," in rendered and ",7.5\r\n" in rendered
    assert '"木塔 ""东"" 门, 停车场"' in rendered


def _fields(row: RegistryRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in RegistryRow.__dataclass_fields__}


def test_render_for_excel_starts_with_a_byte_order_mark() -> None:
    rows, _ = parse(csv_of(line()), county_of)
    data = render_for_excel(rows)
    assert data[:3] == b"\xef\xbb\xbf"  # U+FEFF in UTF-8: Excel then reads UTF-8
    assert data[3:] == render(rows).encode("utf-8")
    assert parse(decode(data), county_of) == (rows, [])


def test_render_of_stations_without_registry_facts() -> None:
    bare = RegistryRow(
        "CP-9", None, None, None, None, None, None, None, None, None, (), None, "public",
        None, None, None,
    )  # fmt: skip
    assert render([bare]).splitlines()[1] == "CP-9,,,,,,,,,,,,public,,,"


# --- places ---------------------------------------------------------------------------------

PLACES_HEADER = "kind,name,county,township,latitude,longitude,small_car_spaces"


def test_places_from_csv_and_json() -> None:
    text = "\n".join(
        [
            PLACES_HEADER,
            "highway_service_area,朔州服务区,朔城区,,39.30,112.40,120",
            "village,东村,Ying County,南河种镇,39.5,113.1,",
        ]
    )
    places, errors = parse_places(text, county_of)
    assert errors == []
    assert [(p.kind, p.name, p.county, p.township, p.small_car_spaces) for p in places] == [
        ("highway_service_area", "朔州服务区", "朔城区", None, 120),
        ("village", "东村", "应县", "南河种镇", None),
    ]
    items = [
        {"kind": "rv_camp", "name": "营地", "county": "应县", "latitude": 39.9, "longitude": 112.4},
        {"kind": "township_seat", "name": "A", "county": "朔城区", "township": None,
         "latitude": "39.1", "longitude": "112.1", "small_car_spaces": 0},
    ]  # fmt: skip
    places, errors = parse_place_items(items, county_of)
    assert errors == [] and [p.line for p in places] == [1, 2]
    assert places[0].latitude == 39.9 and places[1].small_car_spaces == 0


def test_places_optional_columns_may_be_left_out() -> None:
    places, errors = parse_places(
        "kind,name,county,latitude,longitude\nvillage,V,应县,39,113\n", county_of
    )
    assert errors == [] and places[0].township is None


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("castle,X,朔城区,,39.3,112.4,", "kind", "is not one of"),
        ("village,,朔城区,,39.3,112.4,", "name", "required"),
        ("village,X,Gotham,,39.3,112.4,", "county", "unknown county"),
        ("village,X,朔城区,,40.7,-74.0,", "latitude", "outside China"),
        ("village,X,朔城区,,39.3,,", "longitude", "required"),
        ("village,X,朔城区,,39.3,112.4,-5", "small_car_spaces", "whole number"),
        ("village,A,朔城区,,39.3,112.4,", "name", "also on line 2"),
    ],
)
def test_bad_places(row: str, column: str, message: str) -> None:
    text = f"{PLACES_HEADER}\nvillage,A,朔城区,,39.3,112.4,\n{row}\n"
    places, errors = parse_places(text, county_of)
    assert [(e.line, e.column) for e in errors] == [(3, column)], errors
    assert message in errors[0].message and len(places) == 1


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ({"kind": "village"}, [RowError(1, "", "expected a JSON list of places")]),
        (["village"], [RowError(1, "", "a place is a JSON object")]),
        (
            [{"kind": "village", "name": "A", "county": "应县", "latitude": 39, "longitude": 113,
              "colour": "red"}],
            [RowError(1, "colour", "unknown field")],
        ),
        (
            [{"kind": "village", "name": "A", "county": "应县", "latitude": True,
              "longitude": 113}],
            [RowError(1, "latitude", "expected text or a number")],
        ),
        (
            [{"kind": "village", "name": "A", "county": "应县", "latitude": 39}],
            [RowError(1, "longitude", "required")],
        ),
    ],
)  # fmt: skip
def test_bad_place_items(items: object, expected: list[RowError]) -> None:
    places, errors = parse_place_items(items, county_of)
    assert errors == expected and places == []


def test_places_header_problems() -> None:
    _, errors = parse_places("kind,name,latitude,longitude,where\n", county_of)
    assert errors == [
        RowError(1, "where", "unknown column; the columns are " + ", ".join(
            registry_csv.PLACE_COLUMNS)),
        RowError(1, "county", "missing column"),
    ]  # fmt: skip
