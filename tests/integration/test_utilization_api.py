"""Utilization rollups and queries on a real database: hourly rows recomputed from sessions,
meter readings, connections and statuses; daily rows; the API's groupings; the live view."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from csms.bootstrap import Running
from csms.clock import isoformat, utcnow
from csms.monitoring.utilization import Granularity, Grouping
from csms.store.utilization import UtilizationStore
from tests.conftest import Api
from tests.ocpp_client import open_client

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2025, 3, 10)
U = "/api/v1/monitoring/utilization"


def local(hh: int, mm: int = 0, ss: int = 0, day: date = DAY) -> datetime:
    """A moment of DAY in Shanghai, as UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=SHANGHAI).astimezone(UTC)


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


async def _stations(api: Api, csms: Running) -> None:
    """UA: 2 registered 60 kW connectors at a bus depot; UB: 7 kW rated, reported EVSE 1;
    UC: nothing known about its power, at a mall."""
    for body in (
        {"id": "UA", "county": "朔城区", "site_name": "S-BUS"},
        {"id": "UB", "county": "平鲁区", "rated_power_kw": "7"},
        {"id": "UC", "county": "朔城区", "site_name": "S-MALL"},
    ):
        ok(await api.post("/api/v1/stations", json=body), 201)
    pool = csms.pool
    await pool.execute(
        """INSERT INTO sites (site_name, category) VALUES ('S-BUS', 'bus_depot'),
               ('S-MALL', 'commercial')
           ON CONFLICT (site_name) DO UPDATE SET category = EXCLUDED.category"""
    )
    await pool.execute(
        """INSERT INTO station_equipment (station_id, connector_no, power_kw, current)
           VALUES ('UA', 1, 60, 'DC'), ('UA', 2, 60, 'DC')"""
    )


async def _tx(
    csms: Running,
    station: str,
    evse: int | None,
    start: datetime,
    stop: datetime,
    wh: tuple[int, int],
    samples: tuple[tuple[datetime, int], ...] = (),
) -> int:
    tx: int = await csms.pool.fetchval(
        """INSERT INTO transactions (station_id, ocpp_version, evse_id, connector_id, id_token,
               started_at, stopped_at, meter_start_wh, meter_stop_wh, status)
           VALUES ($1, '1.6', $2, 1, 'T', $3, $4, $5, $6, 'closed') RETURNING id""",
        station,
        evse,
        start,
        stop,
        *wh,
    )
    await csms.pool.executemany(
        """INSERT INTO meter_samples (station_id, evse_id, connector_id, transaction_id,
               sampled_at, received_at, measurand, unit, value)
           VALUES ($1, $2, 1, $3, $4, $4, 'Energy.Active.Import.Register', 'kWh', $5)""",
        [(station, evse or 0, tx, at, Decimal(value) / 1000) for at, value in samples],
    )
    return tx


async def _status(
    csms: Running, station: str, evse: int, connector: int, status: str, at: datetime
) -> None:
    await csms.pool.execute(
        """WITH h AS (INSERT INTO status_history (station_id, evse_id, connector_id, status,
                          status_at, received_at) VALUES ($1, $2, $3, $4, $5, $5))
           INSERT INTO connectors (station_id, evse_id, connector_id, status, status_at,
               received_at) VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE
               SET status = EXCLUDED.status, status_at = EXCLUDED.status_at""",
        station,
        evse,
        connector,
        status,
        at,
    )


