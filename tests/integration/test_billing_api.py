"""The billing API end to end: tariff validation and versions, CDRs, corrections, settlement.

A real CSMS on real sockets and a real PostgreSQL. Sessions are OCPP 1.6 and lie in the past,
sent as a charger replays its queue: stamped before the connection opened, so queued data, not
clock skew (verdict "valid").
Every expected amount is worked out by hand in a comment, never by the pricing engine.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from csms.bootstrap import Running
from csms.clock import isoformat, utcnow
from csms.domain.token import IdToken
from csms.store.tokens import TokenStore
from tests.conftest import Api
from tests.ocpp_client import OcppClient, open_client

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARD = "CARD-1"
REGISTER = "Energy.Active.Import.Register"
SINCE_2020 = "2020-01-01T00:00:00+08:00"
CSV_HEADER = [
    "period",
    "operator_id",
    "key",
    "sessions",
    "credits",
    "rebills",
    "energy_kwh",
    "energy_money",
    "service_money",
    "idle_money",
    "session_fees",
    "total",
]


# --- helpers --------------------------------------------------------------------------------


def local_time(days_ago: int, hour: int) -> datetime:
    """A whole local hour (Asia/Shanghai) on the local day `days_ago` days before today."""
    day = utcnow().astimezone(SHANGHAI).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def plans(*periods: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"periods": [{"start": s, "end": e, "band": b} for s, e, b in periods]}]


def flat_tariff(
    tariff_id: str = "city",
    energy: str = "0.6000",
    service: str = "0.6000",
    effective_from: str = SINCE_2020,
    **overrides: Any,
) -> dict[str, Any]:
    """A tariff body with one band all day, so money is kWh x price (plus overrides)."""
    return {
        "tariff_id": tariff_id,
        "name": f"{tariff_id} flat",
        "effective_from": effective_from,
        "prices": {"flat": {"energy": energy, "service": service}},
        "plans": plans(("00:00", "24:00", "flat")),
        **overrides,
    }


def version_body(body: dict[str, Any]) -> dict[str, Any]:
    """The same tariff as a body for POST /tariffs/{id}/versions (no tariff_id)."""
    return {k: v for k, v in body.items() if k != "tariff_id"}


def refused(r: httpx.Response, *, status: int = 422) -> str:
    """Assert a problem answer with this status; return its detail as text to search."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error", "detail"}, body
    return str(body["detail"])


def created(r: httpx.Response) -> Any:
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()


async def add_station(api: Api, station_id: str, **metadata: str) -> None:
    created(await api.post("/api/v1/stations", json={"id": station_id, **metadata}))


async def bill_network(api: Api, tariff: dict[str, Any]) -> None:
    """Create `tariff` and bill the whole network by it."""
    created(await api.post("/api/v1/tariffs", json=tariff))
    assignment = {
        "tariff_id": tariff["tariff_id"],
        "scope": "network",
        "effective_from": SINCE_2020,
    }
    created(await api.post("/api/v1/tariff-assignments", json=assignment))


async def boot(csms: Running, station_id: str) -> OcppClient:
    """Connect a registered 1.6 station and boot it; the test card is known."""
    await TokenStore(csms.pool).put(IdToken(CARD))
    cp = await open_client(csms.ocpp_port, station_id, ["ocpp1.6"])
    await cp.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
    return cp


async def charge(cp: OcppClient, start: datetime, wh: int, minutes: int = 60) -> int:
    """A 1.6 session from `start`: a register sample half way, `wh` delivered; its id."""
    begin = 1000
    stop, middle = start + timedelta(minutes=minutes), start + timedelta(minutes=minutes / 2)
    started = await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": CARD, "meterStart": begin, "timestamp": isoformat(start)},
    )
    tx: int = started["transactionId"]
    sample = {"value": str(begin + wh // 2), "measurand": REGISTER}
    await cp.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx,
            "meterValue": [{"timestamp": isoformat(middle), "sampledValue": [sample]}],
        },
    )
    await cp.call(
        "StopTransaction",
        {"transactionId": tx, "meterStop": begin + wh, "timestamp": isoformat(stop), "idTag": CARD},
    )
    return tx


