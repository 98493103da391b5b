"""`csms-sim demo city`: register a plausible Shuozhou network through the operator API, then run
the city-day fleet against it, so the dashboard and the monthly report have something to show.

Everything registered here is synthetic demo data (county seats are approximate public
positions; townships, sites and reference places are invented and named as such). It talks to
the CSMS only over its public interfaces: HTTP for the registry, OCPP for the stations.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from simulators.fleet.population import StationSpec, plan_stations
from simulators.fleet.scenario import Scenario

# The environment variable the operator API key may come in (`csms demo` sets it: a key on the
# command line is readable by every local user through `ps`).
KEY_ENV = "CSMS_SIM_KEY"

# Approximate county seats (WGS-84) of Shuozhou's six counties; the demo scatters around them.
SEATS: dict[str, tuple[float, float]] = {
    "朔城区": (39.331, 112.432),
    "平鲁区": (39.512, 112.288),
    "山阴县": (39.527, 112.816),
    "应县": (39.554, 113.191),
    "右玉县": (39.989, 112.466),
    "怀仁市": (39.821, 113.100),
}
# 2025 EV fleet per county, scaled from the plan's 25,000 EVs by its pile weights (demo).
EV_WEIGHTS = {
    "朔城区": 941,
    "平鲁区": 244,
    "怀仁市": 580,
    "山阴县": 325,
    "应县": 395,
    "右玉县": 143,
}
CONNECTORS = {"ac7": "7AC", "ac11": "11AC", "ac22": "22AC", "dc60": "60DC", "dc120": "120DC"}
CATEGORIES = (
    ("urban_public_parking", 0.35),
    ("commercial", 0.15),
    ("transport_hub", 0.08),
    ("residential_community", 0.15),
    ("government_enterprise_internal", 0.07),
    ("highway_service_area", 0.05),
    ("trunk_road_parking", 0.05),
    ("scenic_a", 0.04),
    ("tourist_road_post", 0.03),
    ("bus_depot", 0.03),
)
BASELINE = date(2024, 6, 9)


@dataclass(frozen=True, slots=True)
class Demo:
    api: str
    key: str


def _request(demo: Demo, method: str, path: str, body: bytes, content_type: str) -> Any:
    request = urllib.request.Request(
        demo.api.rstrip("/") + path,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {demo.key}", "Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        if error.code == 409:  # already there from an earlier demo run
            return None
        raise RuntimeError(f"{method} {path}: HTTP {error.code}: {detail[:2000]}") from None
    return json.loads(text) if text else None


def _jitter(rng: random.Random, seat: tuple[float, float], spread: float) -> tuple[float, float]:
    return (
        round(seat[0] + rng.uniform(-spread, spread), 6),
        round(seat[1] + rng.uniform(-spread, spread), 6),
    )


def _township(county: str, n: int) -> str:
    return f"{county}示范乡镇{n}"


def registry_csv(specs: list[StationSpec], rng: random.Random, today: date) -> str:
    """The fleet's stations as a registry import (same ids the simulated stations use)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["station_id", "county", "township", "village", "site_name", "site_category",
         "address", "latitude", "longitude", "parking_spaces", "connectors",
         "commissioned_on", "access_mode", "owner_unit", "operator_id", "rated_power_kw"]
    )  # fmt: skip
    site_of: dict[str, tuple[str, str, int]] = {}
    for spec in specs:
        county = spec.county or "朔城区"
        category = rng.choices([c for c, _ in CATEGORIES], [w for _, w in CATEGORIES])[0]
        n = rng.randint(1, 12)
        site = f"{county}示范站点{n}-{category}"
        if site not in site_of:
            site_of[site] = (site, category, rng.randint(20, 200))
        lat, lon = _jitter(rng, SEATS[county], 0.12)
        kind = CONNECTORS.get(spec.kind, "7AC")
        span = (today - date(2023, 6, 1)).days
        commissioned = date(2023, 6, 1) + timedelta(days=rng.randint(0, max(span, 1)))
        writer.writerow(
            [spec.station_id, county, _township(county, rng.randint(1, 12)), "",
             site, category, f"{county} 演示地址", lat, lon, site_of[site][2],
             ";".join([kind] * spec.evses), commissioned.isoformat(), "public", "",
             "demo-operator", ""]
        )  # fmt: skip
    return out.getvalue()


def places(rng: random.Random) -> list[dict[str, Any]]:
    """Reference places the plan counts: 69 township seats, 12 highway service areas, 13
    trunk-road parking areas, posts and camps of the Great Wall No.1 road, urban points."""
    out: list[dict[str, Any]] = []
    counties = list(SEATS)
    for i in range(69):
        county = counties[i % len(counties)]
        n = i // len(counties) + 1
        lat, lon = _jitter(rng, SEATS[county], 0.25)
        name = _township(county, n)
        out.append(
            {
                "kind": "township_seat",
                "name": name,
                "county": county,
                "township": name,
                "latitude": lat,
                "longitude": lon,
            }
        )
    for kind, count, spread in (
        ("highway_service_area", 12, 0.35),
        ("trunk_road_parking", 13, 0.35),
        ("tourist_road_post", 8, 0.3),
        ("rv_camp", 4, 0.3),
        ("urban_core", 6, 0.03),
        ("urban_outer", 6, 0.08),
    ):
        for i in range(count):
            county = counties[i % len(counties)]
            lat, lon = _jitter(rng, SEATS[county], spread)
            place: dict[str, Any] = {
                "kind": kind,
                "name": f"{county}示范{kind}{i + 1}",
                "county": county,
                "latitude": lat,
                "longitude": lon,
            }
            if kind == "highway_service_area":
                place["small_car_spaces"] = rng.randint(60, 200)
            out.append(place)
    return out