async def _history(csms: Running) -> dict[str, int]:
    """A day of history at three stations (see the expected figures in the tests)."""
    ids = {
        # 10:30-12:15, 7 kWh: nothing until 11:00, 6 kWh in the 11:00 hour, 1 kWh after 12:00
        "t1": await _tx(
            csms,
            "UA",
            1,
            local(10, 30),
            local(12, 15),
            (1000, 8000),
            ((local(10, 45), 1000), (local(11), 1000), (local(12), 7000)),
        ),
        # 90 s: too short to count
        "t2": await _tx(csms, "UA", 2, local(11, 10), local(11, 11, 30), (0, 1000)),
        # 10 minutes, 0.3 kWh: too little to count
        "t3": await _tx(csms, "UB", 1, local(11, 20), local(11, 30), (5000, 5300)),
        # EVSE unknown: kept on EVSE 0
        "t6": await _tx(csms, "UC", None, local(13), local(14), (0, 2000)),
    }
    # an orphan stop (no start) is not a session
    await csms.pool.execute(
        """INSERT INTO transactions (station_id, ocpp_version, station_tx_id, status, orphan,
               stopped_at, meter_stop_wh) VALUES ('UA', '1.6', '999', 'closed', true, $1, 50)""",
        local(15),
    )
    await csms.pool.executemany(
        """INSERT INTO station_connections (station_id, node_id, connected_at, disconnected_at)
           VALUES ($1, 'old-node', $2, $3)""",
        [
            ("UA", local(8), local(20)),
            ("UA", local(9), local(9, 30)),  # overlapping: an hour is never more than online
            ("UB", local(11, 30), local(2, day=DAY + timedelta(days=1))),
        ],
    )
    await _status(csms, "UA", 0, 0, "Available", local(8))
    await _status(csms, "UA", 2, 1, "Available", local(8))
    await _status(csms, "UA", 1, 1, "Available", local(8))
    await _status(csms, "UA", 1, 1, "Faulted", local(14))
    await _status(csms, "UA", 1, 1, "Available", local(14, 30))
    await _status(csms, "UA", 0, 0, "Faulted", local(16))  # the whole station
    await _status(csms, "UA", 0, 0, "Available", local(16, 15))
    await _status(csms, "UB", 1, 1, "Faulted", local(22, day=DAY - timedelta(days=1)))
    return ids


async def _rollup(api: Api, since: date = DAY, until: date = DAY) -> dict[str, Any]:
    body = {"since": since.isoformat(), "until": until.isoformat()}
    result: dict[str, Any] = ok(await api.post(f"{U}/rollup", json=body))
    return result


async def _hourly(csms: Running) -> dict[tuple[str, int, datetime], dict[str, Any]]:
    rows = await csms.pool.fetch(
        """SELECT station_id, evse_id, hour, sessions, counted_sessions, busy_seconds, energy_wh,
                  online_seconds, fault_seconds
           FROM utilization_hourly ORDER BY station_id, evse_id, hour"""
    )
    return {(r["station_id"], r["evse_id"], r["hour"]): dict(r) for r in rows}


def _values(row: dict[str, Any] | None) -> tuple[Any, ...]:
    assert row is not None
    return (
        row["sessions"],
        row["counted_sessions"],
        row["busy_seconds"],
        row["energy_wh"],
        row["online_seconds"],
        row["fault_seconds"],
    )


async def test_rollup_recomputes_hours_and_days_idempotently(api: Api, csms: Running) -> None:
    await _stations(api, csms)
    ids = await _history(csms)
    first = await _rollup(api)
    assert first["hourly_rows"] > 0 and first["hourly_rows_deleted"] == 0
    hourly = await _hourly(csms)

    # sessions start in their hour; counted: > 2 min and > 0.5 kWh; busy and energy by hour,
    # energy following the register readings
    assert _values(hourly.get(("UA", 1, local(10)))) == (1, 1, 1800.0, 0, 0.0, 0.0)
    assert _values(hourly.get(("UA", 1, local(11)))) == (0, 0, 3600.0, 6000, 0.0, 0.0)
    assert _values(hourly.get(("UA", 1, local(12)))) == (0, 0, 900.0, 1000, 0.0, 0.0)
    assert _values(hourly.get(("UA", 2, local(11)))) == (1, 0, 90.0, 1000, 0.0, 0.0)
    assert _values(hourly.get(("UB", 1, local(11)))) == (1, 0, 600.0, 300, 0.0, 3600.0)
    assert _values(hourly.get(("UC", 0, local(13)))) == (1, 1, 3600.0, 2000, 0.0, 0.0)
    # online on EVSE 0, overlapping connections never more than the hour
    assert hourly[("UA", 0, local(9))]["online_seconds"] == 3600.0
    assert hourly[("UB", 0, local(11))]["online_seconds"] == 1800.0
    assert sum(r["online_seconds"] for k, r in hourly.items() if k[0] == "UA") == 12 * 3600
    # faults: the connector's own, and the whole station's on every EVSE (and on EVSE 0)
    assert hourly[("UA", 1, local(14))]["fault_seconds"] == 1800.0
    assert [hourly[("UA", e, local(16))]["fault_seconds"] for e in (0, 1, 2)] == [900.0] * 3
    assert sum(r["fault_seconds"] for k, r in hourly.items() if k[:2] == ("UB", 1)) == 86400
    assert all(k[2] >= local(0) and k[2] < local(0) + timedelta(days=1) for k in hourly)

    daily = {
        (r["station_id"], r["evse_id"]): dict(r)
        for r in await csms.pool.fetch("SELECT * FROM utilization_daily WHERE day = $1", DAY)
    }
    assert daily[("UA", 1)]["busy_seconds"] == 6300.0 and daily[("UA", 1)]["energy_wh"] == 7000
    assert daily[("UA", 1)]["fault_seconds"] == 2700.0
    assert daily[("UB", 0)]["online_seconds"] == 12.5 * 3600

    again = await _rollup(api)
    assert again["hourly_rows"] == first["hourly_rows"]
    assert again["hourly_rows_changed"] == 0 and again["hourly_rows_deleted"] == 0
    assert await _hourly(csms) == hourly

    # history changes: a session removed, rows left without data go
    await csms.pool.execute("DELETE FROM transactions WHERE id = ANY($1)", [ids["t3"], ids["t6"]])
    third = await _rollup(api)
    assert third["hourly_rows_deleted"] == 1  # UC's only row
    changed = await _hourly(csms)
    assert ("UC", 0, local(13)) not in changed
    assert _values(changed.get(("UB", 1, local(11)))) == (0, 0, 0.0, 0, 0.0, 3600.0)


