"""A day of charging demand compressed into a run: when cars arrive, hour by hour.

The run's elapsed fraction maps onto a 24-hour clock starting at `start_hour`; the weight of
that hour (relative to the busiest hour) scales how often a free EVSE gets its next car. Pure.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Arrivals at public chargers in a mid-sized northern Chinese city: quiet night except the
# cheap-tariff taxi peak after midnight, a late-morning peak and the evening commute.
# Illustrative; a scenario may give its own 24 weights.
CITY_DAY = (
    0.35, 0.40, 0.30, 0.15, 0.10, 0.10, 0.20, 0.45, 0.65, 0.70, 0.80, 0.95,
    1.00, 0.90, 0.70, 0.60, 0.65, 0.85, 0.95, 0.90, 0.75, 0.60, 0.50, 0.40,
)  # fmt: skip
MIN_WEIGHT = 0.02  # never wait forever, even in the quietest hour


@dataclass(frozen=True, slots=True)
class DailyProfile:
    hours: tuple[float, ...]
    start_hour: float = 0.0

    def __post_init__(self) -> None:
        if len(self.hours) != 24 or any(h < 0 for h in self.hours) or max(self.hours) <= 0:
            raise ValueError("a daily profile is 24 non-negative weights, not all 0")

    def hour_at(self, fraction: float) -> float:
        """The simulated clock hour when `fraction` of the run has passed."""
        return (self.start_hour + 24.0 * min(max(fraction, 0.0), 1.0)) % 24.0

    def weight_at(self, fraction: float) -> float:
        """Demand at that point of the run, relative to the busiest hour (0..1]."""
        peak = max(self.hours)
        return max(MIN_WEIGHT, self.hours[int(self.hour_at(fraction)) % 24] / peak)

    def next_gap(self, fraction: float, mean_gap_at_peak: float, rng: random.Random) -> float:
        """Seconds until the next car at a free EVSE: exponential, slower in quiet hours."""
        mean = mean_gap_at_peak / self.weight_at(fraction)
        return rng.expovariate(1.0 / mean) if mean > 0 else 0.0
