"""Late data reaches every figure by itself: a 1.6 session replayed long after its day (an
offline queue) is rolled up, amends the month's filed report and reaches the platform; a
refused start is no session.

Dates are fixed (a mid-month day of a past month), so the tests pass at any hour and day."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from csms.bootstrap import Running
from csms.clock import isoformat, utcnow
from csms.domain.token import IdToken
from csms.services.monitoring import ReportService, build_reports
from csms.store.monitoring import MonitoringStore
from csms.store.tokens import TokenStore
from csms.store.utilization import SETTLE, UtilizationStore
from simulators.platform.server import PlatformSimulator
from tests.conftest import Api, api_for, make_settings
from tests.integration.test_billing_flow import setup_network
from tests.ocpp_client import OcppClient, open_client
from tests.platform_support import OPERATOR_ID, add_platform, drained, pushing_csms, sim_config

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2025, 3, 12)  # the late session's local day: mid-month, far from a month's edge
MONTH = "2025-03"
FILED_ON = datetime(2025, 4, 10, 9, 0, tzinfo=SHANGHAI)  # when the month's report was filed
U = "/api/v1/monitoring/utilization"


def local(hh: int, mm: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI).astimezone(UTC)


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


async def session(
    cp: OcppClient, token: str, start: datetime, stop: datetime, wh: tuple[int, int]
) -> tuple[int, str]:
    """A 1.6 session delivered now with the station's old timestamps: (id, start's status)."""
    started = await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": token, "meterStart": wh[0], "timestamp": isoformat(start)},
    )
    tx: int = started["transactionId"]
    await cp.call(
        "StopTransaction",
        {"transactionId": tx, "meterStop": wh[1], "timestamp": isoformat(stop), "idTag": token},
    )
    return tx, started["idTagInfo"]["status"]


async def maintenance_pass(utilization: UtilizationStore, reports: ReportService) -> Any:
    """One round of the maintenance loop (bootstrap._maintain), as it runs SETTLE after the
    deliveries (what it looks for has been written by now): utilization rollups, then the
    reports."""
    now = utcnow() + SETTLE
    done = await utilization.maintain(now)
    await reports.maintain(now)
    return done


async def day_figures(api: Api, station_id: str) -> dict[str, Any]:
    day = DAY.isoformat()
    answer = ok(await api.get(U, params={"since": day, "until": day, "by": "station"}))
    row: dict[str, Any] = next(r for r in answer["rows"] if r["station_id"] == station_id)
    return row


def change(report: dict[str, Any], section: str, field: str, scope: str | None = None) -> Any:
    found = [
        (c["before"], c["after"])
        for c in report["amendments"][-1]["changes"]
        if (c["section"], c["field"], c["scope"]) == (section, field, scope)
    ]
    assert len(found) == 1, report["amendments"]
    return found[0]


async def test_a_session_replayed_days_late_reaches_the_figures_and_amends_the_report(
    csms: Running, api: Api, database_url: str
) -> None:
    ok(await api.post("/api/v1/stations", json={"id": "LATE-1", "county": "朔城区"}), 201)
    await TokenStore(csms.pool).put(IdToken("CARD-L"))
    utilization = UtilizationStore(csms.pool)
    _, reports = build_reports(csms.pool, make_settings(database_url))
    # The day was rolled up and the month's report filed long before the station came back.
    ok(await api.post(f"{U}/rollup", json={"since": DAY.isoformat(), "until": DAY.isoformat()}))
    assert await reports.file_last_month(FILED_ON) == MONTH
    original = ok(await api.get(f"/api/v1/reports/monthly/{MONTH}"))
    assert (original["version"], original["final"], original["amended_at"]) == (1, True, None)
    assert original["summary"]["sessions"] == 0 and original["amendments"] == []

    cp = await open_client(csms.ocpp_port, "LATE-1")
    try:
        await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
        # its offline queue: a session of 8 kWh, and a start refused (unknown token) whose
        # charger stopped it an hour later, having delivered 5 kWh anyway
        _, status = await session(cp, "CARD-L", local(10), local(11), (1000, 9000))
        assert status == "Accepted"
        refused, status = await session(cp, "NOBODY", local(14), local(15), (9000, 14000))
        assert status == "Invalid"
    finally:
        await cp.close()
    assert await csms.pool.fetchval("SELECT refused FROM transactions WHERE id = $1", refused)

    done = await maintenance_pass(utilization, reports)
    assert done is not None and done.late_days >= 1
    assert await csms.pool.fetchval("SELECT count(*) FROM utilization_dirty_days") == 0

    # the day's figures: one session (the refused start is none), its energy and busy time
    figures = await day_figures(api, "LATE-1")
    assert (figures["sessions"], figures["counted_sessions"]) == (1, 1)
    assert (figures["kwh"], figures["busy_hours"]) == ("8.000", "1.0000")

    # the filed report is amended: what changed, when, and the original kept
    report = ok(await api.get(f"/api/v1/reports/monthly/{MONTH}"))
    assert report["version"] == 2 and report["final"] and report["amended_at"] is not None
    assert report["summary"]["sessions"] == 1 and report["summary"]["energy_kwh"] == "8.000"
    assert change(report, "summary", "sessions") == (0, 1)
    assert change(report, "summary", "energy_kwh") == ("0.000", "8.000")
    assert change(report, "utilization_by_county", "sessions", "朔城区") == (0, 1)
    assert [(v["version"], v["generated_by"]) for v in report["versions"]] == [
        (1, "schedule"),
        (2, "schedule"),
    ]
    assert report["versions"][0]["amended_at"] is None
    assert report["versions"][1]["amended_at"] == report["amended_at"]
    assert report["versions"][1]["changes"] == report["amendments"][-1]["changes"]
    first = ok(await api.get(f"/api/v1/reports/monthly/{MONTH}/versions/1"))
    assert first["summary"]["sessions"] == 0 and first["version"] == 1
    html = await api.get(f"/api/v1/reports/monthly/{MONTH}", params={"format": "html"})
    assert "更正说明" in html.text  # the amendments section of the (Chinese) report
    missing = await api.get(f"/api/v1/reports/monthly/{MONTH}/versions/9")
    assert missing.status_code == 404
    listed = {r["month"]: r for r in ok(await api.get("/api/v1/reports/monthly"))}
    assert (listed[MONTH]["version"], listed[MONTH]["amended_at"] is not None) == (2, True)

    # the next round finds nothing new: no other version
    again = await maintenance_pass(utilization, reports)
    assert again is not None and again.late_days == 0
    assert (await reports.amend_stale()) == []
    assert ok(await api.get(f"/api/v1/reports/monthly/{MONTH}"))["version"] == 2


async def test_a_report_generated_while_its_month_ran_is_refiled_not_amended(
    csms: Running, database_url: str
) -> None:
    _, reports = build_reports(csms.pool, make_settings(database_url))
    during = datetime(2025, 5, 20, 12, tzinfo=SHANGHAI)
    provisional = await reports.generate(2025, 5, by="api", now=during)
    assert (provisional["version"], provisional["final"]) == (1, False)
    # not before the 2nd, 04:00 local: the last day's late hours are still being rolled up
    assert await reports.file_last_month(datetime(2025, 6, 2, 3, 59, tzinfo=SHANGHAI)) is None
    assert await reports.file_last_month(datetime(2025, 6, 2, 4, 0, tzinfo=SHANGHAI)) == "2025-05"
    filed = await MonitoringStore(csms.pool).report("2025-05")
    assert filed is not None
    assert (filed["version"], filed["final"], filed["amended_at"]) == (2, True, None)


@pytest.fixture
async def sim() -> AsyncIterator[PlatformSimulator]:
    async with PlatformSimulator(sim_config()) as platform:
        yield platform


async def test_a_late_sessions_order_reaches_the_platform(
    database_url: str, sim: PlatformSimulator
) -> None:
    async with pushing_csms(database_url) as csms, api_for(csms) as api:
        await add_platform(api, sim)
        await setup_network(api, "LATE-P", local(10, 30))
        await TokenStore(csms.pool).put(IdToken("CARD-L"))
        cp = await open_client(csms.ocpp_port, "LATE-P")
        try:
            await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
            tx, _ = await session(cp, "CARD-L", local(10), local(11), (1000, 9000))
            refused, _ = await session(cp, "NOBODY", local(14), local(15), (9000, 14000))
        finally:
            await cp.close()
        bill = ok(await api.get(f"/api/v1/transactions/{tx}/bill"))
        assert bill["review"] is None and len(bill["cdrs"]) == 1, bill
        await drained(csms)
        order = sim.orders[f"{OPERATOR_ID}{tx:018d}"]
        assert order["StartTime"] == "2025-03-12 10:00:00"
        assert f"{OPERATOR_ID}{refused:018d}" not in sim.orders  # never billed, never an order
        queued = await csms.pool.fetch(
            """SELECT state FROM platform_outbox
               WHERE kind = 'charge_order' AND platform_id = 'province'"""
        )
        assert [r["state"] for r in queued] == ["sent"]


async def test_a_refused_start_still_open_is_no_session_live(csms: Running, api: Api) -> None:
    ok(await api.post("/api/v1/stations", json={"id": "REF-1", "county": "朔城区"}), 201)
    cp = await open_client(csms.ocpp_port, "REF-1")
    try:
        await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
        started = await cp.call(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "NOBODY",
                "meterStart": 0,
                "timestamp": isoformat(utcnow()),
            },
        )
        assert started["idTagInfo"]["status"] == "Invalid"
        live = ok(await api.get("/api/v1/monitoring/live"))
        assert live["open_sessions"] == 0
        stations = ok(await api.get("/api/v1/monitoring/map"))["stations"]
        assert [s["state"] for s in stations if s["id"] == "REF-1"] == ["available"]
    finally:
        await cp.close()


async def test_a_late_meter_value_of_an_old_session_is_rolled_up(csms: Running, api: Api) -> None:
    """A sample delivered after its session's stop (both days late) moves the session's energy
    between hours on the next pass; the day's total stays."""
    ok(await api.post("/api/v1/stations", json={"id": "LATE-M"}), 201)
    await TokenStore(csms.pool).put(IdToken("CARD-M"))
    utilization = UtilizationStore(csms.pool)
    _, reports = build_reports(csms.pool, make_settings(csms.database_url))

    async def hourly() -> list[int]:
        rows = await csms.pool.fetch(
            """SELECT energy_wh FROM utilization_hourly
               WHERE station_id = 'LATE-M' AND evse_id = 1 AND hour >= $1 AND hour < $2
               ORDER BY hour""",
            local(10),
            local(12),
        )
        return [r["energy_wh"] for r in rows]

    cp = await open_client(csms.ocpp_port, "LATE-M")
    try:
        await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
        tx, _ = await session(cp, "CARD-M", local(10), local(12), (1000, 9000))
        await maintenance_pass(utilization, reports)
        assert await hourly() == [4000, 4000]  # start and stop only: spread over the time
        reading = {"value": "8000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        await cp.call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx,
                "meterValue": [{"timestamp": isoformat(local(11)), "sampledValue": [reading]}],
            },
        )
    finally:
        await cp.close()
    async with asyncio.timeout(10):  # samples are written in batches
        while not await csms.pool.fetchval(
            "SELECT count(*) FROM meter_samples WHERE transaction_id = $1", tx
        ):
            await asyncio.sleep(0.05)
    done = await maintenance_pass(utilization, reports)
    assert done is not None and done.late_days == 1
    assert await hourly() == [7000, 1000]
    assert (await day_figures(api, "LATE-M"))["kwh"] == "8.000"
