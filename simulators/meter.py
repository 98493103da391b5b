"""The energy meter and the power an EV draws: a pure model advanced by elapsed time.

AC: the on-board charger draws a constant power (the lower of the EVSE's rating and the car's
on-board charger) after a short ramp, tapering only in the last few percent of state of charge.
DC: after cable check and pre-charge the car draws constant current (CC) up to a knee in state
of charge, then constant voltage (CV): the power tapers towards the full battery.
A charging limit (smart charging) caps whichever is lower. The register only ever grows, and
energy is the integral of power over real time, so readings stay physically plausible
(energy <= rated power x duration), which is what a CSMS's metering rules check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ChargerKind:
    """What an EVSE can deliver."""

    name: str
    current: str  # "AC" or "DC"
    rated_w: int
    phases: int  # AC supply phases (DC: 3, the grid side)
    nominal_voltage: float  # AC phase voltage; DC nominal battery voltage for A<->W limits

    @property
    def is_dc(self) -> bool:
        return self.current == "DC"

    def amps_to_watts(self, amps: float, phases: int | None = None) -> float:
        """A current limit (smart charging 'A') as power."""
        if self.is_dc:
            return amps * self.nominal_voltage
        return amps * self.nominal_voltage * (phases or self.phases)

    def watts_to_amps(self, watts: float, phases: int | None = None) -> float:
        if self.is_dc:
            return watts / self.nominal_voltage
        return watts / (self.nominal_voltage * (phases or self.phases))


# The plan's typical piles: 7 kW AC (single phase, 32 A), 60 and 120 kW DC.
KINDS: dict[str, ChargerKind] = {
    "ac7": ChargerKind("ac7", "AC", 7000, 1, 230.0),
    "ac11": ChargerKind("ac11", "AC", 11000, 3, 230.0),
    "ac22": ChargerKind("ac22", "AC", 22000, 3, 230.0),
    "dc30": ChargerKind("dc30", "DC", 30000, 3, 400.0),
    "dc60": ChargerKind("dc60", "DC", 60000, 3, 400.0),
    "dc120": ChargerKind("dc120", "DC", 120000, 3, 400.0),
    "dc180": ChargerKind("dc180", "DC", 180000, 3, 400.0),
}

AC_RAMP_S = 3.0  # contactor closed -> the car's on-board charger at full power
DC_RAMP_S = 10.0  # cable check and pre-charge, then current ramps up
DC_KNEE_SOC = 0.8  # CC -> CV
DC_TAIL_FRACTION = 0.1  # CV tapers towards this share of peak power at 100 %
AC_TAPER_SOC = 0.95
MAX_STEP_S = 1.0  # integration step


@dataclass(frozen=True, slots=True)
class Vehicle:
    """The car's side: battery and what it accepts."""

    capacity_wh: int = 60_000
    soc: float = 0.3  # at plug-in
    target_soc: float = 0.9  # the car stops asking for power here (SuspendedEV)
    max_ac_w: int = 7_400
    max_dc_w: int = 120_000

    def __post_init__(self) -> None:
        if not 0 <= self.soc <= 1 or not 0 < self.target_soc <= 1:
            raise ValueError("state of charge is a fraction in [0, 1]")
        if self.capacity_wh <= 0:
            raise ValueError("battery capacity must be positive")


def demanded_power(kind: ChargerKind, vehicle: Vehicle, soc: float, elapsed_s: float) -> float:
    """Watts the car would draw at `soc`, `elapsed_s` after charging began (no external limit)."""
    if soc >= vehicle.target_soc or soc >= 1.0:
        return 0.0
    if kind.is_dc:
        peak = float(min(kind.rated_w, vehicle.max_dc_w))
        if soc > DC_KNEE_SOC:
            # CV: current falls as the cell voltage reaches its maximum.
            share = (soc - DC_KNEE_SOC) / (1.0 - DC_KNEE_SOC)
            peak *= 1.0 - share * (1.0 - DC_TAIL_FRACTION)
        ramp = DC_RAMP_S
    else:
        peak = float(min(kind.rated_w, vehicle.max_ac_w))
        if soc > AC_TAPER_SOC:
            peak *= max(0.0, (1.0 - soc) / (1.0 - AC_TAPER_SOC))
        ramp = AC_RAMP_S
    if elapsed_s < ramp:
        peak *= max(0.0, elapsed_s) / ramp
    return peak


@dataclass(slots=True)
class ChargingModel:
    """One charging session's physics: advanced by real elapsed seconds, never backwards."""

    kind: ChargerKind
    vehicle: Vehicle
    soc: float = field(init=False)
    elapsed_s: float = 0.0
    power_w: float = 0.0
    energy_wh: float = 0.0

    def __post_init__(self) -> None:
        self.soc = self.vehicle.soc

    @property
    def full(self) -> bool:
        """The car has what it wanted and draws nothing (1.6 SuspendedEV)."""
        return self.soc >= self.vehicle.target_soc - 1e-9

    def advance(self, seconds: float, limit_w: float | None = None) -> float:
        """Charge for `seconds` under `limit_w` (None = no limit); return the Wh delivered."""
        if seconds < 0:
            raise ValueError("time does not run backwards")
        delivered = 0.0
        remaining = seconds
        while remaining > 1e-12:
            step = min(MAX_STEP_S, remaining)
            # midpoint rule: good enough for ramps, exact for constant power
            mid = demanded_power(self.kind, self.vehicle, self.soc, self.elapsed_s + step / 2)
            if limit_w is not None:
                mid = min(mid, max(0.0, limit_w))
            wh = mid * step / 3600.0
            room = (self.vehicle.target_soc - self.soc) * self.vehicle.capacity_wh
            wh = max(0.0, min(wh, room))
            self.soc = min(1.0, self.soc + wh / self.vehicle.capacity_wh)
            self.elapsed_s += step
            delivered += wh
            remaining -= step
        power = demanded_power(self.kind, self.vehicle, self.soc, self.elapsed_s)
        self.power_w = power if limit_w is None else min(power, max(0.0, limit_w))
        self.energy_wh += delivered
        return delivered


@dataclass(slots=True)
class EnergyMeter:
    """The import register: fractional Wh inside, whole Wh when read, so readings never fall."""

    register: float = 0.0

    def add(self, wh: float) -> None:
        if wh < 0:
            raise ValueError("an import register does not run backwards")
        self.register += wh

    @property
    def reading_wh(self) -> int:
        return math.floor(self.register)


@dataclass(frozen=True, slots=True)
class Electrical:
    """Instantaneous readings that go with a power value."""

    power_w: float
    voltage_v: float
    current_a: float
    soc_percent: float | None  # DC only: the car reports it over the charging protocol


def electrical(kind: ChargerKind, power_w: float, soc: float) -> Electrical:
    if kind.is_dc:
        volts = 320.0 + 100.0 * soc  # a 400 V-class pack: ~320 V empty, ~420 V full
        return Electrical(power_w, volts, power_w / volts, round(soc * 100, 1))
    volts = kind.nominal_voltage
    return Electrical(power_w, volts, power_w / (volts * kind.phases), None)


# An epoch before any simulated run; the register starts where full use since then would put it.
REGISTER_EPOCH_S = 1_704_067_200  # 2024-01-01T00:00:00Z


def initial_register_wh(rated_w: int, now_s: float) -> int:
    """A starting register that stays monotonic across runs of the same station id.

    No run can deliver more than rated power x its duration, so a register that starts at
    "rated power since 2024-01-01" is always at or above where any earlier run left it.
    """
    return int(rated_w * max(0.0, now_s - REGISTER_EPOCH_S) / 3600.0)