async def billed_session(csms: Running, api: Api, station_id: str) -> int:
    """A new station on the flat network tariff charges 10.000 kWh yesterday: 12.00 CNY."""
    await add_station(api, station_id)
    await bill_network(api, flat_tariff())
    cp = await boot(csms, station_id)
    tx = await charge(cp, local_time(1, 10), 10_000)
    await cp.close()
    return tx


async def cdrs_of(api: Api, tx: int) -> list[dict[str, Any]]:
    r = await api.get(f"/api/v1/transactions/{tx}/bill")
    assert r.status_code == 200, r.text
    records: list[dict[str, Any]] = r.json()["cdrs"]
    return records


async def the_cdr(api: Api, tx: int) -> dict[str, Any]:
    """The one CDR a freshly ended session got."""
    records = await cdrs_of(api, tx)
    assert len(records) == 1, records
    return records[0]


async def all_cdrs(api: Api) -> list[dict[str, Any]]:
    r = await api.get("/api/v1/cdrs", params={"limit": 1000})
    assert r.status_code == 200, r.text
    records: list[dict[str, Any]] = r.json()
    return sorted(records, key=lambda c: c["id"])


async def cli_verify(database_url: str) -> tuple[int, str]:
    """`csms cdr verify` as a separate process: its exit code and output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        "cdr",
        "verify",
        "--database-url",
        database_url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def tamper(csms: Running, sql: str, *args: Any) -> None:
    """Run `sql` on cdrs with the immutability trigger off, as an attacker with DDL rights."""
    async with csms.pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE cdrs DISABLE TRIGGER cdrs_immutable")
        await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE cdrs ENABLE TRIGGER cdrs_immutable")


# --- 1. bad input ---------------------------------------------------------------------------

BAD_TARIFFS: list[tuple[str, dict[str, Any], str]] = [
    (
        "overlapping bands",
        {"plans": plans(("00:00", "12:00", "flat"), ("11:00", "24:00", "flat"))},
        "periods overlap at 11:00-12:00",
    ),
    (
        "a gap in the day",
        {"plans": plans(("00:00", "08:00", "flat"), ("09:00", "24:00", "flat"))},
        "no band covers 08:00-09:00",
    ),
    (
        "negative price",
        {"prices": {"flat": {"energy": "-0.1000", "service": "0.6000"}}},
        "flat energy price must not be negative",
    ),
    (
        "five decimal places",
        {"prices": {"flat": {"energy": "0.60001", "service": "0.6000"}}},
        "flat energy price has more than 4 decimal places",
    ),
    (
        "band without a price",
        {"plans": plans(("00:00", "08:00", "valley"), ("08:00", "24:00", "flat"))},
        "band valley is used but has no price",
    ),
    (
        "service price below the floor",
        {"prices": {"flat": {"energy": "0.6000", "service": "0.0999"}}},
        "flat service price 0.0999 CNY/kWh is below the policy floor 0.1000",
    ),
    (
        "service price above the ceiling",
        {"prices": {"flat": {"energy": "0.6000", "service": "1.2001"}}},
        "flat service price 1.2001 CNY/kWh is above the policy ceiling 1.2000",
    ),
    ("bad time zone", {"time_zone": "Mars/Olympus_Mons"}, "is not an IANA time zone"),
    (
        "effective_to before effective_from",
        {"effective_to": "2019-12-31T00:00:00+08:00"},
        "effective_to must be after effective_from",
    ),
    ("malformed HH:MM", {"plans": plans(("0:00", "24:00", "flat"))}, "should match pattern"),
    ("time past midnight", {"plans": plans(("00:00", "24:30", "flat"))}, "is not a time of day"),
    ("unknown band in a plan", {"plans": plans(("00:00", "24:00", "noon"))}, "'flat'"),
    (
        "unknown band in prices",
        {"prices": {"noon": {"energy": "0.6000", "service": "0.6000"}}},
        "'flat'",
    ),
]


async def test_bad_tariffs_are_refused_and_nothing_is_stored(api: Api) -> None:
    """Every invalid tariff gets 422 naming its problem; no version of it exists afterwards."""
    for label, overrides, expected in BAD_TARIFFS:
        detail = refused(await api.post("/api/v1/tariffs", json=flat_tariff(**overrides)))
        assert expected in detail, (label, detail)
    assert (await api.get("/api/v1/tariffs")).json() == []
    refused(await api.get("/api/v1/tariffs/city"), status=404)
    # The same checks guard a new version: the stored one stays alone.
    created(await api.post("/api/v1/tariffs", json=flat_tariff()))
    for label, overrides, expected in BAD_TARIFFS:
        body = version_body(flat_tariff(**overrides))
        detail = refused(await api.post("/api/v1/tariffs/city/versions", json=body))
        assert expected in detail, (label, detail)
    versions = (await api.get("/api/v1/tariffs/city/versions")).json()
    assert [v["version"] for v in versions] == [1]


async def test_bad_assignments_are_refused_and_nothing_is_stored(api: Api) -> None:
    """Unknown station, site or tariff, or a network scope with a target: 422, nothing stored."""
    created(await api.post("/api/v1/tariffs", json=flat_tariff()))
    await add_station(api, "CP-1", site_name="Depot A")
    base = {"tariff_id": "city", "effective_from": SINCE_2020}
    cases = [
        ({"scope": "station", "target": "CP-NOPE"}, "station 'CP-NOPE' does not exist"),
        ({"scope": "site", "target": "Nowhere"}, "site 'Nowhere' does not exist"),
        ({"scope": "network", "tariff_id": "nope"}, "tariff 'nope' does not exist"),
        ({"scope": "network", "target": "CP-1"}, "leave it empty for network"),
        ({"scope": "station"}, "leave it empty for network"),
        (
            {"scope": "network", "effective_to": "2019-01-01T00:00:00Z"},
            "effective_to must be after effective_from",
        ),
    ]
    for fields, expected in cases:
        detail = refused(await api.post("/api/v1/tariff-assignments", json={**base, **fields}))
        assert expected in detail, (fields, detail)
    assert (await api.get("/api/v1/tariff-assignments")).json() == []
    # The same station and site are fine once they exist.
    for scope, target in (("station", "CP-1"), ("site", "Depot A")):
        created(
            await api.post(
                "/api/v1/tariff-assignments", json={**base, "scope": scope, "target": target}
            )
        )


async def test_posting_an_existing_tariff_id_conflicts(api: Api) -> None:
    """A second POST /tariffs of one id is 409 and points at /versions; version 1 is intact."""
    first = created(await api.post("/api/v1/tariffs", json=flat_tariff()))
    detail = refused(
        await api.post("/api/v1/tariffs", json=flat_tariff(energy="0.9000")), status=409
    )
    assert "/api/v1/tariffs/city/versions" in detail
    assert (await api.get("/api/v1/tariffs/city/versions")).json() == [first]


# --- 2. versions ----------------------------------------------------------------------------


async def test_a_new_version_leaves_the_old_one_unchanged(api: Api) -> None:
    """POST /tariffs is version 1, POST /versions version 2; both stay readable as written."""
    v1 = created(await api.post("/api/v1/tariffs", json=flat_tariff()))
    assert v1["version"] == 1 and v1["prices"]["flat"] == {"energy": "0.6000", "service": "0.6000"}
    later = version_body(flat_tariff(energy="0.8000", effective_from="2024-06-01T00:00:00+08:00"))
    v2 = created(await api.post("/api/v1/tariffs/city/versions", json=later))
    assert v2["version"] == 2 and v2["prices"]["flat"]["energy"] == "0.8000"
    assert datetime.fromisoformat(v2["effective_from"]) > datetime.fromisoformat(
        v1["effective_from"]
    )
    assert (await api.get("/api/v1/tariffs/city/versions")).json() == [v1, v2]
    assert (await api.get("/api/v1/tariffs/city/versions/1")).json() == v1
    assert (await api.get("/api/v1/tariffs/city")).json() == v2
    refused(await api.post("/api/v1/tariffs/nope/versions", json=later), status=404)


async def test_the_database_refuses_to_update_a_tariff(csms: Running, api: Api) -> None:
    """The tariffs_immutable trigger stops even a direct SQL UPDATE."""
    v1 = created(await api.post("/api/v1/tariffs", json=flat_tariff()))
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
        await csms.pool.execute("UPDATE tariffs SET name = 'edited' WHERE tariff_id = 'city'")
    assert (await api.get("/api/v1/tariffs/city/versions")).json() == [v1]


# --- 3. a tariff change mid-month -----------------------------------------------------------


async def test_each_session_is_billed_by_the_version_in_force_at_its_start(
    csms: Running, api: Api
) -> None:
    """v2 takes effect 5 days ago: a session started 10 days ago keeps v1, one 2 days ago v2."""
    await add_station(api, "CP-V")
    await bill_network(api, flat_tariff())
    change = isoformat(local_time(5, 0))
    v2 = version_body(flat_tariff(energy="1.0000", service="0.5000", effective_from=change))
    created(await api.post("/api/v1/tariffs/city/versions", json=v2))
    cp = await boot(csms, "CP-V")
    old = await the_cdr(api, await charge(cp, local_time(10, 10), 12_345))
    new = await the_cdr(api, await charge(cp, local_time(2, 10), 12_345))
    await cp.close()

    # 12.345 kWh x 0.6000 = 7.407 -> 7.41, twice (energy and service): 14.82
    assert old["tariff"] == {"id": "city", "version": 1}
    assert (old["energy_kwh"], old["energy_money"], old["service_money"], old["total"]) == (
        "12.345",
        "7.41",
        "7.41",
        "14.82",
    )
    # 12.345 x 1.0000 = 12.345 -> 12.35 (half-up); 12.345 x 0.5000 = 6.1725 -> 6.17: 18.52
    assert new["tariff"] == {"id": "city", "version": 2}
    assert (new["energy_kwh"], new["energy_money"], new["service_money"], new["total"]) == (
        "12.345",
        "12.35",
        "6.17",
        "18.52",
    )
    assert [line["band"] for line in new["lines"]] == ["flat"]
    assert new["lines"][0]["energy_price"] == "1.0000"
    for cdr in (old, new):
        # Sent days late, but stamped before the connection they came on opened: queued data,
        # whose lag is the outage, not clock skew.
        assert cdr["verdict"] == "valid", cdr["reasons"]
        assert "clock_skew" not in [r["code"] for r in cdr["reasons"]]
        assert cdr["allocation"] == "metered"


# --- 4. settlement --------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One CDR of the settlement scenario, worked out by hand."""

    day: date
    operator: str
    site: str
    owner: str
    kind: str
    energy_wh: int
    total: Decimal


