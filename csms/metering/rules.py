"""Plausibility rules for a session's meter data (JJG 1148/1149-style checks a CSMS can enforce)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

# A 1.6 Transaction.Begin/End sample sits at (or within a second of) the transaction's own time.
_NEAR = timedelta(seconds=1)
# Registers wrap at a power of ten; 10^6..10^12 Wh covers every meter we know of.
_ROLLOVER_LIMITS: tuple[int, ...] = tuple(10**k for k in range(6, 13))
_RESET_MAX_WH = 1000
_MICROSECOND = timedelta(microseconds=1)


class Verdict(StrEnum):
    VALID = "valid"  # billed
    FLAGGED = "flagged"  # billed, with reasons visible to operators
    REJECTED = "rejected"  # not billed automatically; queued for review


class Severity(StrEnum):
    INFO = "info"  # handled, does not change the verdict
    FLAG = "flag"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    severity: Severity
    message: str


@dataclass(frozen=True, slots=True)
class RegisterSample:
    """An Energy.Active.Import.Register reading (whole meter, Wh) as stored."""

    sampled_at: datetime
    received_at: datetime
    wh: int
    # Queued data (2.0.1 `offline`, or stamped before the connection it arrived on opened):
    # its receipt lag says nothing about the clock.
    offline: bool = False


@dataclass(frozen=True, slots=True)
class IntervalSample:
    """An Energy.Active.Import.Interval value: Wh over the interval ending at sampled_at."""

    sampled_at: datetime
    wh: int


@dataclass(frozen=True, slots=True)
class MessageTime:
    """A station timestamp and when we received it, for clock-skew estimation."""

    station_at: datetime
    received_at: datetime
    offline: bool = False  # queued, as for RegisterSample


@dataclass(frozen=True, slots=True)
class RegisterConflict:
    """A register reading for a moment already stored with another value (None: unreadable).

    The stored (first) value is the one in `registers`; which one is right nobody knows.
    """

    sampled_at: datetime
    stored_wh: int | None
    other_wh: int | None


@dataclass(frozen=True, slots=True)
class MeterCertificate:
    """The charger's verification certificate; billing on an expired one needs a human look."""

    number: str
    expires_on: date


@dataclass(frozen=True, slots=True)
class MeterSession:
    """Everything the CSMS knows about one session's metering, as received."""

    started_at: datetime
    stopped_at: datetime | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    registers: Sequence[RegisterSample]
    intervals: Sequence[IntervalSample] = ()
    messages: Sequence[MessageTime] = ()
    rated_power_w: int | None = None
    certificate: MeterCertificate | None = None
    conflicts: Sequence[RegisterConflict] = ()


@dataclass(frozen=True, slots=True)
class MeteringPolicy:
    power_tolerance: Decimal = Decimal("0.05")
    max_clock_skew: timedelta = timedelta(seconds=5)  # JJG 1148/1149: TOU clocks within 5 s
    wh_per_sample_tolerance: int = 1  # each reported value may be rounded by up to 1 Wh
    time_zone: str = "Asia/Shanghai"  # where certificate expiry dates are calendar days


@dataclass(frozen=True, slots=True)
class Reading:
    """A cleaned register reading the pricing engine can split by time."""

    at: datetime
    wh: int


@dataclass(frozen=True, slots=True)
class MeterCheck:
    """The verdict and the cleaned series; readings and energy are billable unless REJECTED."""

    verdict: Verdict
    reasons: tuple[Reason, ...]
    readings: tuple[Reading, ...]
    energy_wh: int | None
    clock_skew: timedelta | None
    interpolated: bool