async def test_utilization_by_station_county_category_and_connector(
    api: Api, csms: Running
) -> None:
    await _stations(api, csms)
    await _history(csms)
    await _rollup(api)
    params = {"since": DAY.isoformat(), "until": DAY.isoformat()}

    answer = ok(await api.get(U, params={**params, "by": "station", "granularity": "day"}))
    assert answer["time_zone"] == "Asia/Shanghai" and answer["by"] == "station"
    rows = {r["station_id"]: r for r in answer["rows"]}
    assert list(rows) == ["UA", "UB", "UC"]
    ua, ub, uc = rows["UA"], rows["UB"], rows["UC"]
    assert ua["bucket"] == "2025-03-10" and ua["hours"] == "24.0000"
    assert ua["start"] == isoformat(local(0)) and ua["county"] == "朔城区"
    assert ua["category"] == "bus_depot"
    assert (ua["connectors"], ua["rated_kw"], ua["sessions"], ua["counted_sessions"]) == (
        2,
        "120.00",
        2,
        1,
    )
    assert ua["kwh"] == "8.000" and ua["busy_hours"] == "1.7750"
    assert ua["time_utilization"] == "0.0370"  # 1.775 h / (2 x 24 h)
    assert ua["energy_utilization"] == "0.0028"  # 8 kWh / (120 kW x 24 h)
    assert ua["online_rate"] == "0.5000"
    assert ua["fault_rate"] == "0.0208"  # (0.75 h + 0.25 h) / (2 x 24 h)
    assert (ub["connectors"], ub["rated_kw"]) == (1, "7.00")
    assert (ub["time_utilization"], ub["energy_utilization"]) == ("0.0069", "0.0018")
    assert (ub["online_rate"], ub["fault_rate"]) == ("0.5208", "1.0000")
    assert (uc["connectors"], uc["rated_kw"], uc["energy_utilization"]) == (1, None, None)
    assert (uc["time_utilization"], uc["sessions"], uc["kwh"]) == ("0.0417", 1, "2.000")
    totals = answer["totals"]
    assert (totals["stations"], totals["connectors"], totals["rated_kw"]) == (3, 4, "127.00")
    assert totals["time_utilization"] == "0.0306"  # 2.9417 h / (4 x 24 h)
    assert totals["energy_utilization"] == "0.0027"  # 8.3 kWh of rated stations / 3048 kWh
    assert totals["online_rate"] == "0.3403"  # 24.5 h / (3 x 24 h)
    assert totals["fault_rate"] == "0.2604"  # 25 h / (4 x 24 h)
    assert (totals["kwh"], totals["sessions"], totals["counted_sessions"]) == ("10.300", 4, 2)

    by_county = ok(await api.get(U, params={**params, "by": "county"}))
    rows = {r["county"]: r for r in by_county["rows"]}
    assert list(rows) == ["平鲁区", "朔城区"]
    sc = rows["朔城区"]
    assert (sc["stations"], sc["connectors"], sc["rated_kw"], sc["kwh"]) == (
        2,
        3,
        "120.00",
        "10.000",
    )
    assert (sc["time_utilization"], sc["energy_utilization"]) == ("0.0385", "0.0028")
    assert (sc["online_rate"], sc["fault_rate"]) == ("0.2500", "0.0139")
    assert by_county["totals"] == answer["totals"]

    by_category = ok(await api.get(U, params={**params, "by": "category", "granularity": "total"}))
    assert [(r["category"], r["bucket"], r["sessions"]) for r in by_category["rows"]] == [
        ("bus_depot", "2025-03-10/2025-03-10", 2),
        ("commercial", "2025-03-10/2025-03-10", 1),
        (None, "2025-03-10/2025-03-10", 1),
    ]

    by_connector = ok(await api.get(U, params={**params, "by": "connector", "granularity": "hour"}))
    rows = by_connector["rows"]
    assert len(rows) == 4 * 24  # UA 1, UA 2, UB 1, UC 1 (nothing known: one connector)
    eleven = {
        (r["station_id"], r["evse_id"]): r for r in rows if r["start"] == isoformat(local(11))
    }
    assert eleven[("UA", 1)]["bucket"] == "2025-03-10T03:00:00Z"
    assert eleven[("UA", 1)]["time_utilization"] == "1.0000"
    assert eleven[("UA", 1)]["energy_utilization"] == "0.1000"  # 6 kWh / 60 kW
    assert eleven[("UA", 1)]["online_rate"] == eleven[("UA", 2)]["online_rate"] == "1.0000"
    assert eleven[("UC", 1)]["sessions"] == 0  # its session had no EVSE: in the totals only
    assert by_connector["totals"]["sessions"] == 4

    # the same figures from the hourly rows and the daily rows
    hourly_total = ok(await api.get(U, params={**params, "by": "county", "granularity": "hour"}))
    assert hourly_total["totals"] == by_county["totals"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2025-03-10", "until": "2025-03-09"}, None),
        ({"since": "2024-01-01", "until": "2025-01-01"}, None),  # 367 days
        ({"since": "2025-03-10", "until": "2025-03-10", "by": "township"}, "query.by"),
        (
            {"since": "2025-03-10", "until": "2025-03-10", "granularity": "week"},
            "query.granularity",
        ),
        ({"since": "2025-03-10"}, "query.until"),
        ({"since": "10/03/2025", "until": "2025-03-10"}, "query.since"),
    ],
)
async def test_bad_utilization_queries_are_422(
    api: Api, params: dict[str, str], field: str | None
) -> None:
    r = await api.get(U, params=params)
    assert r.status_code == 422, r.text
    if field is not None:
        assert field in [d["field"] for d in r.json()["detail"]]


