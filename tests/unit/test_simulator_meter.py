"""The simulator's meter and power model: plausible curves, monotonic registers, table-driven."""

from __future__ import annotations

import pytest

from simulators.meter import (
    AC_RAMP_S,
    DC_KNEE_SOC,
    DC_RAMP_S,
    KINDS,
    ChargerKind,
    ChargingModel,
    EnergyMeter,
    Vehicle,
    demanded_power,
    electrical,
    initial_register_wh,
)

AC7 = KINDS["ac7"]
DC60 = KINDS["dc60"]
DC120 = KINDS["dc120"]
CAR = Vehicle(capacity_wh=60_000, soc=0.3, target_soc=1.0, max_ac_w=7_400, max_dc_w=100_000)


@pytest.mark.parametrize(
    ("kind", "soc", "elapsed", "expected_w"),
    [
        (AC7, 0.3, 0.0, 0.0),  # contactor just closed
        (AC7, 0.3, AC_RAMP_S / 2, 3_500.0),  # halfway up the ramp
        (AC7, 0.3, 60.0, 7_000.0),  # the EVSE's rating caps the car's 7.4 kW
        (AC7, 0.975, 60.0, 3_500.0),  # taper in the last 5 %
        (AC7, 1.0, 60.0, 0.0),
        (DC60, 0.3, DC_RAMP_S / 2, 30_000.0),
        (DC60, 0.5, 60.0, 60_000.0),  # CC at the charger's limit
        (DC120, 0.5, 60.0, 100_000.0),  # CC at the car's limit
        (DC120, DC_KNEE_SOC, 60.0, 100_000.0),  # the knee
        (DC120, 0.9, 60.0, 55_000.0),  # CV: halfway from the knee, halfway down to 10 %
        (DC120, 0.999, 60.0, 10_450.0),
    ],
)
def test_power_curve(kind: ChargerKind, soc: float, elapsed: float, expected_w: float) -> None:
    assert demanded_power(kind, CAR, soc, elapsed) == pytest.approx(expected_w, rel=1e-3)


def test_car_stops_asking_at_its_target() -> None:
    car = Vehicle(soc=0.79, target_soc=0.8)
    assert demanded_power(DC60, car, 0.8, 100.0) == 0.0


def test_constant_power_integrates_exactly() -> None:
    model = ChargingModel(AC7, CAR)
    model.advance(AC_RAMP_S)  # ramp: 0 -> 7 kW, average 3.5 kW
    assert model.energy_wh == pytest.approx(7000 * AC_RAMP_S / 2 / 3600, rel=0.02)
    before = model.energy_wh
    assert model.advance(3600.0) == pytest.approx(7000.0, rel=1e-6)
    assert model.energy_wh == pytest.approx(before + 7000.0, rel=1e-6)
    assert model.power_w == pytest.approx(7000.0)


def test_limit_caps_power_and_zero_suspends() -> None:
    model = ChargingModel(DC60, CAR)
    model.advance(60.0)
    assert model.advance(60.0, limit_w=20_000) == pytest.approx(20_000 * 60 / 3600)
    assert model.power_w == pytest.approx(20_000)
    assert model.advance(30.0, limit_w=0) == 0.0
    assert model.power_w == 0.0


@pytest.mark.parametrize("kind", [AC7, DC60, DC120])
def test_energy_never_exceeds_rated_power_times_time(kind: ChargerKind) -> None:
    model = ChargingModel(kind, Vehicle(capacity_wh=50_000, soc=0.1, target_soc=1.0))
    for seconds in (0.3, 1.0, 7.5, 60.0, 600.0, 3600.0):
        model.advance(seconds)
    elapsed = model.elapsed_s
    assert model.energy_wh <= kind.rated_w * elapsed / 3600
    assert model.soc <= 1.0


def test_full_battery_stops_delivery() -> None:
    model = ChargingModel(DC120, Vehicle(capacity_wh=10_000, soc=0.85, target_soc=0.9))
    model.advance(3600.0)
    assert model.full and model.power_w == 0.0
    assert model.energy_wh == pytest.approx(500.0, abs=1e-6)  # exactly what the car wanted
    assert model.advance(600.0) == 0.0


def test_register_reads_whole_wh_and_never_falls() -> None:
    meter = EnergyMeter(1000.0)
    readings = []
    for wh in (0.4, 0.4, 0.4, 2.9, 0.0):
        meter.add(wh)
        readings.append(meter.reading_wh)
    assert readings == [1000, 1000, 1001, 1004, 1004]
    assert readings == sorted(readings)
    with pytest.raises(ValueError):
        meter.add(-1.0)


def test_initial_register_grows_faster_than_any_run_can() -> None:
    # A later start always begins above where an earlier run could have left the register.
    start = 1_760_000_000.0
    first = initial_register_wh(DC120.rated_w, start)
    run_s = 3_600.0
    most_delivered = DC120.rated_w * run_s / 3600
    assert initial_register_wh(DC120.rated_w, start + run_s) >= first + most_delivered - 1


def test_electrical_readings() -> None:
    ac = electrical(AC7, 7000.0, 0.5)
    assert (ac.voltage_v, round(ac.current_a, 2), ac.soc_percent) == (230.0, 30.43, None)
    dc = electrical(DC60, 37_000.0, 0.5)
    assert dc.voltage_v == 370.0 and dc.current_a == pytest.approx(100.0) and dc.soc_percent == 50.0


def test_vehicle_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Vehicle(soc=1.5)
    with pytest.raises(ValueError):
        Vehicle(capacity_wh=0)


def test_amps_and_watts() -> None:
    assert AC7.amps_to_watts(32) == pytest.approx(7360.0)
    assert KINDS["ac22"].amps_to_watts(32) == pytest.approx(22_080.0)
    assert KINDS["ac22"].amps_to_watts(16, phases=1) == pytest.approx(3680.0)
    assert DC60.watts_to_amps(40_000) == pytest.approx(100.0)