def check(session: MeterSession, policy: MeteringPolicy = MeteringPolicy()) -> MeterCheck:
    """Clean the session's readings and apply every rule; the worst reason decides the verdict."""
    reasons: list[Reason] = []
    if session.stopped_at is not None and session.stopped_at < session.started_at:
        reasons.append(
            _reject(
                "stopped_before_started",
                f"The session stopped at {session.stopped_at.isoformat()}, "
                f"before it started at {session.started_at.isoformat()}.",
            )
        )
    samples, cleaning = _clean(session.registers)
    reasons += cleaning
    raw = _series(session, samples)
    readings: tuple[Reading, ...] = ()
    energy: int | None = None
    if raw is None:
        reasons.append(
            _reject(
                "no_meter_data",
                f"No distinct start and stop meter values (start {session.meter_start_wh}, "
                f"stop {session.meter_stop_wh}, {len(samples)} distinct register sample(s)).",
            )
        )
    else:
        readings, walk = _unwrap(raw)
        reasons += walk
        energy = readings[-1].wh - readings[0].wh
        if energy < 0:
            reasons.append(
                _reject(
                    "stop_before_start",
                    f"The stop value {raw[-1].wh} Wh is below the start value {raw[0].wh} Wh.",
                )
            )
        reasons += _agreement(session, samples, raw, energy, policy)
        reasons += _rating(session, readings[-1].at, energy, policy)
    reasons += _conflict_reasons(session.conflicts, readings)
    skew = _clock_skew(session)
    reasons += _skew_reasons(skew, policy)
    reasons += _certificate_reasons(session, policy)
    interpolated = len(readings) == 2 and not session.intervals
    return MeterCheck(_verdict(reasons), tuple(reasons), readings, energy, skew, interpolated)


def _reject(code: str, message: str) -> Reason:
    return Reason(code, Severity.REJECT, message)


def _flag(code: str, message: str) -> Reason:
    return Reason(code, Severity.FLAG, message)


def _verdict(reasons: Sequence[Reason]) -> Verdict:
    severities = {reason.severity for reason in reasons}
    if Severity.REJECT in severities:
        return Verdict.REJECTED
    if Severity.FLAG in severities:
        return Verdict.FLAGGED
    return Verdict.VALID


def _clean(registers: Sequence[RegisterSample]) -> tuple[list[Reading], list[Reason]]:
    """Sort by station time, drop repeats; on a conflict trust the later-received value."""
    groups: dict[datetime, list[tuple[datetime, int, RegisterSample]]] = {}
    for index, sample in enumerate(registers):
        groups.setdefault(sample.sampled_at, []).append((sample.received_at, index, sample))
    reasons: list[Reason] = []
    duplicates = 0
    kept: list[Reading] = []
    for at, group in groups.items():
        winner = max(group, key=lambda entry: entry[:2])[2]
        values = sorted({entry[2].wh for entry in group})
        duplicates += len(group) - len(values)
        if len(values) > 1:
            reasons.append(
                _flag(
                    "conflicting_samples",
                    f"Register samples at {at.isoformat()} disagree ({', '.join(map(str, values))}"
                    f" Wh); kept the later-received {winner.wh} Wh.",
                )
            )
        kept.append(Reading(at, winner.wh))
    kept.sort(key=lambda reading: reading.at)
    if duplicates:
        reasons.append(
            Reason("duplicate_samples", Severity.INFO, f"Dropped {duplicates} duplicate sample(s).")
        )
    if any(b.sampled_at < a.sampled_at for a, b in pairwise(registers)):
        reasons.append(
            Reason(
                "out_of_order_samples",
                Severity.INFO,
                f"Sorted {len(kept)} register samples received out of time order.",
            )
        )
    return kept, reasons


def _transaction_ends(session: MeterSession) -> tuple[Reading | None, Reading | None]:
    """The transaction-level start and stop values; a stop value needs a stop time to place it."""
    start = stop = None
    if session.meter_start_wh is not None:
        start = Reading(session.started_at, session.meter_start_wh)
    if session.stopped_at is not None and session.meter_stop_wh is not None:
        stop = Reading(session.stopped_at, session.meter_stop_wh)
    return start, stop


def _series(session: MeterSession, samples: Sequence[Reading]) -> list[Reading] | None:
    """Start reading, register readings between, stop (or latest) reading; None if no two ends.

    Samples within a second of a transaction-level end are that end's Begin/End samples: the
    transaction value stands for that moment and the samples are compared by _agreement instead.
    """
    start, stop = _transaction_ends(session)
    inner = [
        s
        for s in samples
        if (start is None or s.at > start.at + _NEAR) and (stop is None or s.at < stop.at - _NEAR)
    ]
    if start is None and inner:
        start = inner.pop(0)
    if stop is None and inner:
        stop = inner.pop()
    if start is None or stop is None:
        return None
    return [start, *inner, stop]