async def test_bad_rollup_ranges_are_422(api: Api) -> None:
    for since, until in (("2025-03-10", "2025-03-09"), ("2024-01-01", "2025-01-01")):
        r = await api.post(f"{U}/rollup", json={"since": since, "until": until})
        assert r.status_code == 422 and r.json()["error"] == "invalid_input", r.text
    r = await api.post(f"{U}/rollup", json={"since": "2025-03-10"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request", r.text


async def test_too_many_rows_is_422(api: Api, csms: Running) -> None:
    await csms.pool.executemany(
        "INSERT INTO stations (id) VALUES ($1)", [(f"R-{n}",) for n in range(600)]
    )
    r = await api.get(
        U,
        params={
            "since": "2024-01-01",
            "until": "2024-12-31",
            "by": "connector",
            "granularity": "day",
        },
    )
    assert r.status_code == 422 and "rows" in r.json()["detail"], r.text
    # hourly figures are for a week at most (a network month of hours is millions of rows)
    week = {"since": "2024-01-01", "until": "2024-01-08", "by": "county", "granularity": "hour"}
    r = await api.get(U, params=week)
    assert r.status_code == 422 and "at most 7 days" in r.json()["detail"], r.text
    r = await api.get(U, params={**week, "until": "2024-01-07"})
    assert r.status_code == 200, r.text


async def test_live_view_and_rollup_of_a_running_session(api: Api, csms: Running) -> None:
    ok(await api.post("/api/v1/stations", json={"id": "OFF-1"}), 201)
    cp = await open_client(csms.ocpp_port, "LIVE-1", ["ocpp1.6"])
    try:
        boot = {"chargePointVendor": "T", "chargePointModel": "L"}
        assert (await cp.call("BootNotification", boot))["status"] == "Accepted"
        for connector, state in ((1, "Charging"), (2, "Available")):
            await cp.call(
                "StatusNotification",
                {"connectorId": connector, "errorCode": "NoError", "status": state},
            )
        ok(await api.post("/api/v1/tokens", json={"id_token": "LIVE-T"}), 201)
        now = utcnow()
        started = await cp.call(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "LIVE-T",
                "meterStart": 1000,
                "timestamp": isoformat(now - timedelta(minutes=5)),
            },
        )
        await cp.call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": started["transactionId"],
                "meterValue": [
                    {
                        "timestamp": isoformat(now),
                        "sampledValue": [
                            {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
                            {"value": "1600", "measurand": "Energy.Active.Import.Register"},
                        ],
                    }
                ],
            },
        )
        async with asyncio.timeout(10):  # samples are written in batches
            while (live := ok(await api.get("/api/v1/monitoring/live")))["power_kw"] is None:
                await asyncio.sleep(0.1)
        assert live["stations"] == {"total": 2, "online": 1, "offline": 1, "locked": 0}
        assert live["connectors"] == {"Available": 1, "Charging": 1}
        assert live["open_sessions"] == 1 and live["sessions_reporting_power"] == 1
        assert live["power_kw"] == "7.200"

        # the maintenance round's rollup (here called directly) sees the running session
        store = UtilizationStore(csms.pool)
        async with asyncio.timeout(10):
            while (await store.maintain(utcnow())) is None:  # the loop's own round
                await asyncio.sleep(0.1)
        rows = await csms.pool.fetch(
            "SELECT * FROM utilization_hourly WHERE station_id = 'LIVE-1' ORDER BY evse_id, hour"
        )
        assert sum(r["sessions"] for r in rows if r["evse_id"] == 1) == 1
        assert sum(r["busy_seconds"] for r in rows if r["evse_id"] == 1) >= 290
        assert abs(sum(r["energy_wh"] for r in rows if r["evse_id"] == 1) - 600) <= 1
        assert sum(r["online_seconds"] for r in rows if r["evse_id"] == 0) > 0
        today = utcnow().astimezone(SHANGHAI).date().isoformat()
        answer = ok(await api.get(U, params={"since": today, "until": today, "by": "station"}))
        live_row = next(r for r in answer["rows"] if r["station_id"] == "LIVE-1")
        assert live_row["sessions"] == 1 and Decimal(live_row["hours"]) <= 24
    finally:
        await cp.close()


