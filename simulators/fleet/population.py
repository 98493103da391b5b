"""Which stations a scenario runs: ids, versions, charger types and counties, in exact shares.

Shares are turned into whole numbers by the largest-remainder method, so 20 stations at 50/50
are exactly 10 and 10, and every run of a scenario with the same seed builds the same fleet.
Pure.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from simulators.fleet.scenario import Scenario


@dataclass(frozen=True, slots=True)
class StationSpec:
    index: int
    station_id: str
    version: str
    kind: str
    evses: int
    county: str | None = None


def apportion(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split `total` by `weights` into whole numbers that add up to `total`."""
    positive = {k: w for k, w in weights.items() if w > 0}
    scale = sum(positive.values())
    if total < 0 or scale <= 0:
        raise ValueError("need a non-negative total and some positive weight")
    exact = {k: total * w / scale for k, w in positive.items()}
    counts = {k: math.floor(v) for k, v in exact.items()}
    left = total - sum(counts.values())
    for key in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), k))[:left]:
        counts[key] += 1
    return counts


def _spread(counts: dict[str, int], rng: random.Random) -> list[str]:
    """The labels, each as often as counted, in a seeded random order."""
    labels = [label for label, n in counts.items() for _ in range(n)]
    rng.shuffle(labels)
    return labels


def plan_stations(scenario: Scenario) -> list[StationSpec]:
    rng = random.Random(scenario.seed)
    n = scenario.stations
    versions = _spread(apportion(n, scenario.versions), rng)
    mixes = {mix.kind: mix for mix in scenario.chargers}
    kinds = _spread(apportion(n, {mix.kind: mix.share for mix in scenario.chargers}), rng)
    prefix = scenario.id_prefix
    if scenario.counties:
        by_code = {c.code: c for c in scenario.counties}
        codes = _spread(apportion(n, {c.code: c.weight for c in scenario.counties}), rng)
        numbers: dict[str, int] = {}
        ids = []
        for code in codes:
            numbers[code] = numbers.get(code, 0) + 1
            ids.append((f"{prefix}-{code}-{numbers[code]:04d}", by_code[code].name))
    else:
        ids = [(f"{prefix}-{i + 1:05d}", "") for i in range(n)]
    return [
        StationSpec(
            index=i,
            station_id=station_id,
            version=versions[i],
            kind=kinds[i],
            evses=mixes[kinds[i]].evses,
            county=county or None,
        )
        for i, (station_id, county) in enumerate(ids)
    ]
