"""Values the API fuzz (test_api_fuzz.py) found answered 500: each class now gets a 422 that
names the field, and nothing is stored.

Classes: days at the ends of Python's calendar (0001-01-01, 9999-12-31), which fell off it when
moved to another offset or to the next midnight; integers beyond PostgreSQL int4; NUL in the
keys of a JSON object (jsonb refuses it like text); null for a platform field that must have a
value.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.integration.test_api_routes import PLATFORM, TARIFF, invalid, problem

EDGE_DAYS = ("0001-01-01", "9999-12-31", "1899-12-31")
EDGE_MOMENTS = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z")


async def test_days_off_the_calendar_are_refused(api: Api) -> None:
    for day in EDGE_DAYS:
        for path, params, field in (
            ("/api/v1/settlement", {"since": day, "until": day}, "query.since"),
            ("/api/v1/monitoring/utilization", {"since": day, "until": day}, "query.since"),
            ("/api/v1/monitoring/progress", {"on": day}, "query.on"),
        ):
            invalid(await api.get(path, params=params), field)
        rollup = {"since": day, "until": day}
        invalid(await api.post("/api/v1/monitoring/utilization/rollup", json=rollup), "body.since")
        schedule = {"effective_from": day, "windows": []}
        invalid(await api.post("/api/v1/units/ANY/schedules", json=schedule), "body.effective_from")


async def test_moments_off_the_calendar_are_refused(api: Api) -> None:
    for moment in EDGE_MOMENTS:
        invalid(await api.get("/api/v1/transactions", params={"since": moment}), "query.since")
        invalid(await api.get("/api/v1/cdrs", params={"until": moment}), "query.until")
        token = {"id_token": "EDGE-T", "expires_at": moment}
        invalid(await api.post("/api/v1/tokens", json=token), "body.expires_at")
        tariff = {"tariff_id": "EDGE-TF", **TARIFF, "effective_to": moment}
        invalid(await api.post("/api/v1/tariffs", json=tariff), "body.effective_to")
    assert (await api.get("/api/v1/tokens/EDGE-T")).status_code == 404
    assert (await api.get("/api/v1/tariffs/EDGE-TF")).status_code == 404


async def test_the_last_accepted_days_still_work(api: Api) -> None:
    """The bounds refuse only what cannot be computed with: 1900-01-01 and 9998-12-31 pass."""
    r = await api.get("/api/v1/settlement", params={"since": "9998-12-31", "until": "9998-12-31"})
    assert r.status_code == 200, r.text
    first = {"since": "1900-01-01", "until": "1900-01-01"}
    r = await api.get("/api/v1/monitoring/utilization", params=first)
    assert r.status_code == 200, r.text
    token = {"id_token": "LATE-T", "expires_at": "9998-12-31T23:59:59-14:00"}
    assert (await api.post("/api/v1/tokens", json=token)).status_code == 201


async def test_rebill_tariff_version_beyond_int4_is_refused(api: Api) -> None:
    for version in (2**31, 2**63):
        body = {"note": "n", "tariff_id": "ANY", "tariff_version": version}
        invalid(await api.post("/api/v1/transactions/1/rebill", json=body), "body.tariff_version")


NUL_KEYED: list[dict[str, Any]] = [
    {"\u0000": 1},
    {"ok": {"a\u0000b": "c"}},
    {"list": [{"\u0000": None}]},
]


async def test_nul_in_a_json_key_is_refused(api: Api) -> None:
    assert (await api.post("/api/v1/stations", json={"id": "NUL-KEY"})).status_code == 201
    for payload in NUL_KEYED:
        r = await api.post("/api/v1/stations/NUL-KEY/ocpp/DataTransfer", json=payload)
        problem(r, 422, "invalid_input")
        policy = {
            "tariff_id": "NUL-POLICY",
            "name": "n",
            "effective_from": "2020-01-01T00:00:00+08:00",
            "policy": {"PolicyInfos": [], **payload},
        }
        problem(await api.post("/api/v1/tariffs/from-policy", json=policy), 422)
    assert (await api.get("/api/v1/commands", params={"station_id": "NUL-KEY"})).json() == []


async def test_platform_patch_with_null_for_a_required_field_is_refused(api: Api) -> None:
    assert (await api.post("/api/v1/platforms", role="admin", json=PLATFORM)).status_code == 201
    path = f"/api/v1/platforms/{PLATFORM['id']}"
    for field in ("enabled", "name", "base_url", "kinds", "methods", "spelling"):
        detail = invalid(await api.patch(path, role="admin", json={field: None}))
        assert field in str(detail), detail
    platform = (await api.get(path, role="admin")).json()
    assert platform["name"] == PLATFORM["name"] and platform["enabled"] is True, platform
    # leaving the field out keeps it; a value replaces it
    r = await api.patch(path, role="admin", json={"name": "renamed"})
    assert r.status_code == 200 and r.json()["name"] == "renamed", r.text


async def test_months_off_the_calendar_are_refused(api: Api) -> None:
    for month in ("0000-01", "0001-01", "1899-12", "9999-12"):
        for method, path in (
            ("GET", f"/api/v1/reports/monthly/{month}"),
            ("POST", f"/api/v1/reports/monthly/{month}"),
            ("GET", f"/api/v1/reports/monthly/{month}/versions/1"),
        ):
            r = await api.client.request(method, path, headers=api.headers("operator"))
            assert "1900-01 and 9998-12" in problem(r, 422, "invalid_input"), (path, r.text)
    assert (await api.get("/api/v1/reports/monthly")).json() == []


async def test_report_versions_beyond_int4_do_not_exist(api: Api) -> None:
    for version in (2**31, 2**63, 10**30, -(2**63) - 1):
        r = await api.get(f"/api/v1/reports/monthly/2025-06/versions/{version}")
        problem(r, 404, "not_found")