async def test_a_month_of_hourly_rows_answers_quickly(api: Api, csms: Running) -> None:
    """A smaller network than the benchmark's (tests/bench/utilization_bench.py): 200 piles,
    31 days of hourly rows, queried by county and day."""
    counties = ["朔城区", "平鲁区", "怀仁市", "山阴县", "应县", "右玉县"]
    stations = [(f"P-{n:04d}", counties[n % 6], Decimal(60)) for n in range(200)]
    await csms.pool.executemany(
        "INSERT INTO stations (id, county, rated_power_kw) VALUES ($1, $2, $3)", stations
    )
    first = local(0, day=date(2025, 1, 1))
    hours = [first + timedelta(hours=h) for h in range(31 * 24)]
    records = [
        row
        for sid, _, _ in stations
        for hour in hours
        for row in (
            (sid, 0, hour, 0, 0, 0.0, 0, 3600.0, 0.0),
            (sid, 1, hour, 1, 1, 1800.0, 10_000, 0.0, 0.0),
        )
    ]
    await csms.pool.copy_records_to_table(
        "utilization_hourly",
        records=records,
        columns=[
            "station_id",
            "evse_id",
            "hour",
            "sessions",
            "counted_sessions",
            "busy_seconds",
            "energy_wh",
            "online_seconds",
            "fault_seconds",
        ],
    )
    store = UtilizationStore(csms.pool)
    assert await store.rollup_days(date(2025, 1, 1), date(2025, 1, 31)) == 200 * 31 * 2
    started = time.perf_counter()
    answer = ok(
        await api.get(U, params={"since": "2025-01-01", "until": "2025-01-31", "by": "county"})
    )
    elapsed = time.perf_counter() - started
    assert len(answer["rows"]) == 6 * 31
    totals = answer["totals"]
    # each hour: a session, 0.5 busy hours of 1 connector, 10 kWh of 60 kW, online
    assert totals["sessions"] == 200 * 744
    assert totals["kwh"] == f"{200 * 744 * 10}.000"
    assert totals["time_utilization"] == "0.5000"
    assert totals["energy_utilization"] == "0.1667"
    assert totals["online_rate"] == "1.0000"
    assert elapsed < 5, elapsed  # the benchmark measures; this only catches a gross regression
    plan = await store.explain_sums(
        Grouping.COUNTY, Granularity.DAY, date(2025, 1, 1), date(2025, 1, 31)
    )
    assert "utilization_daily" in plan