@dataclass(frozen=True)
class Scenario:
    first: date
    last: date
    cdrs: list[Expected]


async def settlement_scenario(csms: Running, api: Api) -> Scenario:
    """Four sessions on two stations of two operators over two local days, a credit, a re-bill."""
    await add_station(api, "CP-A", site_name="Depot A", owner_unit="Unit X", operator_id="op-a")
    await add_station(api, "CP-B")
    patched = await api.patch(
        "/api/v1/stations/CP-B",
        json={"site_name": "Depot B", "owner_unit": "Unit Y", "operator_id": "op-b"},
    )
    assert patched.status_code == 200, patched.text
    await bill_network(api, flat_tariff())
    created(await api.post("/api/v1/tariffs", json=flat_tariff("promo", "0.5000", "0.5000")))
    a, b = await boot(csms, "CP-A"), await boot(csms, "CP-B")
    day1, day2 = local_time(3, 10), local_time(2, 10)
    a1 = await charge(a, day1, 10_000)  # 10.000 x 0.6 = 6.00, x2 = 12.00
    b1 = await charge(b, day1, 12_345)  # 12.345 x 0.6 = 7.407 -> 7.41, x2 = 14.82
    # Local 06:00-07:00 is 22:00-23:00 UTC the day before: settled by the local day.
    await charge(a, local_time(2, 6), 5_500)  # 5.500 x 0.6 = 3.30, x2 = 6.60
    b2 = await charge(b, day2, 20_001)  # 20.001 x 0.6 = 12.0006 -> 12.00, x2 = 24.00
    await a.close()
    await b.close()
    bill_a1 = await the_cdr(api, a1)
    created(await api.post(f"/api/v1/cdrs/{bill_a1['id']}/credit", json={"note": "goodwill"}))
    rebill = {"note": "promo applies", "tariff_id": "promo", "tariff_version": 1}
    credit_b2, rebill_b2 = created(await api.post(f"/api/v1/transactions/{b2}/rebill", json=rebill))
    assert (credit_b2["kind"], credit_b2["total"]) == ("credit", "-24.00")
    # 20.001 x 0.5 = 10.0005 -> 10.00, x2 = 20.00
    assert (rebill_b2["kind"], rebill_b2["total"]) == ("rebill", "20.00")
    assert (await the_cdr(api, b1))["total"] == "14.82"

    d1, d2 = day1.date(), day2.date()
    a_, b_ = ("op-a", "Depot A", "Unit X"), ("op-b", "Depot B", "Unit Y")
    return Scenario(
        d1,
        d2,
        [
            Expected(d1, *a_, "bill", 10_000, Decimal("12.00")),
            Expected(d1, *b_, "bill", 12_345, Decimal("14.82")),
            Expected(d2, *a_, "bill", 5_500, Decimal("6.60")),
            Expected(d2, *b_, "bill", 20_001, Decimal("24.00")),
            Expected(d1, *a_, "credit", -10_000, Decimal("-12.00")),
            Expected(d2, *b_, "credit", -20_001, Decimal("-24.00")),
            Expected(d2, *b_, "rebill", 20_001, Decimal("20.00")),
        ],
    )


