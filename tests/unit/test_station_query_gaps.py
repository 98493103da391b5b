"""The platforms' station query: a site the registry cannot describe is left out and named; the
others are answered."""

from __future__ import annotations

from decimal import Decimal

import pytest

from csms.services.platform_queries import Gap, gaps_msg, station_infos
from csms.tcec.messages import ConnectorFacts, PileFacts, SiteFacts, station_code


def site(
    name: str | None,
    station_id: str,
    *,
    address: str | None = "朔州市开发南路1号",
    current: str | None = "DC",
    county: str | None = "朔城区",
) -> SiteFacts:
    pile = PileFacts(
        station_id=station_id,
        vendor=None,
        model=None,
        rated_power_kw=Decimal(60),
        commissioned_on=None,
        latitude=39.33,
        longitude=112.43,
        connectors=(ConnectorFacts(1, 1, Decimal(60), current),),
    )
    return SiteFacts(
        site_name=name,
        county=county,
        address=address,
        latitude=None,
        longitude=None,
        category="transport_hub",
        parking_spaces=40,
        access_mode="public",
        open_=True,
        piles=(pile,),
    )


@pytest.mark.parametrize(
    ("sites", "answered", "left_out"),
    [
        ([site("A", "P-1"), site("B", "P-2")], ["P-1", "P-2"], []),
        # one site without an address: the other is still answered
        (
            [site("A", "P-1"), site("B", "P-2", address=None)],
            ["P-1"],
            [Gap(station_code("B", "P-2"), ("P-2",), "site 'B' has no address")],
        ),
        (
            [site(None, "P-3", address="  "), site("C", "P-4", current=None)],
            [],
            [
                Gap(station_code(None, "P-3"), ("P-3",), "site 'P-3' has no address"),
                Gap(
                    station_code("C", "P-4"),
                    ("P-4",),
                    "connector P-4-1: the registry does not say whether it is AC or DC",
                ),
            ],
        ),
        (
            [site("D", "P-5", county=None), site("E", "P-6")],
            ["P-6"],
            [
                Gap(
                    station_code("D", "P-5"),
                    ("P-5",),
                    "the site has no county, so no GB/T 2260 area code",
                )
            ],
        ),
    ],
)
def test_station_infos_leave_out_what_cannot_be_described(
    sites: list[SiteFacts], answered: list[str], left_out: list[Gap]
) -> None:
    infos, gaps = station_infos(sites, operator_id="MA0CSMS01", service_tel=None)
    assert [i["EquipmentInfos"][0]["EquipmentID"] for i in infos] == answered
    assert all(i["OperatorID"] == "MA0CSMS01" for i in infos)
    assert gaps == left_out


def gap(n: int) -> Gap:
    return Gap(f"S{n}", (f"P-{n}",), "no address")


@pytest.mark.parametrize(
    ("gaps", "msg"),
    [
        ([], ""),
        ([gap(1)], "1 station left out for missing registry data: S1: no address"),
        (
            [gap(n) for n in range(1, 8)],
            "7 stations left out for missing registry data: S1: no address; S2: no address; "
            "S3: no address; S4: no address; S5: no address; and 2 more",
        ),
    ],
)
def test_gaps_msg(gaps: list[Gap], msg: str) -> None:
    assert gaps_msg(gaps) == msg