def _rollover_limit(previous: int, new: int) -> int | None:
    """L when previous is in the top 10% of the next power of ten L and new in its bottom 10%."""
    limit = next((lim for lim in _ROLLOVER_LIMITS if lim > previous), None)
    if limit is not None and previous * 10 >= limit * 9 and new * 10 < limit:
        return limit
    return None


def _unwrap(raw: Sequence[Reading]) -> tuple[tuple[Reading, ...], list[Reason]]:
    """Correct rollovers (add L from the wrap on) and name every drop that is not one."""
    reasons: list[Reason] = []
    offset = 0
    out = [raw[0]]
    for previous, new in pairwise(raw):
        if new.wh < previous.wh:
            limit = _rollover_limit(previous.wh, new.wh)
            figures = f"from {previous.wh} Wh to {new.wh} Wh at {new.at.isoformat()}"
            if limit is not None:
                offset += limit
                # Looks like a wrap, but the register's capacity is not known for sure and a
                # meter swap looks the same: a person decides (approving bills the unwrapped
                # series). Never bill on a guess.
                reasons.append(
                    _reject(
                        "register_rollover",
                        f"The register looks rolled over at {limit} Wh ({figures}); unwrapped, "
                        "the session is approvable from the review queue.",
                    )
                )
            elif new.wh < _RESET_MAX_WH and new.wh * 100 < previous.wh:
                reasons.append(_reject("register_reset", f"The register reset {figures}."))
            elif len(raw) > 2:  # with two readings the same fact is stop_before_start
                reasons.append(_reject("register_decreased", f"The register decreased {figures}."))
        out.append(Reading(new.at, new.wh + offset))
    return tuple(out), reasons


def _closest(samples: Sequence[Reading], at: datetime) -> Reading | None:
    near = [s for s in samples if abs(s.at - at) <= _NEAR]
    return min(near, key=lambda s: abs(s.at - at), default=None)


def _agreement(
    session: MeterSession,
    samples: Sequence[Reading],
    raw: Sequence[Reading],
    energy: int,
    policy: MeteringPolicy,
) -> list[Reason]:
    """Transaction values vs Begin/End register samples, and register delta vs interval sum."""
    reasons: list[Reason] = []
    start, stop = _transaction_ends(session)
    if start is not None and stop is not None:
        first, last = _closest(samples, start.at), _closest(samples, stop.at)
        if first is not None and last is not None and first != last:
            chain, _ = _unwrap([first, *raw[1:-1], last])
            span = chain[-1].wh - chain[0].wh
            tolerance = 2 * policy.wh_per_sample_tolerance  # the two register samples
            if abs(energy - span) > tolerance:
                reasons.append(
                    _flag(
                        "energy_mismatch",
                        f"The transaction's stop - start values give {energy} Wh but the register "
                        f"samples at start and stop span {span} Wh (tolerance {tolerance} Wh).",
                    )
                )
    if session.intervals:
        total = sum(interval.wh for interval in session.intervals)
        tolerance = len(session.intervals) * policy.wh_per_sample_tolerance
        if abs(energy - total) > tolerance:
            reasons.append(
                _flag(
                    "energy_mismatch",
                    f"The register delta is {energy} Wh but the {len(session.intervals)} "
                    f"interval samples sum to {total} Wh (tolerance {tolerance} Wh).",
                )
            )
    return reasons


