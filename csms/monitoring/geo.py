"""Great-circle distance, the China bounding box, and WGS-84 <-> GCJ-02 ("Mars") coordinates.

Stations and places are stored in WGS-84 (what GNSS receivers report). Maps served inside China
(AMap, Tencent) draw GCJ-02, so the dashboard converts on the way out. The transform is the
widely published one (Krasovsky ellipsoid plus two polynomial offsets); its inverse has no closed
form and is solved by fixed-point iteration.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Generic, TypeVar

EARTH_RADIUS_KM = 6371.0088  # IUGG mean earth radius
KM_PER_DEGREE_LAT = EARTH_RADIUS_KM * math.pi / 180.0

# The schema's rough box for mainland China (places/stations CHECK constraints).
CHINA_LAT = (3.0, 54.0)
CHINA_LON = (73.0, 136.0)

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_STEPS = 30

T = TypeVar("T")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlam = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def in_china(lat: float, lon: float) -> bool:
    """True inside the schema's rough box for China (lat 3..54, lon 73..136)."""
    return CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LON[0] <= lon <= CHINA_LON[1]


def _offset_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 offset (dlat, dlon) in degrees at a WGS-84 point."""
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    radlat = math.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * math.sin(radlat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / (
        (_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi
    )
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrt_magic * math.cos(radlat) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """WGS-84 -> GCJ-02; points outside China are returned unchanged."""
    if not in_china(lat, lon):
        return lat, lon
    dlat, dlon = _gcj_delta(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 -> WGS-84 by iteration (error far below 1e-6 degrees); outside China unchanged."""
    if not in_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(_INVERSE_MAX_STEPS):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        elat, elon = glat - lat, glon - lon
        wlat, wlon = wlat - elat, wlon - elon
        if abs(elat) < _INVERSE_TOLERANCE_DEG and abs(elon) < _INVERSE_TOLERANCE_DEG:
            break
    return wlat, wlon


class PointIndex(Generic[T]):
    """Points kept sorted by latitude for nearest and within-radius queries.

    The search prunes on latitude alone, which is exact: a great-circle distance is at least
    R x |dlat|. A city's few thousand piles answer a query after looking at a few dozen.
    """

    def __init__(self, points: Iterable[tuple[float, float, T]]) -> None:
        self._points = sorted(points, key=lambda p: p[0])
        self._lats = [p[0] for p in self._points]

    def __len__(self) -> int:
        return len(self._points)

    def nearest(self, lat: float, lon: float) -> tuple[float, T] | None:
        """The closest point as (km, item), or None when the index is empty."""
        best: tuple[float, T] | None = None
        lo = bisect.bisect_left(self._lats, lat) - 1
        hi = lo + 1
        while lo >= 0 or hi < len(self._points):
            gap_lo = (lat - self._lats[lo]) * KM_PER_DEGREE_LAT if lo >= 0 else math.inf
            gap_hi = (
                (self._lats[hi] - lat) * KM_PER_DEGREE_LAT if hi < len(self._lats) else math.inf
            )
            if best is not None and min(gap_lo, gap_hi) > best[0]:
                break
            if gap_lo <= gap_hi:
                index, lo = lo, lo - 1
            else:
                index, hi = hi, hi + 1
            plat, plon, item = self._points[index]
            km = haversine_km(lat, lon, plat, plon)
            if best is None or km < best[0]:
                best = (km, item)
        return best

    def within(self, lat: float, lon: float, km: float) -> list[tuple[float, T]]:
        """Every point no farther than km, as (km, item), nearest first."""
        span = km / KM_PER_DEGREE_LAT + 1e-9
        lo = bisect.bisect_left(self._lats, lat - span)
        hi = bisect.bisect_right(self._lats, lat + span)
        found = []
        for plat, plon, item in self._points[lo:hi]:
            distance = haversine_km(lat, lon, plat, plon)
            if distance <= km:
                found.append((distance, item))
        found.sort(key=lambda hit: hit[0])
        return found
