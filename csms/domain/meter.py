"""Meter samples as the CSMS stores them, and the energy-register reading rules."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

ENERGY_REGISTER = "Energy.Active.Import.Register"
# Both versions default a sampled value's measurand to the import register, in Wh.
DEFAULT_MEASURAND = ENERGY_REGISTER
DEFAULT_CONTEXT = "Sample.Periodic"

_ENERGY_SCALE = {"Wh": Decimal(1), "kWh": Decimal(1000)}
# No real meter reads beyond 10^15 (a petawatt-hour) or finer than 10^-9 of a unit: a value
# outside is a broken station, and is kept as text instead of being stored as a number.
_MAX_ADJUSTED_EXPONENT = 15
_MIN_ADJUSTED_EXPONENT = -9


def reading(text: str, multiplier: int | float = 0) -> Decimal | None:
    """A sampled value as a number, or None when it is not a plausible finite reading.

    A float multiplier is an integer as JSON wrote it (2.0, or beyond 64 bits, which the
    parser reads as a float): a whole one is used as such."""
    if type(multiplier) is not int:
        if not (isinstance(multiplier, float) and multiplier.is_integer()):
            return None
        if abs(multiplier) > _MAX_ADJUSTED_EXPONENT - _MIN_ADJUSTED_EXPONENT:
            return None  # no plausible reading is scaled this far
        multiplier = int(multiplier)
    try:
        value = Decimal(text).scaleb(multiplier)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite():
        return None
    if value and not _MIN_ADJUSTED_EXPONENT <= value.adjusted() <= _MAX_ADJUSTED_EXPONENT:
        return None
    return value


class Sample(NamedTuple):
    """One sampled value at one moment, kept as the station reported it (where is kept apart).

    `value` is None when the station sent no number (1.6 SignedData, unparsable text): the text is
    then kept verbatim in `raw_value`, never guessed. `signed_data` keeps a 2.0.1
    signedMeterValue object verbatim.
    """

    sampled_at: datetime
    measurand: str
    value: Decimal | None
    unit: str = ""
    phase: str = ""
    location: str = ""
    context: str = ""
    raw_value: str | None = None
    signed_data: dict[str, Any] | None = None


def energy_wh(sample: Sample) -> int | None:
    """The sample as whole Wh when it is an energy reading in Wh or kWh, else None."""
    scale = _ENERGY_SCALE.get(sample.unit or "Wh")
    if sample.value is None or scale is None:
        return None
    return int((sample.value * scale).to_integral_value(rounding=ROUND_HALF_UP))


def register_readings(samples: list[Sample]) -> list[tuple[datetime, int]]:
    """The import energy register (Wh) at each sampled moment that reports it, in time order.

    Only the whole-meter reading counts: phase-split registers are ignored.
    """
    readings = [
        (s.sampled_at, wh)
        for s in samples
        if s.measurand == ENERGY_REGISTER and not s.phase and (wh := energy_wh(s)) is not None
    ]
    readings.sort(key=lambda r: r[0])
    return readings


def register_wh(samples: list[Sample], *, last: bool) -> int | None:
    """The import energy register (Wh) at the first or last sampled moment that reports it."""
    readings = register_readings(samples)
    if not readings:
        return None
    return readings[-1][1] if last else readings[0][1]
