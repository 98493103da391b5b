"""Plausible cars and cards: random but seeded, so a run can be repeated."""

from __future__ import annotations

import random

from simulators.meter import ChargerKind, Vehicle


def random_vehicle(kind: ChargerKind, rng: random.Random) -> Vehicle:
    """A car that would use this charger: a commuter on AC, a taxi or fleet car on DC."""
    if kind.is_dc:
        return Vehicle(
            capacity_wh=rng.choice((50_000, 60_000, 75_000, 90_000)),
            soc=round(rng.uniform(0.1, 0.5), 3),
            target_soc=round(rng.uniform(0.8, 0.95), 3),
            max_ac_w=11_000,
            max_dc_w=rng.choice((60_000, 90_000, 120_000, 150_000)),
        )
    return Vehicle(
        capacity_wh=rng.choice((40_000, 52_000, 60_000, 77_000)),
        soc=round(rng.uniform(0.2, 0.6), 3),
        target_soc=round(rng.uniform(0.85, 1.0), 3),
        max_ac_w=rng.choice((6_600, 7_400, 11_000)),
        max_dc_w=60_000,
    )


def random_id_tag(rng: random.Random) -> str:
    """A 7-byte ISO 14443 card UID as 14 hex digits (fits 1.6 idTag, CiString20)."""
    return f"{rng.getrandbits(56):014X}"