def ev_registrations(today: date) -> list[dict[str, Any]]:
    total = sum(EV_WEIGHTS.values())
    return [
        {"county": county, "as_of": today.isoformat(), "evs": round(25_000 * w / total)}
        for county, w in EV_WEIGHTS.items()
    ]


TARIFF = {
    "tariff_id": "demo-city",
    "name": "演示分时电价 Demo time-of-use tariff",
    "effective_from": "2024-01-01T00:00:00+08:00",
    "prices": {
        "peak": {"energy": "0.9000", "service": "0.8000"},
        "flat": {"energy": "0.6000", "service": "0.6000"},
        "valley": {"energy": "0.3000", "service": "0.4000"},
    },
    "plans": [
        {
            "periods": [
                {"start": "00:00", "end": "07:00", "band": "valley"},
                {"start": "07:00", "end": "10:00", "band": "flat"},
                {"start": "10:00", "end": "12:00", "band": "peak"},
                {"start": "12:00", "end": "18:00", "band": "flat"},
                {"start": "18:00", "end": "23:00", "band": "peak"},
                {"start": "23:00", "end": "24:00", "band": "valley"},
            ]
        }
    ],
}


async def register(demo: Demo, scenario: Scenario, today: date) -> int:
    """Register the demo network; returns how many stations were imported."""
    rng = random.Random(scenario.seed)
    specs = plan_stations(scenario)

    def call(method: str, path: str, payload: Any, content_type: str = "application/json") -> Any:
        body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        return _request(demo, method, path, body, content_type)

    imported = await asyncio.to_thread(
        call, "POST", "/api/v1/registry/import", registry_csv(specs, rng, today), "text/csv"
    )
    await asyncio.to_thread(call, "POST", "/api/v1/places/import", places(rng))
    await asyncio.to_thread(call, "PUT", "/api/v1/ev-registrations", ev_registrations(today))
    await asyncio.to_thread(call, "POST", "/api/v1/tariffs", TARIFF)
    assignment = {"tariff_id": "demo-city", "scope": "network", "effective_from": TARIFF[
        "effective_from"]}  # fmt: skip
    await asyncio.to_thread(call, "POST", "/api/v1/tariff-assignments", assignment)
    return int((imported or {}).get("imported", len(specs)))


def add_demo_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "demo",
        help="register a demo network through the API, then run its fleet",
        description="city: register a plausible (synthetic) Shuozhou network — stations across "
        "the six counties, reference places, EV registrations, a tariff — through the "
        "operator API, then run the city-day fleet against it.",
    )
    p.add_argument("what", choices=["city"])
    p.add_argument("--url", required=True, help="OCPP endpoint, e.g. ws://127.0.0.1:9000/ocpp")
    p.add_argument("--api", required=True, help="HTTP API base, e.g. http://127.0.0.1:8000")
    p.add_argument(
        "--key",
        default=None,
        help=f"an operator (or admin) API key; better in ${KEY_ENV}, which keeps it off the "
        "command line (and out of `ps`)",
    )
    p.add_argument("--stations", type=int, default=120, help="stations (default 120)")
    p.add_argument("--duration", type=float, default=180, help="seconds of compressed day")
    p.add_argument("--register-only", action="store_true", help="register, do not run the fleet")


def api_key(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> str | None:
    """The operator API key: --key, else $CSMS_SIM_KEY (how `csms demo` hands it over)."""
    return args.key or environ.get(KEY_ENV) or None


async def run_demo(args: argparse.Namespace) -> int:
    """Register the network, then run the fleet exactly as `csms-sim fleet` would."""
    key = api_key(args)
    if key is None:
        print(f"csms-sim demo: no API key: set {KEY_ENV} (or give --key)", file=sys.stderr)
        return 2
    from simulators.cli import build_parser
    from simulators.fleet.cli import apply_overrides, run_fleet_command
    from simulators.fleet.scenario import load

    fleet_args = build_parser().parse_args(
        ["fleet", "--url", args.url, "--scenario", "city-day",
         "--stations", str(args.stations), "--duration", str(args.duration),
         "--progress", "plain"]
    )  # fmt: skip
    # The same scenario the fleet will run, so the registered ids are the ones that connect.
    scenario = apply_overrides(load("city-day"), fleet_args)
    try:
        count = await register(Demo(args.api, key), scenario, date.today())
    except (RuntimeError, OSError) as exc:
        print(f"csms-sim demo: registering the network failed: {exc}", file=sys.stderr)
        return 1
    print(f"registered {count} stations, places, EV registrations and a tariff", flush=True)
    if args.register_only:
        return 0
    return await run_fleet_command(fleet_args)