def expected_rows(scenario: Scenario, period: str, group: str) -> list[dict[str, Any]]:
    """Statement rows summed by hand from the scenario's CDRs (credits count negative)."""
    sums: dict[tuple[str, str, str], dict[str, Any]] = {}
    for cdr in scenario.cdrs:
        day = cdr.day if period == "day" else cdr.day.replace(day=1)
        key = {"operator": cdr.operator, "site": cdr.site, "owner": cdr.owner}[group]
        row = sums.setdefault(
            (day.isoformat(), cdr.operator, key),
            {"sessions": 0, "credits": 0, "rebills": 0, "energy_wh": 0, "total": Decimal(0)},
        )
        row[{"bill": "sessions", "credit": "credits", "rebill": "rebills"}[cdr.kind]] += 1
        row["energy_wh"] += cdr.energy_wh
        row["total"] += cdr.total
    return [
        {
            "period": period_,
            "operator_id": operator_id,
            "key": key,
            **{k: v for k, v in row.items() if k != "total"},
            "total": f"{row['total']:.2f}",
        }
        for (period_, operator_id, key), row in sorted(sums.items())
    ]


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    keep = ("period", "operator_id", "key", "sessions", "credits", "rebills", "energy_wh", "total")
    return {k: row[k] for k in keep}


