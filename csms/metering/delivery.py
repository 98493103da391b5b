"""Queued or live: data stamped before the connection it arrived on opened was queued.

A charger that was offline replays its queue after reconnecting, with the old timestamps; the
receipt lag of such data is the outage, not clock skew. 1.6 has no `offline` flag, so the
connection history is the evidence.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime


def arrived_on(connected: Sequence[datetime], received_at: datetime) -> datetime | None:
    """When the connection that `received_at` falls in opened: the latest opening at or before
    it (`connected` is sorted); None when no connection is known then."""
    index = bisect_right(connected, received_at)
    return connected[index - 1] if index else None


def queued(connected: Sequence[datetime], station_at: datetime, received_at: datetime) -> bool:
    """True when the station stamped the data before its connection opened (sorted `connected`).

    Unknown connections say nothing, so such data counts as live (the rules then see its lag).
    """
    opened = arrived_on(connected, received_at)
    return opened is not None and station_at < opened
