"""Scenario files, overrides, the fleet's population and the compressed daily profile."""

from __future__ import annotations

import argparse
import dataclasses
import random
from collections import Counter
from pathlib import Path

import pytest

from simulators.cli import build_parser
from simulators.fleet.cli import apply_overrides
from simulators.fleet.load_profile import CITY_DAY, MIN_WEIGHT, DailyProfile
from simulators.fleet.population import apportion, plan_stations
from simulators.fleet.scenario import ScenarioError, from_toml, load, shipped

SHUOZHOU = {"朔城区", "平鲁区", "山阴县", "应县", "右玉县", "怀仁市"}


def test_every_shipped_scenario_parses_and_is_bounded() -> None:
    names = set(shipped())
    assert {"smoke", "boot-storm", "city-day", "offline-replay", "meter-values", "idle"} <= names
    for name in names:
        scenario = load(name)
        assert scenario.name == name
        assert 0 < scenario.duration_s <= 3600 and scenario.stations <= 10_000


def test_boot_storm_and_city_day() -> None:
    storm = load("boot-storm")
    assert (storm.stations, storm.ramp_rate, storm.until, storm.session_mode) == (
        10_000,
        0.0,
        "accepted",
        "none",
    )
    city = load("city-day")
    assert {c.name for c in city.counties} == SHUOZHOU
    assert city.session_mode == "profile" and len(city.profile) == 24


def test_a_minimal_file_gets_defaults() -> None:
    scenario = from_toml('name = "tiny"\nstations = 3\n')
    assert scenario.stations == 3 and scenario.versions == {"1.6": 0.5, "2.0.1": 0.5}
    assert scenario.chargers[0].kind == "ac7"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stations = 0", "stations must be"),
        ("duration = -1", "duration"),
        ("statons = 3", "unknown keys"),
        ("[sessions]\nmodee = 'none'", "unknown keys in [sessions]"),
        ("[sessions]\nmode = 'sometimes'", "sessions.mode"),
        ("[sessions]\nlength = [10, 5]", "sessions.length"),
        ("[versions]\n'1.5' = 1", "versions"),
        ("[chargers]\nac3 = 1", "unknown charger type"),
        ("[sessions]\nmode = 'profile'\n[profile]\nhours = [1, 2]", "profile.hours"),
        ("until = 'forever'", "until"),
        ("[counties]\n'朔城区' = { code = '朔城', weight = 1 }", "ASCII"),
        ("stations = [", "not valid TOML"),
        ("[sessions]\nleave = { Away = 1 }", "sessions.leave"),
    ],
)
def test_bad_files_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        from_toml(text)


def test_unknown_scenario_lists_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match="smoke"):
        load("no-such-scenario")


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("stations = 2\nduration = 5\n", encoding="utf-8")
    scenario = load(str(path))
    assert scenario.name == "mine" and scenario.stations == 2


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["fleet", "--url", "ws://x/ocpp", *argv])


def test_command_line_overrides() -> None:
    base = load("meter-values")
    changed = apply_overrides(
        base,
        _args("--stations", "50", "--duration", "9", "--meter-interval", "2", "--version", "2.0.1"),
    )
    assert (changed.stations, changed.duration_s, changed.meter_interval_s) == (50, 9.0, 2)
    assert changed.versions == {"2.0.1": 1.0}
    charger = apply_overrides(base, _args("--charger", "ac7", "--evses", "2"))
    assert [(c.kind, c.share, c.evses) for c in charger.chargers] == [("ac7", 1.0, 2)]
    assert apply_overrides(base, _args()) is base
    with pytest.raises(ScenarioError):
        apply_overrides(base, _args("--stations", "0"))


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (20, {"a": 0.5, "b": 0.5}, {"a": 10, "b": 10}),
        (10, {"a": 1, "b": 1, "c": 1}, {"a": 4, "b": 3, "c": 3}),
        (7, {"a": 0.7, "b": 0.2, "c": 0.1}, {"a": 5, "b": 1, "c": 1}),
        (3, {"a": 1, "b": 0}, {"a": 3}),
        (0, {"a": 1}, {"a": 0}),
    ],
)
def test_apportion(total: int, weights: dict[str, float], expected: dict[str, int]) -> None:
    counts = apportion(total, weights)
    assert counts == expected and sum(counts.values()) == total


def test_population_in_exact_shares_and_repeatable() -> None:
    scenario = from_toml(
        """
        stations = 20
        id_prefix = "T"
        [versions]
        "1.6" = 0.5
        "2.0.1" = 0.5
        [chargers]
        ac7 = { share = 0.6, evses = 2 }
        dc60 = { share = 0.4, evses = 1 }
        """
    )
    specs = plan_stations(scenario)
    assert Counter(s.version for s in specs) == {"1.6": 10, "2.0.1": 10}
    assert Counter((s.kind, s.evses) for s in specs) == {("ac7", 2): 12, ("dc60", 1): 8}
    assert [s.station_id for s in specs[:2]] == ["T-00001", "T-00002"]
    assert plan_stations(scenario) == specs  # same seed, same fleet


def test_city_day_ids_carry_the_county() -> None:
    specs = plan_stations(dataclasses.replace(load("city-day"), stations=100))
    by_county = Counter(s.county for s in specs)
    assert set(by_county) == SHUOZHOU and sum(by_county.values()) == 100
    assert by_county["朔城区"] == 36  # 941 of 2628 new public piles
    assert all(s.station_id.startswith("SZ-") for s in specs)
    shuocheng = sorted(s.station_id for s in specs if s.county == "朔城区")
    assert shuocheng[0] == "SZ-Shuocheng-0001" and len(set(s.station_id for s in specs)) == 100
    assert all(s.station_id.isascii() and len(s.station_id) <= 48 for s in specs)


@pytest.mark.parametrize(
    ("fraction", "hour", "weight"),
    [(0.0, 0.0, 0.35), (0.5, 12.0, 1.0), (4.5 / 24, 4.5, 0.10), (1.0, 0.0, 0.35)],
)
def test_daily_profile_compresses_a_day(fraction: float, hour: float, weight: float) -> None:
    profile = DailyProfile(CITY_DAY)
    assert profile.hour_at(fraction) == pytest.approx(hour)
    assert profile.weight_at(fraction) == pytest.approx(weight)


def test_quiet_hours_mean_longer_gaps() -> None:
    profile = DailyProfile(tuple([0.0] * 12 + [1.0] * 12), start_hour=0)
    rng = random.Random(7)
    quiet = sum(profile.next_gap(0.1, 10.0, rng) for _ in range(2000)) / 2000
    busy = sum(profile.next_gap(0.9, 10.0, rng) for _ in range(2000)) / 2000
    assert busy == pytest.approx(10.0, rel=0.1)
    assert quiet == pytest.approx(10.0 / MIN_WEIGHT, rel=0.1)


def test_profile_must_have_24_hours() -> None:
    with pytest.raises(ValueError):
        DailyProfile((1.0,) * 23)
