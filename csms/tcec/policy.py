"""A T/CEC business policy (PolicyInfos, as platforms publish prices) -> our tariff bands (pure).

Operators often receive a price table in the T/CEC shape; importing it avoids retyping. Both
spellings of the service price (`SevicePrice`, `ServicePrice`) are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from csms.tcec.codes import PushDataError
from csms.tcec.messages import decimal_of, service_price

_START = re.compile(r"^([01]\d|2[0-3])([0-5]\d)00$")
# distinct price pairs, dearest first, named by how many there are
_BANDS = {
    1: ("flat",),
    2: ("peak", "valley"),
    3: ("peak", "flat", "valley"),
    4: ("sharp", "peak", "flat", "valley"),
}


def tariff_definition(policy: Mapping[str, Any]) -> dict[str, Any]:
    """{"prices": {band: {"energy", "service"}}, "plans": [{"periods": [...]}]} for one day
    plan that applies every day; PushDataError names what does not fit."""
    infos = policy.get("PolicyInfos")
    if not isinstance(infos, list) or not infos:
        raise PushDataError("PolicyInfos must be a non-empty list")
    declared = policy.get("SumPeriod")
    if declared is not None and declared != len(infos):
        raise PushDataError(f"SumPeriod is {declared} but PolicyInfos has {len(infos)} entries")
    starts: list[int] = []
    pairs: list[tuple[Decimal, Decimal]] = []
    for i, info in enumerate(infos):
        if not isinstance(info, Mapping):
            raise PushDataError(f"PolicyInfos[{i}] is not an object")
        start = info.get("StartTime")
        match = _START.match(start) if isinstance(start, str) else None
        if match is None:
            raise PushDataError(f"PolicyInfos[{i}].StartTime must be HHmm00 (whole minutes)")
        minute = int(match[1]) * 60 + int(match[2])
        if (i == 0 and minute != 0) or (starts and minute <= starts[-1]):
            raise PushDataError("PolicyInfos must start at 000000 and run forward through the day")
        starts.append(minute)
        pairs.append(
            (decimal_of(info.get("ElecPrice"), f"PolicyInfos[{i}].ElecPrice"), service_price(info))
        )
    distinct = sorted(set(pairs), key=lambda p: (p[0] + p[1], p[0]), reverse=True)
    if len(distinct) > 4:
        raise PushDataError(
            f"{len(distinct)} different price pairs; a tariff has at most four bands "
            "(sharp, peak, flat, valley)"
        )
    band_of = dict(zip(distinct, _BANDS[len(distinct)], strict=True))
    periods = [
        {
            "start": _hhmm(start),
            "end": _hhmm(starts[i + 1]) if i + 1 < len(starts) else "24:00",
            "band": band_of[pair],
        }
        for i, (start, pair) in enumerate(zip(starts, pairs, strict=True))
    ]
    return {
        "prices": {
            band: {"energy": str(energy), "service": str(service)}
            for (energy, service), band in band_of.items()
        },
        "plans": [{"periods": periods}],
    }


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
