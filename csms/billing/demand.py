"""Peak 15-minute demand of a site, from its EVSEs' register readings (two-part tariff report)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from csms.billing.pricing import Timed, allocate
from csms.billing.tariff import Band, Segment

WINDOW = timedelta(minutes=15)
_WINDOWS_PER_HOUR = Decimal(4)


@dataclass(frozen=True, slots=True)
class DemandPeak:
    window_start: datetime | None
    energy_wh: int  # delivered by the whole site in the peak window
    demand_kw: Decimal  # average power over the peak window


def _window_start(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def window_energy(readings: Sequence[Timed]) -> dict[datetime, int]:
    """Whole Wh per 15-minute window for one EVSE, split by time between readings."""
    if len(readings) < 2:
        return {}
    first, last = _window_start(readings[0].at), readings[-1].at
    spans: list[Segment] = []
    cursor = first
    while cursor < last:
        spans.append(Segment(max(cursor, readings[0].at), min(cursor + WINDOW, last), Band.FLAT))
        cursor += WINDOW
    out: dict[datetime, int] = {}
    for series in runs(readings):
        _add(out, series, spans)
    return out


def runs(readings: Sequence[Timed]) -> list[list[Timed]]:
    """Split at every decrease (meter swap, reset): a drop is never energy, either way."""
    out: list[list[Timed]] = []
    for reading in readings:
        if not out or reading.wh < out[-1][-1].wh:
            out.append([])
        out[-1].append(reading)
    return out


def energy_wh(readings: Sequence[Timed]) -> int:
    """Energy through a register that may have been reset or swapped: the sum of its runs."""
    return sum(run[-1].wh - run[0].wh for run in runs(readings))


def metered(per_evse: dict[tuple[str, int], list[Timed]]) -> list[list[Timed]]:
    """The series that measure a site without double counting: each station's EVSE meters,
    or its station meter (EVSE 0) only when it reports no EVSE of its own."""
    with_evses = {station for station, evse in per_evse if evse > 0}
    return [
        readings
        for (station, evse), readings in sorted(per_evse.items())
        if evse > 0 or station not in with_evses
    ]


def _add(out: dict[datetime, int], series: Sequence[Timed], spans: Sequence[Segment]) -> None:
    if len(series) < 2:
        return
    lo, hi = series[0].at, series[-1].at
    inside = [s for s in spans if s.end > lo and s.start < hi] or [
        s for s in spans if s.start <= lo <= s.end
    ][:1]
    clipped = [Segment(max(s.start, lo), min(s.end, hi), s.band) for s in inside]
    for span, wh in zip(clipped, allocate(series, clipped), strict=True):
        key = _window_start(span.start)
        out[key] = out.get(key, 0) + wh


def peak(per_evse: Sequence[Sequence[Timed]]) -> DemandPeak:
    """The site's busiest 15-minute window across all its EVSEs."""
    total: dict[datetime, int] = {}
    for readings in per_evse:
        for window, wh in window_energy(readings).items():
            total[window] = total.get(window, 0) + wh
    if not total:
        return DemandPeak(None, 0, Decimal("0.00"))
    window, wh = max(total.items(), key=lambda item: (item[1], -item[0].timestamp()))
    kw = (Decimal(wh) / 1000 * _WINDOWS_PER_HOUR).quantize(Decimal("0.01"))
    return DemandPeak(window, wh, kw)