async def test_settlement_groups_and_reconciles_with_the_cdrs(csms: Running, api: Api) -> None:
    """Per day or month and per operator, site or owner: rows as summed by hand; the grand
    total is the plain sum of every CDR to the fen, and the statement says it balances."""
    scenario = await settlement_scenario(csms, api)
    records = await all_cdrs(api)
    assert [(c["kind"], c["total"]) for c in records] == [
        (e.kind, str(e.total)) for e in scenario.cdrs
    ]
    cdr_sum = sum((Decimal(c["total"]) for c in records), Decimal(0))
    assert cdr_sum == Decimal("41.42")  # 12.00 + 14.82 + 6.60 + 24.00 - 12.00 - 24.00 + 20.00
    span = {"since": scenario.first.isoformat(), "until": scenario.last.isoformat()}
    for period in ("day", "month"):
        for group in ("operator", "site", "owner"):
            r = await api.get(
                "/api/v1/settlement", params={**span, "period": period, "group": group}
            )
            assert r.status_code == 200, r.text
            statement = r.json()
            got = [comparable(row) for row in statement["rows"]]
            assert got == expected_rows(scenario, period, group), (period, group)
            totals = statement["totals"]
            assert Decimal(totals["total"]) == cdr_sum
            assert (totals["sessions"], totals["credits"], totals["rebills"]) == (4, 2, 1)
            assert totals["energy_wh"] == 37_846 and totals["energy_kwh"] == "37.846"
            reconciliation = statement["reconciliation"]
            assert reconciliation["balanced"] is True, reconciliation
            assert reconciliation["cdrs_not_adding_up"] == 0, reconciliation
            assert reconciliation["sessions_unaccounted"] == 0, reconciliation
            assert reconciliation["cdr_records"] == 7
            assert Decimal(reconciliation["cdr_total"]) == cdr_sum
    # The credited session's day nets to zero for its operator.
    by_day = await api.get("/api/v1/settlement", params={**span, "period": "day"})
    first = by_day.json()["rows"][0]
    assert (first["operator_id"], first["total"], first["energy_kwh"]) == ("op-a", "0.00", "0.000")
    # A range holding only the second day holds only its CDRs.
    day2 = {"since": scenario.last.isoformat(), "until": scenario.last.isoformat()}
    only = (await api.get("/api/v1/settlement", params=day2)).json()
    assert only["totals"]["total"] == "26.60"  # 6.60 + 24.00 - 24.00 + 20.00
    assert only["reconciliation"]["balanced"] is True


