"""When did the vehicle stop charging? The start of the idle (占位) period of a session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from csms.billing.pricing import Timed

# States (2.0.1 chargingState, 1.6 connector status) that mean energy is flowing.
CHARGING = frozenset({"Charging"})
# States that mean the vehicle stopped drawing while still plugged in. SuspendedEVSE is not
# here: when the station or grid pauses charging, the driver is not the one occupying it.
EV_DONE = frozenset({"SuspendedEV", "EVConnected", "Idle", "Finishing"})


def charging_ended_at(
    states: Sequence[tuple[datetime, str]],
    readings: Sequence[Timed],
    stopped_at: datetime,
) -> datetime | None:
    """The moment the vehicle stopped charging for good, or None if it charged to the end.

    Reported states decide when there are any: the first EV-side pause after the last
    `Charging`. Without states, the meter decides: the time of the first reading at the
    final register value, when later readings show it no longer moved.
    """
    relevant = sorted((at, state) for at, state in states if at <= stopped_at)
    if any(state in CHARGING | EV_DONE for _, state in relevant):
        last_charging = max((at for at, state in relevant if state in CHARGING), default=None)
        for at, state in relevant:
            if state in EV_DONE and (last_charging is None or at >= last_charging):
                return at
        return None
    if len(readings) < 3:
        return None  # start and stop alone cannot tell when charging stopped
    final = readings[-1].wh
    plateau = None
    for reading in reversed(readings):
        if reading.wh != final:
            break
        plateau = reading.at
    if plateau is None or plateau >= readings[-1].at:
        return None
    return plateau
