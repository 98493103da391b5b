"""Metering rules: each rule fires past its threshold and stays quiet at it."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.metering.rules import (
    IntervalSample,
    MessageTime,
    MeterCertificate,
    MeteringPolicy,
    MeterSession,
    Reading,
    RegisterConflict,
    RegisterSample,
    Severity,
    Verdict,
    check,
)

T0 = datetime(2026, 5, 1, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reg(
    minutes: float, wh: int, lag: float = 1.0, *, received: datetime | None = None
) -> RegisterSample:
    sampled = at(minutes)
    arrived = received if received is not None else sampled + timedelta(seconds=lag)
    return RegisterSample(sampled_at=sampled, received_at=arrived, wh=wh)


PERIODIC = (reg(15, 12_500), reg(30, 15_000), reg(45, 17_500))


def session(**changes: Any) -> MeterSession:
    """A clean one-hour 1.6-style session: 10 kWh, periodic samples every 15 minutes."""
    base = MeterSession(
        started_at=T0,
        stopped_at=T0 + HOUR,
        meter_start_wh=10_000,
        meter_stop_wh=20_000,
        registers=PERIODIC,
    )
    return dataclasses.replace(base, **changes)


def msg(station_offset_s: float, *, offline: bool = False) -> MessageTime:
    return MessageTime(
        station_at=at(30) + timedelta(seconds=station_offset_s), received_at=at(30), offline=offline
    )


def batched_stop_data() -> tuple[RegisterSample, ...]:
    """1.6 StopTransaction transactionData: the whole session's samples in one late message."""
    arrived = T0 + HOUR + timedelta(seconds=1)
    return tuple(reg(m, 10_000 + m * 10_000 // 60, received=arrived) for m in (0, 20, 40, 60))


def clash(minutes: float, stored: int | None, other: int | None) -> RegisterConflict:
    return RegisterConflict(at(minutes), stored, other)


CERT_DAY = T0.date()
VALID, FLAGGED, REJECTED = Verdict.VALID, Verdict.FLAGGED, Verdict.REJECTED


def case(name: str, expect: str, verdict: Verdict, **changes: Any) -> Any:
    """One row: session changes, "+code" (reason present) or "-code" (absent), the verdict."""
    return pytest.param(session(**changes), expect[1:], expect[0] == "+", verdict, id=name)


CASES = [
    # 1. no_meter_data
    case("no-start", "+no_meter_data", REJECTED, meter_start_wh=None, registers=()),
    case(
        "running-no-samples",
        "+no_meter_data",
        REJECTED,
        stopped_at=None,
        meter_stop_wh=None,
        registers=(),
    ),
    case(
        "one-sample-only",
        "+no_meter_data",
        REJECTED,
        meter_start_wh=None,
        meter_stop_wh=None,
        registers=(reg(5, 100),),
    ),
    case("samples-only", "-no_meter_data", VALID, meter_start_wh=None, meter_stop_wh=None),
    case(
        "running-one-sample",
        "-no_meter_data",
        VALID,
        stopped_at=None,
        meter_stop_wh=None,
        registers=(reg(1, 10_100),),
    ),
    # 2. stop_before_start, stopped_before_started
    case("stop-below-start", "+stop_before_start", REJECTED, meter_stop_wh=9_999, registers=()),
    case("stop-equals-start", "-stop_before_start", VALID, meter_stop_wh=10_000, registers=()),
    case(
        "stopped-before-started",
        "+stopped_before_started",
        REJECTED,
        stopped_at=T0 - timedelta(seconds=1),
        meter_stop_wh=10_000,
        registers=(),
    ),
    case(
        "zero-length-no-energy",
        "-stopped_before_started",
        VALID,
        stopped_at=T0,
        meter_stop_wh=10_000,
        registers=(),
    ),
    # 3. register_decreased
    case(
        "decrease",
        "+register_decreased",
        REJECTED,
        registers=(reg(15, 12_500), reg(30, 12_499), reg(45, 17_500)),
    ),
    case(
        "flat",
        "-register_decreased",
        VALID,
        registers=(reg(15, 12_500), reg(30, 12_500), reg(45, 17_500)),
    ),
    # 4. register_reset
    case(
        "reset",
        "+register_reset",
        REJECTED,
        meter_start_wh=500_000,
        meter_stop_wh=510_000,
        registers=(reg(20, 502_000), reg(40, 10)),
    ),
    case(
        "not-below-1-percent",
        "-register_reset",
        REJECTED,
        meter_start_wh=99_000,
        meter_stop_wh=110_000,
        registers=(reg(20, 99_900), reg(40, 999)),
    ),
    case(
        "not-below-1000",
        "-register_reset",
        REJECTED,
        meter_start_wh=500_000,
        meter_stop_wh=510_000,
        registers=(reg(20, 502_000), reg(40, 1000)),
    ),
    case(
        "near-limit-is-rollover",
        "-register_reset",
        REJECTED,
        meter_start_wh=990_000,
        meter_stop_wh=8_000,
        registers=(reg(20, 999_000), reg(40, 10)),
    ),
    # 5. register_rollover
    case(
        "rollover",
        "+register_rollover",
        REJECTED,
        meter_start_wh=990_000,
        meter_stop_wh=8_000,
        registers=(reg(20, 995_000), reg(40, 500)),
    ),
    case(
        "rollover-start-stop",
        "+register_rollover",
        REJECTED,
        meter_start_wh=999_999_000,
        meter_stop_wh=2_000,
        registers=(),
    ),
    case(
        "below-top-10-percent",
        "-register_rollover",
        REJECTED,
        meter_start_wh=899_000,
        meter_stop_wh=905_000,
        registers=(reg(20, 899_999), reg(40, 500)),
    ),
    case(
        "new-not-in-bottom-10-percent",
        "-register_rollover",
        REJECTED,
        meter_start_wh=940_000,
        meter_stop_wh=110_000,
        registers=(reg(20, 950_000), reg(40, 100_000)),
    ),
    # 6. duplicate_samples, conflicting_samples, out_of_order_samples
    case("duplicate", "+duplicate_samples", VALID, registers=(*PERIODIC, reg(30, 15_000, lag=9))),
    case(
        "begin-end-samples-same-reading",
        "-duplicate_samples",
        VALID,
        registers=(reg(0, 10_000), *PERIODIC, reg(60, 20_000)),
    ),
    case(
        "conflict", "+conflicting_samples", FLAGGED, registers=(*PERIODIC, reg(30, 15_100, lag=9))
    ),
    case("no-conflict", "-conflicting_samples", VALID, registers=(*PERIODIC, reg(31, 15_100))),
    case("out-of-order", "+out_of_order_samples", VALID, registers=PERIODIC[::-1]),
    case(
        "in-order-with-repeat", "-out_of_order_samples", VALID, registers=(*PERIODIC, PERIODIC[-1])
    ),
    # 7. energy_mismatch: (a) transaction values vs Begin/End samples, (b) intervals
    case(
        "tx-vs-register-3wh",
        "+energy_mismatch",
        FLAGGED,
        registers=(reg(0, 10_000), *PERIODIC, reg(60, 20_003)),
    ),
    case(
        "tx-vs-register-2wh",
        "-energy_mismatch",
        VALID,
        registers=(reg(0, 10_000), *PERIODIC, reg(60, 20_002)),
    ),
    case(
        "near-ends-within-tolerance",
        "-energy_mismatch",
        VALID,
        registers=(reg(0.01, 10_001), *PERIODIC, reg(59.99, 19_999)),
    ),
    case(
        "intervals-3wh-over-2",
        "+energy_mismatch",
        FLAGGED,
        intervals=(IntervalSample(at(30), 5_000), IntervalSample(at(60), 5_003)),
    ),
    case(
        "intervals-2wh-under-2",
        "-energy_mismatch",
        VALID,
        intervals=(IntervalSample(at(30), 5_000), IntervalSample(at(60), 4_998)),
    ),
    # 8. energy_exceeds_rating: 10 kW x 1 h x 1.05 = 10 500 Wh
    case(
        "1wh-over-rating",
        "+energy_exceeds_rating",
        REJECTED,
        meter_stop_wh=20_501,
        rated_power_w=10_000,
    ),
    case(
        "exactly-at-rating",
        "-energy_exceeds_rating",
        VALID,
        meter_stop_wh=20_500,
        rated_power_w=10_000,
    ),
    case(
        "zero-duration",
        "+energy_exceeds_rating",
        REJECTED,
        stopped_at=T0,
        meter_stop_wh=10_001,
        registers=(),
        rated_power_w=10_000,
    ),
    case(
        "running-over",
        "+energy_exceeds_rating",
        REJECTED,
        stopped_at=None,
        meter_stop_wh=None,
        registers=(reg(30, 15_251),),
        rated_power_w=10_000,
    ),
    case(
        "running-at-rating",
        "-energy_exceeds_rating",
        VALID,
        stopped_at=None,
        meter_stop_wh=None,
        registers=(reg(30, 15_250),),
        rated_power_w=10_000,
    ),
    case("no-rating-skipped", "-energy_exceeds_rating", VALID, meter_stop_wh=1_000_000),
    # 9. clock_skew
    case("ahead-5.001s", "+clock_skew", FLAGGED, messages=(msg(5.001),)),
    case("ahead-5s", "-clock_skew", VALID, messages=(msg(5),)),
    case("behind-5.001s", "+clock_skew", FLAGGED, registers=(reg(15, 12_500, lag=5.001),)),
    case("behind-5s", "-clock_skew", VALID, registers=(reg(15, 12_500, lag=5),)),
    case("offline-message", "-clock_skew", VALID, messages=(msg(-600, offline=True),)),
    case(
        "offline-sample",
        "-clock_skew",
        VALID,
        registers=(dataclasses.replace(reg(15, 12_500, lag=3600), offline=True),),
    ),
    case("batched-stop-data", "-clock_skew", VALID, registers=batched_stop_data()),
    case(
        "all-queued-hours-late",
        "-clock_skew",
        VALID,
        registers=tuple(
            dataclasses.replace(r, received_at=r.sampled_at + 3 * HOUR, offline=True)
            for r in PERIODIC
        ),
        messages=(MessageTime(T0, T0 + 3 * HOUR, True), MessageTime(at(60), T0 + 3 * HOUR, True)),
    ),
    case(
        "queued-start-live-stop-ahead",
        "+clock_skew",
        FLAGGED,
        messages=(MessageTime(T0, T0 + 3 * HOUR, True), MessageTime(at(60), at(59), False)),
    ),
    # 11. conflicting_samples from stored conflicts: flagged inside the series, rejected at an
    # end of it (the billed energy depends on which value is right)
    case(
        "conflict-mid-series",
        "+conflicting_samples",
        FLAGGED,
        conflicts=(clash(30, 15_000, 15_100),),
    ),
    case(
        "conflict-at-start", "+conflicting_samples", REJECTED, conflicts=(clash(0, 10_000, 10_050),)
    ),
    case(
        "conflict-at-stop", "+conflicting_samples", REJECTED, conflicts=(clash(60, 20_000, 19_990),)
    ),
    case(
        "conflict-end-sample",  # a Transaction.End sample half a second before the stop
        "+conflicting_samples",
        REJECTED,
        conflicts=(RegisterConflict(at(60) - timedelta(seconds=0.5), 20_000, 20_010),),
    ),
    case(
        "conflict-beyond-1s-of-end",
        "+conflicting_samples",
        FLAGGED,
        conflicts=(RegisterConflict(at(60) - timedelta(seconds=1.001), 20_000, 20_010),),
    ),
    case(
        "conflict-unreadable", "+conflicting_samples", FLAGGED, conflicts=(clash(30, 15_000, None),)
    ),
    case("conflict-same-wh", "-conflicting_samples", VALID, conflicts=(clash(60, 20_000, 20_000),)),
    case(
        "conflict-running-latest",
        "+conflicting_samples",
        REJECTED,
        stopped_at=None,
        meter_stop_wh=None,
        conflicts=(clash(45, 17_500, 17_600),),
    ),
    case(
        "conflict-samples-only-first",
        "+conflicting_samples",
        REJECTED,
        meter_start_wh=None,
        meter_stop_wh=None,
        conflicts=(clash(15, 12_500, 12_400),),
    ),
    case(
        "conflict-no-meter-data",
        "+conflicting_samples",
        REJECTED,
        meter_start_wh=None,
        registers=(),
        conflicts=(clash(30, 15_000, 15_100),),
    ),
    # 10. meter_certificate_expired
    case(
        "cert-expired",
        "+meter_certificate_expired",
        FLAGGED,
        certificate=MeterCertificate("JJG-1", CERT_DAY - timedelta(days=1)),
    ),
    case(
        "cert-expires-today",
        "-meter_certificate_expired",
        VALID,
        certificate=MeterCertificate("JJG-1", CERT_DAY),
    ),
    case(
        # 02:00 in Shanghai on 1 May is still 30 April in UTC: expiry is a local date.
        "cert-local-date",
        "+meter_certificate_expired",
        FLAGGED,
        started_at=datetime(2026, 5, 1, 2, tzinfo=timezone(timedelta(hours=8))),
        certificate=MeterCertificate("JJG-1", date(2026, 4, 30)),
    ),
    case(
        "cert-local-date-last-day",
        "-meter_certificate_expired",
        VALID,
        started_at=datetime(2026, 4, 30, 23, 59, tzinfo=timezone(timedelta(hours=8))),
        certificate=MeterCertificate("JJG-1", date(2026, 4, 30)),
    ),
]


@pytest.mark.parametrize(("meter", "code", "present", "verdict"), CASES)
def test_rule(meter: MeterSession, code: str, present: bool, verdict: Verdict) -> None:
    result = check(meter)
    codes = [reason.code for reason in result.reasons]
    assert (code in codes) is present, result.reasons
    assert result.verdict is verdict, result.reasons


def test_clean_16_session_is_valid() -> None:
    result = check(session(rated_power_w=22_000, messages=(msg(0.5),)))
    assert result.verdict is Verdict.VALID
    assert result.reasons == ()
    assert result.energy_wh == 10_000
    assert result.readings == (
        Reading(T0, 10_000),
        Reading(at(15), 12_500),
        Reading(at(30), 15_000),
        Reading(at(45), 17_500),
        Reading(at(60), 20_000),
    )
    assert not result.interpolated
    assert result.clock_skew == timedelta(seconds=0.5)


def test_rollover_session_is_monotone() -> None:
    meter = session(
        meter_start_wh=990_000,
        meter_stop_wh=8_000,
        registers=(reg(40, 500), reg(20, 995_000)),
    )
    result = check(meter)
    assert [r.wh for r in result.readings] == [990_000, 995_000, 1_000_500, 1_008_000]
    assert result.energy_wh == 18_000
    (rollover,) = [r for r in result.reasons if r.code == "register_rollover"]
    assert "rolled over at 1000000 Wh" in rollover.message
    assert result.verdict is Verdict.REJECTED  # a wrap is never billed on a guess


def test_no_meter_data_has_no_readings() -> None:
    result = check(session(meter_start_wh=None, registers=()))
    assert (result.readings, result.energy_wh, result.interpolated) == ((), None, False)


def test_conflict_keeps_later_received_value() -> None:
    later = reg(30, 15_100, received=at(30) + timedelta(seconds=2))
    result = check(session(registers=(later, *PERIODIC)))
    assert Reading(at(30), 15_100) in result.readings
    (conflict,) = [r for r in result.reasons if r.code == "conflicting_samples"]
    assert "(15000, 15100 Wh)" in conflict.message


@pytest.mark.parametrize(
    ("conflicts", "severities"),
    [
        ((clash(30, 15_000, 15_100),), ["flag"]),
        ((clash(30, 15_000, 15_100), clash(30, 15_000, 15_100)), ["flag"]),  # one conflict
        ((clash(30, 15_000, 15_100), clash(30, 15_000, 15_200)), ["flag", "flag"]),
        ((clash(60, 20_000, 20_100), clash(15, 12_500, 12_600)), ["flag", "reject"]),
        ((clash(30, 15_000, 15_000),), []),
    ],
)
def test_conflicts_one_reason_each(
    conflicts: tuple[RegisterConflict, ...], severities: list[str]
) -> None:
    reasons = check(session(conflicts=conflicts)).reasons
    assert [r.severity.value for r in reasons if r.code == "conflicting_samples"] == severities


def test_conflict_reason_names_moment_and_values() -> None:
    result = check(session(conflicts=(clash(60, 20_000, 19_990), clash(30, None, 15_100))))
    first, last = [r for r in result.reasons if r.code == "conflicting_samples"]
    assert first.severity is Severity.FLAG and at(30).isoformat() in first.message
    assert "an unreadable value" in first.message and "15100 Wh" in first.message
    assert last.severity is Severity.REJECT and at(60).isoformat() in last.message
    assert "20000 Wh" in last.message and "19990 Wh" in last.message
    assert result.energy_wh == 10_000  # the stored values stand; the verdict holds the bill


@pytest.mark.parametrize(
    ("meter", "interpolated"),
    [
        (session(registers=()), True),
        (session(registers=(reg(0, 10_000), reg(60, 20_000))), True),
        (session(), False),
        (session(registers=(), intervals=(IntervalSample(at(60), 10_000),)), False),
    ],
)
def test_interpolated(meter: MeterSession, interpolated: bool) -> None:
    assert check(meter).interpolated is interpolated


@pytest.mark.parametrize(
    ("meter", "skew"),
    [
        (session(registers=()), None),
        (session(registers=(), messages=(msg(-6), msg(-8))), timedelta(seconds=-6)),
        (session(registers=(), messages=(msg(7), msg(2))), timedelta(seconds=7)),
        (session(registers=(), messages=(msg(0),)), timedelta(0)),
    ],
)
def test_clock_skew_estimate(meter: MeterSession, skew: timedelta | None) -> None:
    assert check(meter).clock_skew == skew


def test_messages_carry_figures() -> None:
    meter = session(meter_stop_wh=20_501, registers=(), rated_power_w=10_000, messages=(msg(-6),))
    result = check(meter)
    by_code = {reason.code: reason for reason in result.reasons}
    assert "10501 Wh" in by_code["energy_exceeds_rating"].message
    assert "10500.0 Wh" in by_code["energy_exceeds_rating"].message
    assert "6 s behind" in by_code["clock_skew"].message
    assert by_code["clock_skew"].severity is Severity.FLAG


def test_policy_is_honoured() -> None:
    policy = MeteringPolicy(max_clock_skew=timedelta(seconds=10), wh_per_sample_tolerance=2)
    meter = session(
        messages=(msg(8),),
        registers=(reg(0, 10_000), *PERIODIC, reg(60, 20_004)),
    )
    assert check(meter).verdict is Verdict.FLAGGED
    assert check(meter, policy).verdict is Verdict.VALID


@st.composite
def shuffled_series(draw: st.DrawFn) -> tuple[list[Reading], list[RegisterSample]]:
    steps = draw(st.lists(st.tuples(st.integers(1, 900), st.integers(0, 50_000)), min_size=2))
    start = draw(st.integers(0, 10**9))
    readings, moment, wh = [], T0, start
    for seconds, energy in steps:
        moment, wh = moment + timedelta(seconds=seconds), wh + energy
        readings.append(Reading(moment, wh))
    copies = draw(st.lists(st.sampled_from(readings), max_size=len(readings)))
    lags = st.integers(0, 3_000)
    samples = [
        RegisterSample(r.at, r.at + timedelta(milliseconds=draw(lags)), r.wh)
        for r in [*readings, *copies]
    ]
    return readings, draw(st.permutations(samples))


@given(shuffled_series())
def test_shuffled_duplicated_series_is_cleaned(
    drawn: tuple[list[Reading], list[RegisterSample]],
) -> None:
    readings, samples = drawn
    meter = MeterSession(T0, None, None, None, samples)
    result = check(meter)
    assert list(result.readings) == readings
    assert all(a.at < b.at and a.wh <= b.wh for a, b in itertools.pairwise(readings))
    assert result.energy_wh == readings[-1].wh - readings[0].wh
    assert result.verdict is not Verdict.REJECTED
