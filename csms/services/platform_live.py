"""Live charging data for monitoring platforms: the latest state of every running session,
queued per platform on its interval (T/CEC 102.4 notification_equip_charge_status) and read
the same way when a platform asks (query_equip_charge_status).

Nothing here runs per OCPP message: a round reads every open session with its latest samples
in one query, prices each session so far as its bill will be (BillingService.running_cost),
and replaces each connector's unsent live record (OutboxStore.replace_live).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from csms.clock import monotonic, utcnow
from csms.domain.meter import Sample
from csms.services.billing import BillingService
from csms.store.platform_facts import PlatformFactsStore
from csms.store.platform_outbox import LiveRecord, OutboxStore
from csms.tcec import codes
from csms.tcec.live import MEASURANDS, bill_data, live_facts
from csms.tcec.messages import dumps

log = logging.getLogger(__name__)

# Platforms whose rounds fall within this many seconds share one pricing of a session, as long
# as no newer sample arrived meanwhile.
PRICE_REUSE = 5.0


def sessions_of(rows: Sequence[Mapping[str, Any]]) -> list[tuple[dict[str, Any], list[Sample]]]:
    """Rows of PlatformFactsStore.live_sessions (a row per latest sample) -> each session with
    its samples (pure)."""
    out: dict[int, tuple[dict[str, Any], list[Sample]]] = {}
    for row in rows:
        entry = out.get(row["transaction_id"])
        if entry is None:
            entry = out[row["transaction_id"]] = (dict(row), [])
        if row["measurand"] is not None:
            entry[1].append(
                Sample(
                    sampled_at=row["sampled_at"],
                    measurand=row["measurand"],
                    value=row["value"],
                    unit=row["unit"],
                    phase=row["phase"],
                    location=row["location"],
                )
            )
    return list(out.values())


def connector_status(session: Mapping[str, Any]) -> int:
    """The T/CEC code of the session's connector now: what it reported, read with the 2.0.1
    charging state; a connector that reported nothing yet is charging (3) while its station is
    connected, else offline (0)."""
    connected = bool(session["connected"])
    reported = session.get("connector_status")
    if reported is not None:
        try:
            return codes.status_code(
                reported, connected=connected, charging_state=session.get("charging_state")
            )
        except ValueError:
            pass
    return codes.CHARGING if connected else codes.OFFLINE


class LiveCharging:
    def __init__(
        self, facts: PlatformFactsStore, outbox: OutboxStore, billing: BillingService
    ) -> None:
        self._facts = facts
        self._outbox = outbox
        self._billing = billing
        # transaction id -> (when priced, the latest sample then, the bill)
        self._bills: dict[int, tuple[float, datetime | None, dict[str, Any] | None]] = {}

    async def facts(self, transaction_id: int | None = None) -> list[dict[str, Any]]:
        """`live_facts` of every open session at a reported pile (or of one session, priced
        afresh: a platform's query must not see a figure from before the session's end)."""
        rows = await self._facts.live_sessions(MEASURANDS, transaction_id)
        now = utcnow()
        self._forget_old_bills()
        out = []
        for session, samples in sessions_of(rows):
            latest = max((s.sampled_at for s in samples), default=None)
            bill = await self._bill(
                session["transaction_id"], latest, fresh=transaction_id is not None
            )
            status = connector_status(session)
            out.append(live_facts(session, samples, bill, status=status, now=now))
        return out

    async def current(self, transaction_id: int) -> dict[str, Any] | None:
        """One session's live facts (ended ones too), None when no platform may see it."""
        found = await self.facts(transaction_id)
        return found[0] if found else None

    async def queue(self, platform_id: str, now: datetime) -> int:
        """One round for one platform: each running session's live record replaces its
        connector's unsent one. Rows queued."""
        records = [
            LiveRecord(
                station_id=f["station_id"],
                evse_id=int(f["evse_id"]),
                connector_id=int(f["connector_id"] or 1),
                transaction_id=int(f["transaction_id"]),
                data=dumps(f),
            )
            for f in await self.facts()
        ]
        return await self._outbox.replace_live(platform_id, records, now) if records else 0

    async def _bill(
        self, transaction_id: int, latest: datetime | None, *, fresh: bool
    ) -> dict[str, Any] | None:
        """The session's bill so far, None when it cannot be priced yet (never a guess)."""
        cached = self._bills.get(transaction_id)
        if (
            not fresh
            and cached is not None
            and cached[1] == latest
            and monotonic() - cached[0] < PRICE_REUSE
        ):
            return cached[2]
        try:
            priced = await self._billing.running_cost(transaction_id)
        except Exception:  # one session that cannot be priced must not stop the others
            log.exception("live data: pricing transaction %s failed", transaction_id)
            priced = None
        bill = None if priced is None else bill_data(priced.bill)
        self._bills[transaction_id] = (monotonic(), latest, bill)
        return bill

    def _forget_old_bills(self) -> None:
        now = monotonic()
        for transaction_id in [t for t, c in self._bills.items() if now - c[0] >= PRICE_REUSE]:
            del self._bills[transaction_id]
