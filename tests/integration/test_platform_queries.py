"""Queries a monitoring platform makes of the CSMS: token, stations, status, stats, prices,
and the refusals (4001 signature, 4002 token, 4003 envelope, 4004 business data)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from csms.bootstrap import Running
from csms.clock import utcnow
from csms.monitoring.registry_csv import COLUMNS
from csms.tcec.messages import station_code
from simulators.platform.client import PlatformClient
from simulators.platform.server import PlatformSimulator
from tests.conftest import Api, api_for
from tests.integration.test_billing_flow import two_band_tariff
from tests.ocpp_client import open_client
from tests.platform_support import add_platform, client_for, pushing_csms, sim_config

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

CST = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def queried(database_url: str) -> AsyncIterator[tuple[Running, Api]]:
    """A CSMS with one platform allowed to query it and a registered two-pile site."""
    async with (
        pushing_csms(database_url, platform_token_lifetime=60) as csms,
        api_for(csms) as api,
        PlatformSimulator(sim_config()) as sim,
    ):
        await add_platform(api, sim)
        header = ",".join(COLUMNS)
        rows = (
            "Q-AC,朔城区,北城街道,,朔城区客运站,transport_hub,朔州市朔城区开发南路1号,"
            "39.331,112.431,40,7AC,2025-03-02,public,,op,7",
            "Q-DC,朔城区,北城街道,,朔城区客运站,transport_hub,朔州市朔城区开发南路1号,"
            "39.332,112.432,40,120DC,2025-03-02,public,,op,120",
        )
        imported = await api.client.post(
            "/api/v1/registry/import",
            content="\n".join((header, *rows)).encode(),
            headers={**api.headers("operator"), "Content-Type": "text/csv"},
        )
        assert imported.status_code == 200, imported.text
        tariff = await api.post("/api/v1/tariffs", json=two_band_tariff(utcnow(), "policy"))
        assert tariff.status_code == 201, tariff.text
        assigned = await api.post(
            "/api/v1/tariff-assignments",
            json={
                "tariff_id": "policy",
                "scope": "network",
                "effective_from": "2020-01-01T00:00:00Z",
            },
        )
        assert assigned.status_code == 201, assigned.text
        yield csms, api


SITE = station_code("朔城区客运站", "Q-AC")


async def test_token_then_every_query(queried: tuple[Running, Api]) -> None:
    csms, _api = queried
    cp = await open_client(csms.ocpp_port, "Q-AC")
    await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    await cp.call(
        "StatusNotification",
        {"connectorId": 1, "status": "Charging", "errorCode": "NoError"},
    )
    async with client_for(csms) as client:
        token = await client.fetch_token()
        assert token["SuccStat"] == 0 and token["TokenAvailableTime"] == 60

        info = await client.query("query_stations_info", {"PageNo": 1, "PageSize": 10})
        assert info.ret == 0, info.msg
        assert info.data["ItemSize"] == 1 and info.data["PageCount"] == 1
        station = info.data["StationInfos"][0]
        assert station["StationID"] == SITE and station["AreaCode"] == "140602"
        piles = {e["EquipmentID"]: e for e in station["EquipmentInfos"]}
        assert piles["Q-AC"]["EquipmentType"] == 2 and piles["Q-DC"]["EquipmentType"] == 1

        status = await client.query("query_station_status", {"StationIDs": [SITE, "NOPE"]})
        assert status.ret == 0
        assert status.data["Total"] == 1
        connectors = status.data["StationStatusInfos"][0]["ConnectorStatusInfos"]
        assert {c["ConnectorID"]: c["Status"] for c in connectors} == {"Q-AC-1": 3}

        today = utcnow().astimezone(CST).date()
        stats = await client.query(
            "query_station_stats",
            {"StationID": SITE, "StartTime": str(today - timedelta(days=1)), "EndTime": str(today)},
        )
        assert stats.ret == 0 and stats.data["StationStats"]["StationID"] == SITE
        assert Decimal(str(stats.data["StationStats"]["StationElectricity"])) == 0

        policy = await client.query(
            "query_equip_business_policy", {"EquipBizSeq": "Q1", "ConnectorID": "Q-DC-1"}
        )
        assert policy.ret == 0 and policy.data["SuccStat"] == 0
        assert policy.data["SumPeriod"] == len(policy.data["PolicyInfos"]) >= 1
        first = policy.data["PolicyInfos"][0]
        assert first["StartTime"] == "000000" and "SevicePrice" in first
        unknown = await client.query(
            "query_equip_business_policy", {"EquipBizSeq": "Q2", "ConnectorID": "NOPE-1"}
        )
        assert unknown.data["SuccStat"] == 1 and unknown.data["FailReason"] == 1
    await cp.close()


async def test_a_site_without_an_address_is_left_out_not_the_query(
    queried: tuple[Running, Api],
) -> None:
    csms, api = queried
    header = "station_id,county,site_name,address,latitude,longitude,connectors,access_mode"
    rows = [
        "Q-NA,朔城区,无地址停车场,,39.34,112.44,60DC,public",  # no address: left out
        "Q-OK,应县,木塔景区,应县木塔东门,39.565,113.183,30DC,public",
    ]
    imported = await api.client.post(
        "/api/v1/registry/import",
        content="\n".join((header, *rows)).encode(),
        headers={**api.headers("operator"), "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    gap = station_code("无地址停车场", "Q-NA")
    why = "site '无地址停车场' has no address"
    async with client_for(csms) as client:
        await client.fetch_token()
        info = await client.query("query_stations_info", {"PageNo": 1, "PageSize": 1})
        # the two sites with an address are answered, one a page; the third is named in Msg
        assert info.ret == 0, info.msg
        assert (info.data["ItemSize"], info.data["PageCount"]) == (2, 2)
        assert info.msg == f"1 station left out for missing registry data: {gap}: {why}"
        second = await client.query("query_stations_info", {"PageNo": 2, "PageSize": 1})
        answered = {i["StationID"] for i in info.data["StationInfos"]} | {
            i["StationID"] for i in second.data["StationInfos"]
        }
        assert answered == {SITE, station_code("木塔景区", "Q-OK")}
    left_out = await api.get("/api/v1/registry/left-out")
    assert left_out.status_code == 200
    assert left_out.json() == [{"station_code": gap, "station_ids": ["Q-NA"], "reason": why}]
    # once the registry has its address, it is answered like the others
    fixed = await api.patch("/api/v1/stations/Q-NA/registry", json={"address": "开发北路9号"})
    assert fixed.status_code == 200, fixed.text
    assert (await api.get("/api/v1/registry/left-out")).json() == []
    async with client_for(csms) as client:
        await client.fetch_token()
        info = await client.query("query_stations_info", {"PageSize": 10})
        assert (info.ret, info.msg, info.data["ItemSize"]) == (0, "", 3)


async def test_refusals_carry_the_right_ret(queried: tuple[Running, Api]) -> None:
    csms, _api = queried
    async with client_for(csms) as client:
        # malformed envelopes: 4003
        code, body = await client.post_raw("query_stations_info", b"not json")
        assert code == 200 and body["Ret"] == 4003
        code, body = await client.post_raw("query_stations_info", {"OperatorID": "MA0PLAT01"})
        assert body["Ret"] == 4003
        # no token, a made-up token: 4002
        token = (await client.fetch_token())["AccessToken"]
        no_token = await _signed(client, "query_stations_info", None)
        assert no_token["Ret"] == 4002
        bad = await _signed(client, "query_stations_info", "made-up")
        assert bad["Ret"] == 4002
        # business data: 4004
        wrong = await client.query("query_station_status", {"StationIDs": "all"})
        assert wrong.ret == 4004 and wrong.msg
        too_many = await client.query("query_stations_info", {"PageSize": 5000})
        assert too_many.ret == 4004
        # a known token works
        fine = await _signed(client, "query_stations_info", token)
        assert fine["Ret"] == 0

    # a wrong signature key: 4001; a wrong secret: SuccStat 1, FailReason 2
    async with client_for(csms, sig_secret="not-the-secret") as forger:
        code, body = await forger.post_raw(
            "query_token", forger_envelope(forger, {"OperatorID": "MA0PLAT01"})
        )
        assert body["Ret"] == 4001
    async with client_for(csms, operator_secret="wrong") as guesser:
        answer = await guesser.query(
            "query_token", {"OperatorID": "MA0PLAT01", "OperatorSecret": "wrong"}
        )
        assert answer.ret == 0 and answer.data["SuccStat"] == 1
        assert answer.data["FailReason"] == 2
    # an unknown operator: 4003, unsigned (there are no keys to sign with)
    async with client_for(csms, platform_operator_id="MA0OTHER1") as stranger:
        code, body = await stranger.post_raw(
            "query_token", forger_envelope(stranger, {"OperatorID": "MA0OTHER1"})
        )
        assert body["Ret"] == 4003 and body["Sig"] == ""


async def test_an_expired_token_is_refused(database_url: str) -> None:
    async with (
        pushing_csms(database_url, platform_token_lifetime=60) as csms,
        api_for(csms) as api,
        PlatformSimulator(sim_config()) as sim,
    ):
        await add_platform(api, sim)
        async with client_for(csms) as client:
            token = (await client.fetch_token())["AccessToken"]
            assert (await _signed(client, "query_stations_info", token))["Ret"] == 0
            # expired on the CSMS clock, which decides (the database's may differ)
            await csms.pool.execute(
                "UPDATE platform_tokens SET expires_at = $1", utcnow() - timedelta(seconds=1)
            )
            assert (await _signed(client, "query_stations_info", token))["Ret"] == 4002


def forger_envelope(client: PlatformClient, data: dict[str, object]) -> dict[str, str]:
    from simulators.platform.codec import seal_request

    return dict(seal_request(client.platform_operator_id, data, client.keys, seq="0001"))


async def _signed(client: PlatformClient, method: str, token: str | None) -> dict[str, object]:
    """A correctly sealed request with the given token (or none)."""
    code, body = await client.post_raw(method, forger_envelope(client, {}), token)
    assert code == 200
    return dict(body)


async def test_a_tariff_imported_from_a_policy_is_what_platforms_are_told(
    queried: tuple[Running, Api],
) -> None:
    csms, api = queried
    infos = [
        {"StartTime": "000000", "ElecPrice": "0.3000", "SevicePrice": "0.4000"},
        {"StartTime": "080000", "ElecPrice": "0.9000", "ServicePrice": "0.8000"},
        {"StartTime": "220000", "ElecPrice": "0.3000", "ServicePrice": "0.4000"},
    ]
    created = await api.post(
        "/api/v1/tariffs/from-policy",
        json={
            "tariff_id": "imported",
            "name": "from the platform",
            "effective_from": "2020-01-01T00:00:00+08:00",
            "policy": {"SumPeriod": 3, "PolicyInfos": infos},
        },
    )
    assert created.status_code == 201, created.text
    assert set(created.json()["prices"]) == {"peak", "valley"}
    assigned = await api.post(
        "/api/v1/tariff-assignments",
        json={
            "tariff_id": "imported",
            "scope": "station",
            "target": "Q-DC",
            "effective_from": "2020-01-01T00:00:00Z",
        },
    )
    assert assigned.status_code == 201, assigned.text
    async with client_for(csms) as client:
        policy = await client.query(
            "query_equip_business_policy", {"EquipBizSeq": "Q3", "ConnectorID": "Q-DC-1"}
        )
    told = [
        (i["StartTime"], str(i["ElecPrice"]), str(i["SevicePrice"]))
        for i in policy.data["PolicyInfos"]
    ]
    assert told == [
        (i["StartTime"], i["ElecPrice"], i.get("SevicePrice") or i["ServicePrice"]) for i in infos
    ]
    five = [{"StartTime": f"{h:02d}0000", "ElecPrice": h, "SevicePrice": 1} for h in range(5)]
    refused = await api.post(
        "/api/v1/tariffs/from-policy",
        json={
            "tariff_id": "too-many",
            "name": "x",
            "effective_from": "2020-01-01T00:00:00Z",
            "policy": {"PolicyInfos": five},
        },
    )
    assert refused.status_code == 422 and "four bands" in refused.text