async def test_settlement_csv_has_a_header_rows_and_a_total(csms: Running, api: Api) -> None:
    """The CSV statement parses, its rows match the JSON ones, and TOTAL holds the grand total."""
    scenario = await settlement_scenario(csms, api)
    params = {
        "since": scenario.first.isoformat(),
        "until": scenario.last.isoformat(),
        "group": "site",
    }
    statement = (await api.get("/api/v1/settlement", params=params)).json()
    r = await api.get("/api/v1/settlement", params={**params, "format": "csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    header, *rows, total = list(csv.reader(io.StringIO(r.text)))
    assert header == CSV_HEADER
    assert [row[:3] for row in rows] == [
        [s["period"], s["operator_id"], s["key"]] for s in statement["rows"]
    ]
    assert [row[-1] for row in rows] == [s["total"] for s in statement["rows"]]
    assert total[0] == "TOTAL"
    assert total[CSV_HEADER.index("total")] == "41.42"
    assert total[CSV_HEADER.index("sessions")] == "4"
    assert total[CSV_HEADER.index("energy_kwh")] == "37.846"
    assert sum(Decimal(row[-1]) for row in rows) == Decimal("41.42")


async def test_settlement_refuses_until_before_since(api: Api) -> None:
    detail = refused(
        await api.get("/api/v1/settlement", params={"since": "2025-03-02", "until": "2025-03-01"})
    )
    assert "until is before since" in detail


# --- 5. credits and re-bills ----------------------------------------------------------------


async def test_a_bill_is_credited_once_and_a_credit_never(csms: Running, api: Api) -> None:
    """Crediting a credit or crediting a bill twice is 409; the bill itself never changes."""
    tx = await billed_session(csms, api, "CP-C")
    bill = await the_cdr(api, tx)
    assert bill["total"] == "12.00"  # 10.000 kWh x (0.6000 + 0.6000)
    credit = created(await api.post(f"/api/v1/cdrs/{bill['id']}/credit", json={"note": "n"}))
    assert (credit["kind"], credit["corrects"], credit["total"]) == ("credit", bill["id"], "-12.00")
    assert (credit["energy_wh"], credit["energy_money"], credit["service_money"]) == (
        -10_000,
        "-6.00",
        "-6.00",
    )
    detail = refused(
        await api.post(f"/api/v1/cdrs/{credit['id']}/credit", json={"note": "n"}), status=409
    )
    assert "is itself a credit" in detail
    detail = refused(
        await api.post(f"/api/v1/cdrs/{bill['id']}/credit", json={"note": "n"}), status=409
    )
    assert "already been credited" in detail
    assert await cdrs_of(api, tx) == [bill, credit]
    refused(await api.post("/api/v1/cdrs/999999/credit", json={"note": "n"}), status=404)
    # A credited session is billed again without a second credit; only once.
    again = await api.post(f"/api/v1/transactions/{tx}/rebill", json={"note": "n"})
    assert again.status_code == 201, again.text
    [rebill] = again.json()
    assert (rebill["kind"], rebill["corrects"], rebill["total"]) == ("rebill", bill["id"], "12.00")
    refused(await api.post(f"/api/v1/cdrs/{credit['id']}/credit", json={"note": "n"}), status=409)
    assert [c["kind"] for c in await cdrs_of(api, tx)] == ["bill", "credit", "rebill"]


async def test_a_rebill_leaves_three_records_summing_to_the_new_total(
    csms: Running, api: Api
) -> None:
    """Re-billing by another tariff: bill, its credit and the re-bill; /bill totals them."""
    tx = await billed_session(csms, api, "CP-R")
    created(await api.post("/api/v1/tariffs", json=flat_tariff("promo", "0.5000", "0.5000")))
    r = await api.post(
        f"/api/v1/transactions/{tx}/rebill",
        json={"note": "promo", "tariff_id": "promo", "tariff_version": 1},
    )
    credit, rebill = created(r)
    bill = (await api.get(f"/api/v1/transactions/{tx}/bill")).json()
    kinds = [(c["kind"], c["total"], c["corrects"]) for c in bill["cdrs"]]
    first = bill["cdrs"][0]["id"]
    # 12.00 (10 kWh x 1.2000) - 12.00 + 10.00 (10 kWh x 1.0000)
    assert kinds == [
        ("bill", "12.00", None),
        ("credit", "-12.00", first),
        ("rebill", "10.00", first),
    ]
    assert [c["id"] for c in bill["cdrs"][1:]] == [credit["id"], rebill["id"]]
    assert rebill["tariff"] == {"id": "promo", "version": 1}
    assert Decimal(bill["total"]) == Decimal("10.00")
    assert sum(Decimal(c["total"]) for c in bill["cdrs"]) == Decimal(bill["total"])


async def test_concurrent_credits_of_one_bill_credit_it_once(csms: Running, api: Api) -> None:
    """Racing credits of one bill: exactly one is filed, the others get 409."""
    tx = await billed_session(csms, api, "CP-X")
    bill = await the_cdr(api, tx)
    answers = await asyncio.gather(
        *(api.post(f"/api/v1/cdrs/{bill['id']}/credit", json={"note": "n"}) for _ in range(8))
    )
    assert sorted(r.status_code for r in answers) == [201] + [409] * 7, [r.text for r in answers]
    assert [c["kind"] for c in await cdrs_of(api, tx)] == ["bill", "credit"]


async def test_concurrent_rebills_of_one_session_file_one_correction(
    csms: Running, api: Api
) -> None:
    """Racing re-bills naming the bill they replace: one credit and one re-bill are filed,
    the rest 409 (a later re-bill of the re-bill is legitimate, so the request says which
    bill it corrects)."""
    tx = await billed_session(csms, api, "CP-Y")
    original = (await api.get(f"/api/v1/transactions/{tx}/bill")).json()["cdrs"][0]["id"]
    body = {"note": "n", "replaces": original}
    answers = await asyncio.gather(
        *(api.post(f"/api/v1/transactions/{tx}/rebill", json=body) for _ in range(6))
    )
    assert sorted(r.status_code for r in answers) == [201] + [409] * 5, [r.text for r in answers]
    bill = (await api.get(f"/api/v1/transactions/{tx}/bill")).json()
    assert [c["kind"] for c in bill["cdrs"]] == ["bill", "credit", "rebill"]
    assert bill["total"] == "12.00"  # re-billed by the same tariff: 12.00 - 12.00 + 12.00


# --- 6. the CDR hash chain ------------------------------------------------------------------


async def chained_records(csms: Running, api: Api) -> list[dict[str, Any]]:
    """Two billed sessions and a credit of the first: three records of one operator."""
    await add_station(api, "CP-H")
    await bill_network(api, flat_tariff())
    cp = await boot(csms, "CP-H")
    first = await charge(cp, local_time(2, 10), 10_000)
    await charge(cp, local_time(1, 10), 2_000)
    await cp.close()
    bill = await the_cdr(api, first)
    created(await api.post(f"/api/v1/cdrs/{bill['id']}/credit", json={"note": "n"}))
    return await all_cdrs(api)


async def test_cdrs_chain_by_hash_and_the_database_refuses_edits(csms: Running, api: Api) -> None:
    """Records get seq 1..n, each naming its predecessor's hash; UPDATE and DELETE fail."""
    records = await chained_records(csms, api)
    assert [c["seq"] for c in records] == [1, 2, 3]
    assert [c["prev_hash"] for c in records] == [None, records[0]["hash"], records[1]["hash"]]
    assert len({c["hash"] for c in records}) == 3
    assert {c["operator_id"] for c in records} == {"default"}
    verify = (await api.get("/api/v1/cdrs/verify", role="admin")).json()
    assert verify["ok"] is True, verify
    assert [(c["operator_id"], c["records"]) for c in verify["chains"]] == [("default", 3)]
    assert verify["chains"][0]["head_hash"] == records[-1]["hash"]
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
        await csms.pool.execute("UPDATE cdrs SET total = total + 1 WHERE id = $1", records[1]["id"])
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
        await csms.pool.execute("DELETE FROM cdrs WHERE id = $1", records[2]["id"])
    assert await all_cdrs(api) == records


async def test_an_edited_cdr_breaks_the_chain_for_api_and_cli(csms: Running, api: Api) -> None:
    """`csms cdr verify` exits 0 ("ok") on an intact chain; after an edit behind the trigger's
    back, both it (exit 1, BROKEN) and GET /cdrs/verify name the altered record's seq."""
    records = await chained_records(csms, api)
    code, out = await cli_verify(csms.database_url)
    assert code == 0, out
    assert "operator default: 3 records, chain ok" in out
    await tamper(csms, "UPDATE cdrs SET total = total + 1 WHERE id = $1", records[1]["id"])
    verify = (await api.get("/api/v1/cdrs/verify", role="admin")).json()
    assert verify["ok"] is False
    (chain,) = verify["chains"]
    assert chain["ok"] is False
    assert any(
        p.startswith(f"seq 2 (CDR {records[1]['id']})") and "altered" in p
        for p in chain["problems"]
    ), chain
    code, out = await cli_verify(csms.database_url)
    assert code == 1, out
    assert "chain BROKEN" in out and "seq 2" in out


async def test_a_deleted_last_cdr_is_detected(csms: Running, api: Api) -> None:
    """Removing the newest record leaves a chain that looks whole but is shorter than its head."""
    records = await chained_records(csms, api)
    await tamper(csms, "DELETE FROM cdrs WHERE id = $1", records[-1]["id"])
    verify = (await api.get("/api/v1/cdrs/verify", role="admin")).json()
    assert verify["ok"] is False
    (chain,) = verify["chains"]
    assert chain["records"] == 2
    assert any("ends at seq 2 but its head says 3" in p for p in chain["problems"]), chain
    code, out = await cli_verify(csms.database_url)
    assert code == 1 and "BROKEN" in out, out


# --- 7. roles -------------------------------------------------------------------------------


async def test_a_viewer_cannot_create_tariffs_but_an_operator_can(api: Api) -> None:
    detail = refused(
        await api.post("/api/v1/tariffs", role="viewer", json=flat_tariff()), status=403
    )
    assert "operator role" in detail
    assert (await api.get("/api/v1/tariffs")).json() == []
    created(await api.post("/api/v1/tariffs", role="operator", json=flat_tariff()))
    refused(
        await api.post(
            "/api/v1/tariffs/city/versions", role="viewer", json=version_body(flat_tariff())
        ),
        status=403,
    )
    assert len((await api.get("/api/v1/tariffs/city/versions", role="viewer")).json()) == 1
