"""Great-circle distance, the China box, WGS-84 <-> GCJ-02 and the nearest-point index."""

from __future__ import annotations

import random

import pytest

from csms.monitoring.geo import (
    KM_PER_DEGREE_LAT,
    PointIndex,
    gcj02_to_wgs84,
    haversine_km,
    in_china,
    wgs84_to_gcj02,
)

# Published test vectors of eviltransform (googollee/eviltransform, every port's test file):
# (wgs lat, wgs lon) -> (gcj lat, gcj lon).
EVILTRANSFORM_VECTORS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_VECTORS)
def test_wgs84_to_gcj02_matches_the_published_vectors(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [
        ((39.90734, 116.39128), (39.90874, 116.39752)),  # Tiananmen, as commonly quoted
        ((39.90734, 116.39089), (39.90874107, 116.39713094)),  # geoChina's test pair
    ],
)
def test_tiananmen_moves_about_600_metres(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-4)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_VECTORS)
def test_gcj02_to_wgs84_inverts_the_published_vectors(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    assert gcj02_to_wgs84(*gcj) == pytest.approx(wgs, abs=1e-6)


def test_round_trip_across_china_is_within_a_millionth_of_a_degree() -> None:
    rng = random.Random(7)
    for _ in range(500):
        lat, lon = rng.uniform(18.0, 53.0), rng.uniform(74.0, 135.0)
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
        assert back == pytest.approx((lat, lon), abs=1e-6)


@pytest.mark.parametrize(
    "point",
    [(48.8566, 2.3522), (-33.8688, 151.2093), (40.7128, -74.0060), (55.0, 120.0), (1.29, 103.85)],
)
def test_points_outside_china_are_unchanged(point: tuple[float, float]) -> None:
    assert not in_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


@pytest.mark.parametrize(
    ("lat", "lon", "inside"),
    [
        (39.33, 112.43, True),  # Shuozhou
        (3.0, 73.0, True),
        (54.0, 136.0, True),
        (2.99, 100.0, False),
        (54.01, 100.0, False),
        (30.0, 72.99, False),
        (30.0, 136.01, False),
    ],
)
def test_in_china_is_the_schema_box(lat: float, lon: float, inside: bool) -> None:
    assert in_china(lat, lon) is inside


def test_beijing_to_shanghai_is_about_1067_km() -> None:
    assert haversine_km(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1067, abs=5)


def test_haversine_basics() -> None:
    assert haversine_km(39.33, 112.43, 39.33, 112.43) == 0.0
    assert haversine_km(0, 0, 1, 0) == pytest.approx(KM_PER_DEGREE_LAT)
    assert haversine_km(39.0, 112.0, 40.0, 113.0) == pytest.approx(
        haversine_km(40.0, 113.0, 39.0, 112.0)
    )
    assert haversine_km(0, 0, 0, 180) == pytest.approx(KM_PER_DEGREE_LAT * 180)


def test_point_index_agrees_with_brute_force() -> None:
    rng = random.Random(11)
    points = [(rng.uniform(39.0, 40.3), rng.uniform(111.9, 113.6), i) for i in range(400)]
    index = PointIndex(points)
    assert len(index) == 400
    for _ in range(100):
        lat, lon = rng.uniform(38.8, 40.5), rng.uniform(111.7, 113.8)
        brute = min((haversine_km(lat, lon, p[0], p[1]), p[2]) for p in points)
        assert index.nearest(lat, lon) == pytest.approx(brute)
        near = {i for _, i in index.within(lat, lon, 8.0)}
        assert near == {p[2] for p in points if haversine_km(lat, lon, p[0], p[1]) <= 8.0}


def test_point_index_empty_and_single() -> None:
    empty: PointIndex[str] = PointIndex([])
    assert empty.nearest(39.0, 112.0) is None
    assert empty.within(39.0, 112.0, 50.0) == []
    one = PointIndex([(39.0, 112.0, "a")])
    km, item = one.nearest(40.0, 112.0) or (0.0, "")
    assert item == "a" and km == pytest.approx(KM_PER_DEGREE_LAT)
    assert one.within(40.0, 112.0, 111.0) == []