def _conflict_reasons(
    conflicts: Sequence[RegisterConflict], readings: Sequence[Reading]
) -> list[Reason]:
    """A moment with two register values: flagged; rejected when the moment is an end of the
    billed series, since the bill then depends on which value is right."""
    ends = (readings[0].at, readings[-1].at) if readings else ()
    reasons: list[Reason] = []
    seen: set[tuple[datetime, int | None, int | None]] = set()
    for conflict in sorted(conflicts, key=lambda c: c.sampled_at):
        key = (conflict.sampled_at, conflict.stored_wh, conflict.other_wh)
        if conflict.stored_wh == conflict.other_wh or key in seen:
            continue  # the same energy in another unit, or the same conflict twice
        seen.add(key)
        at = conflict.sampled_at
        figures = (
            f"The register at {at.isoformat()} was reported as {_wh(conflict.stored_wh)} and "
            f"again as {_wh(conflict.other_wh)}"
        )
        if any(abs(at - end) <= _NEAR for end in ends):
            message = f"{figures}; it is an end of the billed series, so the energy is in doubt."
            reasons.append(_reject("conflicting_samples", message))
        else:
            message = f"{figures}; the first-stored value is kept, the energy does not change."
            reasons.append(_flag("conflicting_samples", message))
    return reasons


def _wh(value: int | None) -> str:
    return "an unreadable value" if value is None else f"{value} Wh"


def _rating(
    session: MeterSession, last_at: datetime, energy: int, policy: MeteringPolicy
) -> list[Reason]:
    """Energy above rated power x duration x (1 + tolerance) cannot have been delivered."""
    if session.rated_power_w is None or energy <= 0:
        return []
    end = session.stopped_at if session.stopped_at is not None else last_at
    duration = max(end - session.started_at, timedelta(0))
    if not duration:
        message = f"{energy} Wh was recorded over a session of zero duration."
        return [_reject("energy_exceeds_rating", message)]
    hours = Fraction(duration // _MICROSECOND, 3_600_000_000)
    limit = session.rated_power_w * hours * (1 + Fraction(policy.power_tolerance))
    if energy <= limit:
        return []
    shown = (Decimal(limit.numerator) / Decimal(limit.denominator)).quantize(Decimal("0.1"))
    return [
        _reject(
            "energy_exceeds_rating",
            f"{energy} Wh exceeds the {shown} Wh that {session.rated_power_w} W can deliver in "
            f"{_seconds(duration)} s with {policy.power_tolerance * 100}% tolerance.",
        )
    ]


def _clock_skew(session: MeterSession) -> timedelta | None:
    """Station clock offset, bounded by live messages (network lag is never negative)."""
    pairs = [(m.station_at, m.received_at) for m in session.messages if not m.offline]
    # One message may carry a batch (1.6 StopTransaction transactionData): only its newest
    # sample says anything about the clock; older ones are old, not skewed.
    newest: dict[datetime, datetime] = {}
    for sample in session.registers:
        if not sample.offline:
            seen = newest.get(sample.received_at)
            if seen is None or sample.sampled_at > seen:
                newest[sample.received_at] = sample.sampled_at
    pairs += [(station_at, received_at) for received_at, station_at in newest.items()]
    if not pairs:
        return None
    ahead = max(station_at - received_at for station_at, received_at in pairs)
    if ahead > timedelta(0):
        return ahead
    behind = min(received_at - station_at for station_at, received_at in pairs)
    return -behind


def _skew_reasons(skew: timedelta | None, policy: MeteringPolicy) -> list[Reason]:
    if skew is None or abs(skew) <= policy.max_clock_skew:
        return []
    direction = "ahead of" if skew > timedelta(0) else "behind"
    return [
        _flag(
            "clock_skew",
            f"The station clock is {_seconds(abs(skew))} s {direction} the CSMS clock (limit "
            f"{_seconds(policy.max_clock_skew)} s), which shifts energy across tariff bands.",
        )
    ]


def _certificate_reasons(session: MeterSession, policy: MeteringPolicy) -> list[Reason]:
    """A certificate is valid through its expiry date, a local calendar date."""
    certificate = session.certificate
    local_day = session.started_at.astimezone(ZoneInfo(policy.time_zone)).date()
    if certificate is None or certificate.expires_on >= local_day:
        return []
    return [
        _flag(
            "meter_certificate_expired",
            f"Meter verification certificate {certificate.number} expired on "
            f"{certificate.expires_on.isoformat()}, before the session started.",
        )
    ]


def _seconds(duration: timedelta) -> Decimal:
    return Decimal(duration // _MICROSECOND) / Decimal(1_000_000)
